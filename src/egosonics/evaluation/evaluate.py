"""``egosonics evaluate``: generated audio against ground truth, beside baselines and reference rows.

Stages (numbered as the comments in ``evaluate`` are):
1. Pair files by name (``NAME.mp4``/``NAME.wav`` in each folder; a ``.egosonics`` suffix is ignored).
2. Per clip, decode the ground-truth video once (frames at its own fps, short side ``short_side``) and its audio;
   optical flow and frame differences are computed once and shared by every system.
3. Reference rows, always: ground truth against itself and the Griffin-Lim vocoder ceiling; on request silence,
   white noise, another clip's audio, ground truth shifted by 0.5 s, and a click at every sudden stop of motion
   (``sync.click_track``, non-learned).
4. Per system and reference row, ground truth is resampled and cut to the system's protocol (length and rate: ours
   10 s at 22,050 Hz, Diff-Foley 8 s at 16 kHz, Im2Wav 5 s, Make-An-Audio 10 s at 16 kHz; EVALUATION.md §7.5) and
   every weight-free metric runs (``suite.WeightFreeSuite``). Every system is also scored by the pooled onset F1, best
   lag and paired bootstrap against the other-clip row (``sync.pooled``; report key ``pooled_sync``, with a per-clip
   table).
   With ``events`` (timeline JSON per clip, as ``egosonics synth`` writes), onsets are also scored against the true
   event times (``sync.onset.event_scores``).
   With local weight files (``WeightBasedConfig``), the weight-based metrics run too: the Alignment Score at 30, 15
   and 4 fps (E_A of each system's audio, E_V of the ground-truth video; audio shorter than 10 s is zero-padded),
   FID of spectrogram images, SpecVQGAN's Melception FID/KID/KL/ISc. Missing files fail before any clip is decoded.
5. Write ``report.json``, ``report.md`` and ``report.html`` (``report.py``: comparison table, per-clip rows,
   spectrogram pairs, onset and offset-over-time plots).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.errors import EgoSonicsError
from egosonics.evaluation.report import summary_table, write_report
from egosonics.evaluation.suite import SuiteConfig, WeightFreeSuite
from egosonics.evaluation.sync.motion import farneback_trajectory, frame_difference
from egosonics.evaluation.sync.onset import event_onsets, event_scores
from egosonics.evaluation.sync.pooled import PooledConfig, PooledSync
from egosonics.media.formats import is_media_file, is_video_file

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Protocol:
    """How long, and at which rate, a system's audio is compared."""

    duration_s: float
    sample_rate: int


PROTOCOLS = {
    "ours": Protocol(DEFAULT_CLIP.duration_s, DEFAULT_CLIP.sample_rate),
    "diff-foley": Protocol(8.0, 16_000),
    "im2wav": Protocol(5.0, 16_000),
    "make-an-audio": Protocol(10.0, 16_000),
}

REFERENCE_ROWS = ("ground-truth", "vocoder-ceiling", "silence", "noise", "other-clip", "shifted-0.5s", "click-stops")


@dataclass(frozen=True)
class WeightBasedConfig:
    """The weight-based metrics: local files switch them on (None leaves a metric off). Nothing is downloaded.

    Attributes:
        alignment_model: a trained alignment classifier folder (``egosonics train alignment``'s ``model/``).
        inception: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (spectrogram FID).
        melception, melception_stats: SpecVQGAN's Melception checkpoint and its training mel statistics.
        clip_dir: the local CLIP folder for E_V, when the classifier used CLIP and its recorded folder moved.
        fid_methods: Fréchet square-root variants of both FIDs, the first reported as ``fid`` (sqrtm as pytorch-fid).
    """

    alignment_model: str | None = None
    inception: str | None = None
    melception: str | None = None
    melception_stats: str | None = None
    clip_dir: str | None = None
    fid_methods: tuple[str, ...] = ("sqrtm", "eigh")


class _WeightedMetrics:
    """The weight-based metrics of every system, sharing one network each; built before any clip is decoded."""

    def __init__(self, config: WeightBasedConfig, names: list[str]) -> None:
        from egosonics.evaluation.alignment_score import AlignmentScore, frame_encoder_for
        from egosonics.evaluation.weight_based import MelceptionMetrics, SpectrogramFID

        self.align: dict[str, AlignmentScore] = {}
        self.fid: dict[str, SpectrogramFID] = {}
        self.melception: dict[str, MelceptionMetrics] = {}
        self.encoder = None
        if (config.melception is None) != (config.melception_stats is None):
            raise EgoSonicsError("the Melception metrics need both the weights (melception-21-05-10T09-28-40.pt) and "
                                 "the statistics file (train_means_stds_melspec_10s_22050hz.txt)")
        if config.alignment_model:
            first = AlignmentScore.load(config.alignment_model)
            self.encoder = frame_encoder_for(first.model, config.clip_dir)
            self.align = {name: AlignmentScore(first.model, heldout=first.heldout) for name in names}
        if config.inception:
            first_fid = SpectrogramFID.from_file(config.inception)
            self.fid = {name: SpectrogramFID(first_fid.network, weights_sha256=first_fid.weights_sha256,
                                             methods=config.fid_methods) for name in names}
        if config.melception:
            first_mel = MelceptionMetrics.from_files(config.melception, config.melception_stats)
            stats = np.concatenate([first_mel.means.numpy(), first_mel.stds.numpy()], axis=1)
            self.melception = {name: MelceptionMetrics(first_mel.network, stats,
                                                       weights_sha256=first_mel.weights_sha256,
                                                       stats_sha256=first_mel.stats_sha256,
                                                       methods=config.fid_methods) for name in names}
        self._cache: dict[tuple[str, int], Any] = {}

    def clip(self, path: Path) -> torch.Tensor | None:
        """Start a clip: E_V of its ground-truth video for the Alignment Score (None when off or unreadable); the
        ground-truth embeddings cached for the previous clip are dropped."""
        from egosonics.evaluation.alignment_score import video_embedding

        self._cache.clear()
        if self.encoder is None:
            return None
        try:
            return video_embedding(path, self.encoder)
        except EgoSonicsError as exc:
            log.warning("Alignment Score skipped for %s: %s", path.name, exc)
            return None

    def update(self, name: str, generated: np.ndarray, reference: np.ndarray, ev: torch.Tensor | None) -> None:
        """Score one system's clip; waveforms at 22,050 Hz cut to the system's length."""
        if ev is not None and name in self.align:
            self.align[name].update(video_embedding=ev, waveform=generated)
        same = np.array_equal(generated, reference)  # the ground-truth row: reuse its embedding
        for kind, metrics in (("fid", self.fid), ("mel", self.melception)):
            if name not in metrics:
                continue
            key = (kind, len(reference))
            if key not in self._cache:  # one ground-truth embedding per clip and length, shared by all systems
                self._cache[key] = metrics[name].embed(reference)
            gen = self._cache[key] if same else metrics[name].embed(generated)
            metrics[name].update(reference=self._cache[key], generated=gen, embedded=True)

    def results(self, name: str) -> dict[str, Any]:
        """The report entries of one system (metrics that cannot be computed are logged and left out)."""
        out: dict[str, Any] = {}
        for key, metric in (("alignment_score", self.align.get(name)), ("fid_spec_inception", self.fid.get(name)),
                            ("melception", self.melception.get(name))):
            if metric is None:
                continue
            try:
                out[key] = metric.compute()
            except ValueError as exc:
                log.warning("%s of %s not computed: %s", key, name, exc)
        return out


def clip_files(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Clip id → file for the media files of a folder (video preferred over audio for the same name)."""
    root = Path(folder)
    if not root.is_dir():
        raise EgoSonicsError(f"{root}: folder not found")
    found: dict[str, Path] = {}
    for path in sorted(root.iterdir()):
        if not is_media_file(path) or not path.is_file():
            continue
        name = path.stem.removesuffix(".egosonics")
        if name not in found or is_video_file(path):
            found[name] = path
    return found


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))


def evaluate(pred: str | os.PathLike[str], gt: str | os.PathLike[str], out: str | os.PathLike[str], *,
             baselines: dict[str, str] | None = None, protocols: dict[str, Protocol] | None = None,
             events: str | os.PathLike[str] | None = None, references: tuple[str, ...] = REFERENCE_ROWS[:2],
             short_side: int | None = 224, vocoder_iters: int = 32, seed: int = 0,
             weights: WeightBasedConfig | None = None) -> dict[str, Any]:
    """Evaluate ``pred`` (ours) and each baseline against ``gt``; returns the report and writes it to ``out``.

    ``weights`` switches on the weight-based metrics whose local files it names (module docstring, step 4). Torch
    runs on the caller's thread count (``egosonics --threads``): the metrics are many small ops, and on a shared CPU
    one thread was measured 30x faster than torch's default.
    """
    from egosonics.evaluation.sync.clip import load_sync_clip
    from egosonics.media.audio import read_audio, resample
    from egosonics.spectrogram.codec import decode_windows, encode_windows
    from egosonics.utils.logging import progress

    protocols = {**PROTOCOLS, **(protocols or {})}
    unknown = sorted(set(references) - set(REFERENCE_ROWS))
    if unknown:
        raise EgoSonicsError(f"unknown reference rows {unknown}; choose from {list(REFERENCE_ROWS)}")
    # 1. Pair files.
    gt_files = clip_files(gt)
    systems = {"ours": clip_files(pred)} | {name: clip_files(folder) for name, folder in (baselines or {}).items()}
    ids = sorted(set(gt_files) & set(systems["ours"]))
    if not ids:
        raise EgoSonicsError(f"no clip names in common between {pred} and {gt}")
    for name, files in systems.items():
        missing = sorted(set(ids) - set(files))
        if missing:
            log.warning("%s: %d clip(s) missing (%s...)", name, len(missing), ", ".join(missing[:3]))
    event_files = {p.stem: p for p in Path(events).glob("*.json")} if events else {}
    rows: dict[str, list[tuple[str, np.ndarray, float]]] = {}  # system → [(clip, waveform at its rate, rate)]
    suites = {name: WeightFreeSuite(SuiteConfig(sample_rate=protocols.get(name, protocols["ours"]).sample_rate,
                                                video_short_side=short_side))
              for name in [*systems, *references]}
    event_rows: dict[str, list[dict[str, float]]] = {name: [] for name in suites}
    weighted = _WeightedMetrics(weights or WeightBasedConfig(), list(suites))
    failed: list[tuple[str, str]] = []
    pooled = PooledSync(PooledConfig(seed=seed))
    rng = np.random.default_rng(seed)
    for index, clip_id in enumerate(progress(ids, desc="evaluate", total=len(ids), unit="clip")):
        # 2. Ground truth, decoded once.
        try:
            clip = load_sync_clip(gt_files[clip_id], short_side=short_side)
        except EgoSonicsError as exc:
            failed.append((clip_id, str(exc)))
            continue
        trajectory, motion = farneback_trajectory(clip.frames), frame_difference(clip.frames)
        ev = weighted.clip(gt_files[clip_id])
        candidates: dict[str, np.ndarray | None] = {}
        for name, files in systems.items():
            if clip_id in files:
                try:
                    candidates[name] = read_audio(files[clip_id], sample_rate=clip.sample_rate)
                except EgoSonicsError as exc:
                    failed.append((f"{name}/{clip_id}", str(exc)))
        # 3. Reference rows.
        gt_audio = clip.audio
        n = len(gt_audio)
        for name in references:
            if name == "ground-truth":
                candidates[name] = gt_audio
            elif name == "vocoder-ceiling":
                candidates[name] = decode_windows(encode_windows(gt_audio), n, n_iter=vocoder_iters, seed=seed)
            elif name == "silence":
                candidates[name] = np.zeros(n, np.float32)
            elif name == "noise":
                rms = float(np.sqrt(np.mean(gt_audio.astype(np.float64) ** 2))) or 1e-3
                candidates[name] = (rng.standard_normal(n) * rms).astype(np.float32)
            elif name == "other-clip":
                other = gt_files[ids[(index + 1) % len(ids)]]
                candidates[name] = _fit(read_audio(other, sample_rate=clip.sample_rate), n)
            elif name == "shifted-0.5s":
                shift = round(0.5 * clip.sample_rate)
                candidates[name] = np.concatenate([np.zeros(shift, np.float32), gt_audio[:-shift]])
            elif name == "click-stops":
                from egosonics.evaluation.sync.click_track import motion_click_track

                try:
                    candidates[name] = motion_click_track(gt_files[clip_id], n, clip.sample_rate)[0]
                except EgoSonicsError as exc:
                    failed.append((f"{name}/{clip_id}", str(exc)))
        # 4. Each system and reference row on its protocol.
        for name, wave in candidates.items():
            proto = protocols.get(name, protocols["ours"])
            length = min(round(proto.duration_s * clip.sample_rate), n)
            frames_n = min(len(clip.frames), max(2, round(length / clip.sample_rate * clip.fps)))
            ref = resample(_fit(gt_audio, length), clip.sample_rate, proto.sample_rate)
            gen = resample(_fit(wave, length), clip.sample_rate, proto.sample_rate)
            gen = _fit(gen, len(ref))
            suites[name].update(clip_id=clip_id, generated=gen, reference=ref, fps=clip.fps,
                                trajectory=trajectory[:frames_n - 1], motion=motion[:frames_n])
            weighted.update(name, _fit(wave, length), _fit(gt_audio, length), ev)
            pooled.update(name, clip_id, gen, ref, proto.sample_rate)
            if clip_id in event_files:
                events_s = event_onsets(event_files[clip_id])
                events_s = events_s[events_s < length / clip.sample_rate]
                event_rows[name].append(event_scores(gen, proto.sample_rate, events_s))
            if index < 6:
                rows.setdefault(name, []).append((clip_id, gen, proto.sample_rate))
    # 5. Reports.
    report: dict[str, Any] = {"pairs": len(ids), "failed": failed, "systems": {}}
    for name, suite in suites.items():
        if not suite.rows:
            continue
        result = suite.compute() | weighted.results(name)
        if event_rows[name]:
            result["events"] = {k: float(np.mean([r[k] for r in event_rows[name]])) for k in event_rows[name][0]}
            result["events"]["n"] = len(event_rows[name])
        report["systems"][name] = result
    report["table"] = summary_table(report)
    report["pooled_sync"] = pooled.compute()
    write_report(Path(out), report, rows, gt_files)
    return report
