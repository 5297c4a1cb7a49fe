"""Real-footage synchronisation that can tell sync from chance: onsets pooled over clips, best lag, paired bootstrap.

Per-clip onset F1 on clips with 1–8 onsets is too noisy to separate a model from a random soundtrack, so:

    pooled onset F1   hits, estimated onsets and reference onsets are summed over clips before P, R and F1
                      (``onset_f1``'s one-to-one matching, |Δt| ≤ ``window_s``); onsets in each clip's first
                      ``skip_start_s`` are left out of both lists (a recording's start reads as an onset almost
                      everywhere, a generated track's too)
    best lag          the lag k (±``max_lag_s``) maximising Σ_t r[t] · e[t + k] of the mean-removed onset-strength
                      envelopes (librosa, hop 512 at 22,050 Hz: 23.2 ms steps) after the first ``skip_start_s``;
                      positive = the estimate is late. A flat envelope (silence) has no lag (NaN, counted as a miss)
    lag share         share of clips whose |best lag| ≤ ``lag_tolerance_s`` (chance ≈ 2 · 0.1 / 4 = 5 %)
    paired bootstrap  resample clips with replacement (the same draw for both systems), recompute the pooled F1
                      (and lag share) of each, take the 2.5 and 97.5 percentiles of the difference

Onsets are detected as everywhere else (``sync.onset.detect_onsets``: librosa ``onset_detect``, delta 0.3).
``PooledSync`` collects systems clip by clip and returns the report section (``compute``); ``markdown`` renders it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from egosonics.evaluation.sync.av_align import LIBROSA_SAMPLE_RATE, onset_envelope
from egosonics.evaluation.sync.onset import match_events, onset_times

ENVELOPE_RATE = LIBROSA_SAMPLE_RATE / 512  # onset-strength frames per second


@dataclass(frozen=True)
class PooledConfig:
    """Settings of the pooled metrics (module docstring).

    Attributes:
        window_s: onset matching window (|Δt| ≤ this).
        skip_start_s: onsets before this time are left out, and envelopes start here.
        max_lag_s: the best lag is searched within ± this.
        lag_tolerance_s: a clip counts as in sync when |best lag| ≤ this.
        bootstrap: resamples of the paired bootstrap.
        seed: the bootstrap's random seed.
        chance: the reference row the differences are taken against (when present).
    """

    window_s: float = 0.05
    skip_start_s: float = 0.25
    max_lag_s: float = 2.0
    lag_tolerance_s: float = 0.1
    bootstrap: int = 2000
    seed: int = 0
    chance: str = "other-clip"

    def __post_init__(self) -> None:
        for name in ("window_s", "skip_start_s", "max_lag_s", "lag_tolerance_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and ≥ 0, got {value!r}")
        if self.bootstrap < 1:
            raise ValueError(f"bootstrap must be ≥ 1, got {self.bootstrap}")


DEFAULT_POOLED = PooledConfig()


# ----------------------------------------------------------------------------------------------- onsets
def after_start(onsets_s: np.ndarray, skip_start_s: float) -> np.ndarray:
    """The onsets at or after ``skip_start_s`` (seconds)."""
    onsets_s = np.asarray(onsets_s, dtype=np.float64)
    return onsets_s[onsets_s >= skip_start_s]


@dataclass(frozen=True)
class OnsetCounts:
    """One clip's onset matching: hits (matched pairs), estimated and reference onsets, after the start is cut."""

    hits: int
    n_estimated: int
    n_reference: int

    @property
    def f1(self) -> float:
        return pooled_f1([self])["f1"]


def onset_counts(reference_s: np.ndarray, estimate_s: np.ndarray, *,
                 config: PooledConfig = DEFAULT_POOLED) -> OnsetCounts:
    """Match one clip's onsets (seconds) one to one within ``window_s``, leaving out the first ``skip_start_s``."""
    ref = after_start(reference_s, config.skip_start_s)
    est = after_start(estimate_s, config.skip_start_s)
    hits = len(match_events(ref, est, config.window_s)) if len(ref) and len(est) else 0
    return OnsetCounts(hits=hits, n_estimated=len(est), n_reference=len(ref))


def pooled_f1(counts: list[OnsetCounts] | np.ndarray) -> dict[str, float]:
    """F1, precision and recall of hits, estimates and references summed over clips (0 where a sum is 0).

    ``counts`` is a list of ``OnsetCounts`` or an array [clips, 3] of (hits, n_estimated, n_reference)."""
    array = _as_array(counts)
    hits, n_est, n_ref = (float(v) for v in array.sum(0)) if len(array) else (0.0, 0.0, 0.0)
    precision = hits / n_est if n_est else 0.0
    recall = hits / n_ref if n_ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"f1": f1, "precision": precision, "recall": recall, "hits": int(hits), "n_estimated": int(n_est),
            "n_reference": int(n_ref)}


def _as_array(counts: list[OnsetCounts] | np.ndarray) -> np.ndarray:
    if isinstance(counts, np.ndarray):
        return counts.reshape(-1, 3).astype(np.int64)
    return np.array([(c.hits, c.n_estimated, c.n_reference) for c in counts], dtype=np.int64).reshape(-1, 3)


# ----------------------------------------------------------------------------------------------- lag
def best_lag(reference_env: np.ndarray, estimate_env: np.ndarray, *, frame_rate: float = ENVELOPE_RATE,
             max_lag_s: float = DEFAULT_POOLED.max_lag_s, skip_start_s: float = DEFAULT_POOLED.skip_start_s) -> float:
    """The lag in seconds (a multiple of 1 / ``frame_rate``) that best aligns ``estimate_env`` to ``reference_env``.

    Both envelopes [F] start at time 0; frames before ``skip_start_s`` are dropped. Maximises
    Σ_t r[t] · e[t + k] over |k| ≤ max_lag_s · frame_rate of the mean-removed envelopes (the sum over the frames
    both cover); positive k: the estimate is late by k frames. Ties go to the smallest |k|. NaN when either envelope
    is flat (no onset cue) or shorter than two frames.
    """
    skip = int(math.ceil(skip_start_s * frame_rate - 1e-9))
    ref = np.asarray(reference_env, dtype=np.float64)[skip:]
    est = np.asarray(estimate_env, dtype=np.float64)[skip:]
    n = min(len(ref), len(est))
    ref, est = ref[:n], est[:n]
    if n < 2 or np.ptp(ref) == 0 or np.ptp(est) == 0:
        return math.nan
    ref, est = ref - ref.mean(), est - est.mean()
    max_k = min(int(round(max_lag_s * frame_rate)), n - 1)
    lags = sorted(range(-max_k, max_k + 1), key=abs)  # ties: the smallest |k| first
    scores = [float(np.dot(ref[max(0, -k):n - max(0, k)], est[max(0, k):n - max(0, -k)])) for k in lags]
    return lags[int(np.argmax(scores))] / frame_rate


def lag_share(lags_s: np.ndarray, tolerance_s: float = DEFAULT_POOLED.lag_tolerance_s) -> float:
    """Share of clips with |lag| ≤ tolerance (plus half an envelope step of float slack); NaN lags are misses."""
    lags = np.asarray(lags_s, dtype=np.float64)
    if lags.size == 0:
        return math.nan
    return float(np.mean(np.abs(np.nan_to_num(lags, nan=np.inf)) <= tolerance_s + 1e-9))


# ----------------------------------------------------------------------------------------------- bootstrap
def paired_bootstrap(counts_a: np.ndarray, counts_b: np.ndarray, *, lags_a: np.ndarray | None = None,
                     lags_b: np.ndarray | None = None, config: PooledConfig = DEFAULT_POOLED) -> dict[str, Any]:
    """Pooled F1 (and lag share) of system a minus system b over the same clips, with paired bootstrap 95 % intervals.

    Args:
        counts_a, counts_b: [clips, 3] (hits, n_estimated, n_reference) per clip, rows in the same clip order.
        lags_a, lags_b: [clips] best lags (s), optional.
    Returns:
        {"f1": difference, "f1_ci95": [low, high], "lag_share", "lag_share_ci95" (with lags), "n_clips", "resamples"}.
    """
    a, b = _as_array(counts_a), _as_array(counts_b)
    if a.shape != b.shape:
        raise ValueError(f"paired counts must cover the same clips, got {a.shape} and {b.shape}")
    n = len(a)
    out: dict[str, Any] = {"f1": pooled_f1(a)["f1"] - pooled_f1(b)["f1"], "n_clips": n, "resamples": config.bootstrap}
    if n == 0:
        return out
    rng = np.random.default_rng(config.seed)
    draws = rng.integers(0, n, size=(config.bootstrap, n))  # [R, n] clip indices

    def pooled(counts: np.ndarray) -> np.ndarray:
        sums = counts[draws].sum(1).astype(np.float64)  # [R, 3]
        precision = np.divide(sums[:, 0], sums[:, 1], out=np.zeros(len(sums)), where=sums[:, 1] > 0)
        recall = np.divide(sums[:, 0], sums[:, 2], out=np.zeros(len(sums)), where=sums[:, 2] > 0)
        total = precision + recall
        return np.divide(2 * precision * recall, total, out=np.zeros(len(sums)), where=total > 0)

    diff = pooled(a) - pooled(b)
    out["f1_ci95"] = [float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))]
    if lags_a is not None and lags_b is not None:
        in_a = np.abs(np.nan_to_num(np.asarray(lags_a, np.float64), nan=np.inf)) <= config.lag_tolerance_s + 1e-9
        in_b = np.abs(np.nan_to_num(np.asarray(lags_b, np.float64), nan=np.inf)) <= config.lag_tolerance_s + 1e-9
        out["lag_share"] = float(in_a.mean() - in_b.mean())
        shares = in_a[draws].mean(1) - in_b[draws].mean(1)
        out["lag_share_ci95"] = [float(np.percentile(shares, 2.5)), float(np.percentile(shares, 97.5))]
    return out


# ----------------------------------------------------------------------------------------------- collection
class PooledSync:
    """Collects, clip by clip, each system's audio against the recorded audio; ``compute`` gives the report section.

    ``update(system, clip_id, generated, reference, sample_rate)`` scores one pair (mono waveforms); the recorded
    audio's onsets and envelope are computed once per clip (and length).
    """

    def __init__(self, config: PooledConfig = DEFAULT_POOLED) -> None:
        self.config = config
        self.clips: dict[str, dict[str, tuple[OnsetCounts, float]]] = {}  # clip → system → (counts, lag)
        self._references: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray]] = {}

    def update(self, system: str, clip_id: str, generated: np.ndarray, reference: np.ndarray,
               sample_rate: int) -> tuple[OnsetCounts, float]:
        key = (clip_id, len(reference), sample_rate)
        if key not in self._references:
            env = onset_envelope(reference, sample_rate)
            self._references[key] = (onset_times(None, envelope=env), env)
        reference_s, reference_env = self._references[key]
        env = onset_envelope(generated, sample_rate)
        estimate_s = onset_times(None, envelope=env)
        counts = onset_counts(reference_s, estimate_s, config=self.config)
        lag = best_lag(reference_env, env, max_lag_s=self.config.max_lag_s, skip_start_s=self.config.skip_start_s)
        self.clips.setdefault(clip_id, {})[system] = (counts, lag)
        return counts, lag

    def compute(self) -> dict[str, Any]:
        """{"config", "systems": {name: pooled F1, P, R, sums, lag share, n_clips}, "differences": {"a - chance":
        difference and 95 % intervals}, "clips": [{"clip_id", "n_reference", name: {"hits", "n_estimated", "f1",
        "lag_s"}}]}."""
        cfg = self.config
        names = list(dict.fromkeys(name for systems in self.clips.values() for name in systems))
        summary: dict[str, Any] = {}
        for name in names:
            rows = [systems[name] for systems in self.clips.values() if name in systems]
            lags = np.array([lag for _, lag in rows])
            finite = lags[np.isfinite(lags)]
            summary[name] = {**pooled_f1([c for c, _ in rows]), "lag_share": lag_share(lags, cfg.lag_tolerance_s),
                             "median_abs_lag_s": float(np.median(np.abs(finite))) if finite.size else math.nan,
                             "n_no_lag": int(np.isnan(lags).sum()), "n_clips": len(rows)}
        differences: dict[str, Any] = {}
        if cfg.chance in names:
            for name in names:
                if name == cfg.chance:
                    continue
                common = [systems for systems in self.clips.values() if name in systems and cfg.chance in systems]
                differences[f"{name} - {cfg.chance}"] = paired_bootstrap(
                    _as_array([c[name][0] for c in common]), _as_array([c[cfg.chance][0] for c in common]),
                    lags_a=np.array([c[name][1] for c in common]), lags_b=np.array([c[cfg.chance][1] for c in common]),
                    config=cfg)
        clips = []
        for clip_id, systems in self.clips.items():
            row: dict[str, Any] = {"clip_id": clip_id, "n_reference": next(iter(systems.values()))[0].n_reference}
            for name, (counts, lag) in systems.items():
                row[name] = {"hits": counts.hits, "n_estimated": counts.n_estimated, "f1": counts.f1, "lag_s": lag}
            clips.append(row)
        return {"config": asdict(cfg), "systems": summary, "differences": differences, "clips": clips}


# ----------------------------------------------------------------------------------------------- report
def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def markdown(section: dict[str, Any], *, per_clip: bool = True) -> str:
    """The pooled section as Markdown: systems, differences against chance, and (optionally) the per-clip table."""
    cfg = section["config"]
    lines = [f"## Pooled onsets and lag (±{cfg['window_s'] * 1000:.0f} ms, first {cfg['skip_start_s']} s of each "
             f"clip left out; lag within ±{cfg['max_lag_s']} s, in sync when |lag| ≤ {cfg['lag_tolerance_s']} s)", "",
             "| system | clips | pooled F1 | precision | recall | hits | est. onsets | ref. onsets | lag share | "
             "median \\|lag\\| (s) | no lag |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in section["systems"].items():
        lines.append(f"| {name} | {s['n_clips']} | {_fmt(s['f1'])} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | "
                     f"{s['hits']} | {s['n_estimated']} | {s['n_reference']} | {_fmt(s['lag_share'])} | "
                     f"{_fmt(s['median_abs_lag_s'], 2)} | {s['n_no_lag']} |")
    if section["differences"]:
        lines += ["", f"Paired bootstrap over clips ({cfg['bootstrap']} resamples, seed {cfg['seed']}), 95 % "
                      "intervals:", "", "| difference | clips | pooled F1 | 95 % CI | lag share | 95 % CI |",
                  "|---|---|---|---|---|---|"]
        for name, d in section["differences"].items():
            f1_ci = d.get("f1_ci95") or [math.nan, math.nan]
            lag_ci = d.get("lag_share_ci95") or [math.nan, math.nan]
            lines.append(f"| {name} | {d['n_clips']} | {_fmt(d['f1'])} | [{_fmt(f1_ci[0])}, {_fmt(f1_ci[1])}] | "
                         f"{_fmt(d.get('lag_share'))} | [{_fmt(lag_ci[0])}, {_fmt(lag_ci[1])}] |")
    if per_clip and section["clips"]:
        names = list(section["systems"])
        lines += ["", "Per clip: hits/estimated onsets and best lag (s) of each system.", "",
                  "| clip | ref. onsets | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
        for row in section["clips"]:
            cells = [f"{row[n]['hits']}/{row[n]['n_estimated']}, {_fmt(row[n]['lag_s'], 2)}" if n in row else ""
                     for n in names]
            lines.append(f"| {row['clip_id']} | {row['n_reference']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def restrict(section: dict[str, Any], clips: set[str]) -> dict[str, Any]:
    """The pooled systems and the differences against chance of ``compute``'s section, recomputed over ``clips`` (one
    clip set of several scored together, so that every set shares the run's chance row)."""
    config = PooledConfig(**section["config"])
    rows = [r for r in section["clips"] if r["clip_id"] in clips]
    names = list(section["systems"])

    def counts(name: str) -> np.ndarray:
        return np.array([(r[name]["hits"], r[name]["n_estimated"], r["n_reference"]) for r in rows], dtype=np.int64)

    def lags(name: str) -> np.ndarray:
        return np.array([math.nan if r[name]["lag_s"] is None else r[name]["lag_s"] for r in rows], dtype=np.float64)

    systems = {n: {**pooled_f1(counts(n)), "lag_share": lag_share(lags(n), config.lag_tolerance_s),
                   "n_clips": len(rows)} for n in names}
    differences = {f"{n} - {config.chance}": paired_bootstrap(counts(n), counts(config.chance), lags_a=lags(n),
                                                              lags_b=lags(config.chance), config=config)
                   for n in names if n != config.chance and config.chance in names}
    return {"systems": systems, "differences": differences}


def restricted_markdown(name: str, part: dict[str, Any], chance: str = DEFAULT_POOLED.chance) -> str:
    """One ``restrict`` result as a Markdown table headed ``name (N clips)``: pooled F1, P, R, counts, lag share and
    each system's difference from ``chance`` with its 95 % interval; ``ours`` first, then the others in their order."""
    lines = [f"### {name} ({next(iter(part['systems'].values()))['n_clips']} clips)", "",
             "| system | pooled F1 | precision | recall | hits / est. / ref. | lag share (±0.1 s) | "
             "F1 − chance [95 % CI] | lag share − chance [95 % CI] |", "|---|---|---|---|---|---|---|---|"]
    for system in sorted(part["systems"], key=lambda name: name != "ours"):
        s, d = part["systems"][system], part["differences"].get(f"{system} - {chance}")
        f1_diff = (f"{d['f1']:+.3f} [{d['f1_ci95'][0]:+.3f}, {d['f1_ci95'][1]:+.3f}]" if d and "f1_ci95" in d
                   else "(chance)" if system == chance else "")
        lag_diff = (f"{d['lag_share']:+.3f} [{d['lag_share_ci95'][0]:+.3f}, {d['lag_share_ci95'][1]:+.3f}]"
                    if d and "lag_share_ci95" in d else "")
        lines.append(f"| {system} | {s['f1']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} | {s['hits']} / "
                     f"{s['n_estimated']} / {s['n_reference']} | {s['lag_share']:.3f} | {f1_diff} | {lag_diff} |")
    return "\n".join(lines) + "\n"
