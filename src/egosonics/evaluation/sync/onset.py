"""Onset metrics between generated and ground-truth audio: CondFoleyGen's onset accuracy and AP (Du et al.,
CVPR 2023, ``predict_onset.py``; EVALUATION.md §4.5) plus an onset F1 with mir_eval-style matching.

Higher is better for all of them (1 at best):

    count_acc  mean over clips of [#GT onsets == #generated onsets] (raw counts, before NMS): the paper's "Onset Acc."
    hit_acc    hits / #GT onsets, a hit being a generated onset within ``hit_window_s`` (strict <) of a GT onset
    ap         sklearn-style average precision of the hit/miss list scored by the generated audio's loudness
    f1         F-measure of a maximum one-to-one matching with |Δt| ≤ ``f1_window_s`` (mir_eval.onset.f_measure)

Detection (``OnsetConfig``, tunable; defaults are the reference's): audio at 22,050 Hz,
``librosa.onset.onset_detect(y, sr, units="samples", delta=0.3)`` (librosa's other defaults: hop 512, so onsets are
quantised to 23.2 ms). Matching follows ``eval_osnets`` step by step, including its quirks, kept so that numbers
match the published ones:

- generated onsets first go through NMS (highest confidence first, dropping others within 0.05 s). The reference
  removes from the list it is iterating over, which skips the onset after each removed one; we do the same;
- a GT onset with no generated onset in its window adds (y_true 1, y_score 0); when the generated onsets run out the
  loop stops, so later GT onsets add nothing to the AP list (they still count as misses in ``hit_acc``);
- leftover generated onsets add (y_true 0, y_score confidence).

Deviations, both where the reference fails: the ±0.05 s confidence window is clipped at the start of the audio (the
reference's negative slice start reads an empty or wrong slice and raises), and silent generated audio gets confidence
0 instead of 0/0. Edge cases: no GT onsets gives hit_acc 0 (reference) and ap NaN (no positives; skipped in means);
F1 is 0 when either side has no onsets (mir_eval).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from egosonics.evaluation._deps import require_librosa
from egosonics.evaluation.base import Metric, nan_mean
from egosonics.evaluation.sync.av_align import LIBROSA_SAMPLE_RATE, onset_envelope, to_librosa_rate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnsetConfig:
    """Onset detection and matching settings (CondFoleyGen defaults; a later issue tunes them).

    Attributes:
        delta: librosa ``onset_detect`` peak-picking threshold on the [0, 1]-normalised envelope (librosa default 0.07).
        hit_window_s: a generated onset hits a GT onset when |Δt| < this (``--delta`` of predict_onset.py).
        nms_window_s: NMS drops generated onsets closer than this to a more confident one.
        confidence_window_s: confidence = max of the normalised |waveform| within ± this of the onset.
        f1_window_s: matching window of the onset F1 (|Δt| ≤ this).
    """

    delta: float = 0.3
    hit_window_s: float = 0.1
    nms_window_s: float = 0.05
    confidence_window_s: float = 0.05
    f1_window_s: float = 0.05

    def __post_init__(self) -> None:
        for name in ("delta", "hit_window_s", "nms_window_s", "confidence_window_s", "f1_window_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and ≥ 0, got {value!r}")


DEFAULT_ONSET_CONFIG = OnsetConfig()


def detect_onsets(waveform: np.ndarray | None, sample_rate: int = LIBROSA_SAMPLE_RATE, *,
                  delta: float = DEFAULT_ONSET_CONFIG.delta, envelope: np.ndarray | None = None) -> np.ndarray:
    """Onset positions in samples at 22,050 Hz [K] int64 (resampled first when ``sample_rate`` differs):
    ``librosa.onset.onset_detect(y, sr=22050, units="samples", delta=delta)``, computed from a precomputed
    ``onset_envelope`` when given (the same envelope ``onset_detect`` computes itself)."""
    librosa = require_librosa()
    env = onset_envelope(waveform, sample_rate) if envelope is None else envelope
    if len(env) == 0:
        return np.zeros(0, np.int64)
    onsets = librosa.onset.onset_detect(onset_envelope=env, sr=LIBROSA_SAMPLE_RATE, units="samples", delta=delta)
    return np.asarray(onsets, dtype=np.int64)


def onset_times(waveform: np.ndarray | None, sample_rate: int = LIBROSA_SAMPLE_RATE, *,
                delta: float = DEFAULT_ONSET_CONFIG.delta, envelope: np.ndarray | None = None) -> np.ndarray:
    """``detect_onsets`` in seconds [K] float64 (its samples are counted at 22,050 Hz whatever ``sample_rate``)."""
    return detect_onsets(waveform, sample_rate, delta=delta, envelope=envelope) / LIBROSA_SAMPLE_RATE


def onset_nms(onsets: np.ndarray, confidence: np.ndarray, window: float) -> np.ndarray:
    """CondFoleyGen's ``onset_nms`` (window in samples): keep the most confident onset, drop the others closer than
    ``window``, repeat; returns the kept onsets sorted."""
    onsets = np.asarray(onsets)
    remain = onsets.tolist()
    output = []
    for idx in np.argsort(np.asarray(confidence))[::-1]:
        cur = onsets[idx]
        if cur not in remain:
            continue
        output.append(cur)
        remain.remove(cur)
        # The reference loops `for o in onset_remain: ... onset_remain.remove(o)`: every removal shifts the list under
        # the iterator, so the element after a removed one is not examined. Reproduced explicitly.
        i = 0
        while i < len(remain):
            if abs(cur - remain[i]) < window:
                del remain[i]
            i += 1
    return np.array(sorted(output), dtype=np.int64)


def average_precision(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """sklearn's ``average_precision_score`` for binary labels: Σ_k (R_k − R_{k−1}) P_k over the distinct scores in
    decreasing order. NaN when there are no positives."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.shape != y_score.shape or y_true.ndim != 1:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} must be 1-D of the same length")
    if y_true.sum() == 0:
        return math.nan
    order = np.argsort(y_score, kind="mergesort")[::-1]
    scores, labels = y_score[order], y_true[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tps = np.cumsum(labels)[last_of_each_score]
    fps = 1 + last_of_each_score - tps
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(max(0.0, np.sum(np.diff(np.r_[0.0, recall]) * precision)))


@dataclass
class CondFoleyScores:
    """One clip's CondFoleyGen onset scores.

    Attributes:
        count_match: #GT onsets == #generated onsets (raw detections).
        hit_accuracy: hits / #GT onsets (0 when there are no GT onsets, as the reference).
        ap: average precision (NaN without GT onsets).
        hits: matched GT onsets.
        num_reference, num_generated, num_generated_nms: onset counts (the last after NMS).
    """

    count_match: bool
    hit_accuracy: float
    ap: float
    hits: int
    num_reference: int
    num_generated: int
    num_generated_nms: int


def condfoley_scores(reference_onsets: np.ndarray, generated_onsets: np.ndarray, generated: np.ndarray, *,
                     config: OnsetConfig = DEFAULT_ONSET_CONFIG,
                     sample_rate: int = LIBROSA_SAMPLE_RATE) -> CondFoleyScores:
    """CondFoleyGen's ``eval_osnets`` for one pair.

    Args:
        reference_onsets: GT onsets [K1] in samples at ``sample_rate``.
        generated_onsets: generated onsets [K2] in samples (raw, before NMS).
        generated: the generated waveform [n] at ``sample_rate`` (its loudness scores the onsets).
        config: windows.
    """
    ref = np.asarray(reference_onsets, dtype=np.int64)
    gen_raw = np.asarray(generated_onsets, dtype=np.int64)
    wav = np.abs(np.asarray(generated, dtype=np.float64))
    span = wav.max() - wav.min() if wav.size else 0.0
    wav = (wav - wav.min()) / span if span > 0 else np.zeros_like(wav)
    half = int(config.confidence_window_s * sample_rate)

    def confidence(o: int) -> float:
        window = wav[max(0, o - half):o + half]
        return float(window.max()) if window.size else 0.0

    gen = onset_nms(gen_raw, [confidence(o) for o in gen_raw], config.nms_window_s * sample_rate)
    unused = gen.tolist()
    hits = 0
    y_true: list[int] = []
    y_score: list[float] = []
    for o in ref:
        in_window = [i for i, g in enumerate(unused) if abs(g - o) < config.hit_window_s * sample_rate]
        y_true.append(1)
        if not in_window:
            y_score.append(0.0)
            continue
        # Among the candidates, the one where the generated audio is loudest (the reference's argsort(...)[-1]).
        best = in_window[int(np.argsort([wav[unused[i]] for i in in_window])[-1])]
        hits += 1
        y_score.append(confidence(unused[best]))
        del unused[best]
        if not unused:
            break
    for o in unused:
        y_true.append(0)
        y_score.append(confidence(o))
    return CondFoleyScores(
        count_match=len(ref) == len(gen_raw),
        hit_accuracy=hits / len(ref) if len(ref) else 0.0,
        ap=average_precision(np.array(y_true), np.array(y_score)) if y_true else math.nan,
        hits=hits, num_reference=len(ref), num_generated=len(gen_raw), num_generated_nms=len(gen))


def match_events(reference: np.ndarray, estimate: np.ndarray, window: float) -> list[tuple[int, int]]:
    """Maximum one-to-one matching of event times with |r − e| ≤ window (as mir_eval.util.match_events).

    For points on a line with one window width, matching greedily in time order is maximum: scan both sorted lists,
    drop an estimate that is too early for the current reference (and so for all later ones), drop a reference
    that has no estimate left in reach, otherwise pair them. Returns (reference index, estimate index) pairs.
    """
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)
    ref_order, est_order = np.argsort(ref, kind="stable"), np.argsort(est, kind="stable")
    pairs = []
    i = j = 0
    while i < len(ref) and j < len(est):
        r, e = ref[ref_order[i]], est[est_order[j]]
        if r > e + window:  # the estimate is too early for this reference and every later one
            j += 1
        elif r < e - window:  # no estimate left in reach of this reference
            i += 1
        else:
            pairs.append((int(ref_order[i]), int(est_order[j])))
            i += 1
            j += 1
    return pairs


@dataclass
class OnsetF1:
    """F-measure, precision, recall and match count of an onset matching."""

    f1: float
    precision: float
    recall: float
    matches: int


def onset_f1(reference_s: np.ndarray, estimate_s: np.ndarray, *, window_s: float = 0.05) -> OnsetF1:
    """mir_eval.onset.f_measure: precision = matches / |est|, recall = matches / |ref|, F = 2PR / (P + R); all 0 when
    either list is empty. Times in seconds."""
    if len(reference_s) == 0 or len(estimate_s) == 0:
        return OnsetF1(0.0, 0.0, 0.0, 0)
    matches = len(match_events(reference_s, estimate_s, window_s))
    precision, recall = matches / len(estimate_s), matches / len(reference_s)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return OnsetF1(f1, precision, recall, matches)


@dataclass
class OnsetRow:
    """One clip: CondFoleyGen scores, onset F1, and the onsets (samples at 22,050 Hz)."""

    condfoley: CondFoleyScores
    f1: OnsetF1
    reference_onsets: np.ndarray = field(repr=False)
    generated_onsets: np.ndarray = field(repr=False)


class OnsetMetrics(Metric):
    """Onset agreement of generated with ground-truth audio (module docstring). Higher is better for every number.

    ``compute()`` returns {"count_acc", "hit_acc", "ap", "f1", "precision", "recall", "n", "n_no_reference_onsets",
    "mean_reference_onsets", "mean_generated_onsets"} (means over clips; ``ap`` over clips with GT onsets).
    """

    higher_is_better = True

    def __init__(self, config: OnsetConfig = DEFAULT_ONSET_CONFIG) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self.rows: list[OnsetRow] = []

    def update(self, generated: np.ndarray, reference: np.ndarray, sample_rate: int, *,
               reference_onsets: np.ndarray | None = None, generated_envelope: np.ndarray | None = None) -> OnsetRow:
        """Score one (generated, GT) pair of mono waveforms [n]; ``reference_onsets`` (samples at 22,050 Hz, from
        ``detect_onsets`` with this config's delta) skips detecting the GT onsets again, ``generated_envelope`` (the
        generated audio's ``onset_envelope``) skips computing that."""
        gen = to_librosa_rate(generated, sample_rate)
        gen_onsets = detect_onsets(gen, delta=self.config.delta, envelope=generated_envelope)
        ref_onsets = (detect_onsets(reference, sample_rate, delta=self.config.delta) if reference_onsets is None
                      else np.asarray(reference_onsets, dtype=np.int64))
        scores = condfoley_scores(ref_onsets, gen_onsets, gen, config=self.config)
        f1 = onset_f1(ref_onsets / LIBROSA_SAMPLE_RATE, gen_onsets / LIBROSA_SAMPLE_RATE,
                      window_s=self.config.f1_window_s)
        row = OnsetRow(scores, f1, ref_onsets, gen_onsets)
        self.rows.append(row)
        return row

    def compute(self) -> dict[str, float | int]:
        if not self.rows:
            raise ValueError("no clips added: call update(generated, reference, sample_rate) first")
        cf = [r.condfoley for r in self.rows]
        return {
            "count_acc": float(np.mean([c.count_match for c in cf])),
            "hit_acc": float(np.mean([c.hit_accuracy for c in cf])),
            "ap": nan_mean(c.ap for c in cf),
            "f1": float(np.mean([r.f1.f1 for r in self.rows])),
            "precision": float(np.mean([r.f1.precision for r in self.rows])),
            "recall": float(np.mean([r.f1.recall for r in self.rows])),
            "n": len(self.rows),
            "n_no_reference_onsets": sum(c.num_reference == 0 for c in cf),
            "mean_reference_onsets": float(np.mean([c.num_reference for c in cf])),
            "mean_generated_onsets": float(np.mean([c.num_generated for c in cf])),
        }


# ------------------------------------------------------------------------------------------------ true events
def event_onsets(path: Path) -> np.ndarray:
    """True onset times (s) of a timeline JSON (``{"events": [{"onset_s": ...}, ...]}``)."""
    data = json.loads(path.read_text())
    return np.array(sorted(e["onset_s"] for e in data.get("events", []) if e.get("visible", True)), dtype=np.float64)


def event_scores(generated: np.ndarray, sample_rate: int, events_s: np.ndarray) -> dict[str, float]:
    """Onset hit accuracy (±0.1 s, CondFoleyGen) and onset F1 (±50 ms) against true event times."""
    wave = to_librosa_rate(generated, sample_rate)
    detected = detect_onsets(wave, 22_050)
    reference = np.round(events_s * 22_050).astype(np.int64)
    cf = condfoley_scores(reference, detected, wave)
    f1 = onset_f1(events_s, detected / 22_050)
    return {"event_hit_acc": cf.hit_accuracy, "event_f1": f1.f1, "event_precision": f1.precision,
            "event_recall": f1.recall}
