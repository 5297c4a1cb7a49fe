"""Every weight-free metric of EVALUATION.md §7.2 over a set of clips, as one ``update()``/``compute()`` object.

Per clip (video frames, generated audio, ground-truth audio of the same video):

    fd_logmel, fd_mfcc, kid_logmel  generated vs ground-truth embedding sets  lower is better       frechet, embeddings
    spec_paired                     generated vs ground truth, per clip        see each metric       spectral
    av_align                        video vs generated audio                   higher is better      sync.av_align
    onset                           generated vs ground-truth onsets           higher is better      sync.onset
    xcorr_offset (+ offset tracks)  video vs generated audio                   |·| lower is better   sync.xcorr_offset
    xcorr_offset_gt                 ground-truth vs generated audio            |·| lower is better   sync.xcorr_offset

Reference rows come from running the same suite with ``generated = reference`` (ground truth against itself) and with
the Griffin-Lim resynthesis (vocoder ceiling): a driver's job, not this object's.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.evaluation._deps import library_versions
from egosonics.evaluation.embeddings import LOGMEL_SETTINGS, MFCC_SETTINGS, logmel_stats, mfcc_stats
from egosonics.evaluation.frechet import FrechetDistance, KernelInceptionDistance, SqrtMethod
from egosonics.evaluation.spectral import PairedSpectralMetrics
from egosonics.evaluation.sync.av_align import AVAlign, onset_envelope
from egosonics.evaluation.sync.motion import farneback_trajectory, frame_difference
from egosonics.evaluation.sync.onset import DEFAULT_ONSET_CONFIG, OnsetConfig, OnsetMetrics
from egosonics.evaluation.sync.xcorr_offset import OffsetTrack, XCorrOffset, offset_track

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SuiteConfig:
    """Settings of the weight-free suite, recorded in every report.

    Attributes:
        sample_rate: audio rate every waveform must have (Hz).
        fd_method: Fréchet sqrt variant ("eigh", "sqrtm", "eigvals").
        kid_subsets, kid_subset_size: KID subsets (subset size is lowered to the set size, §3.3).
        onset: onset detection and matching windows.
        offset_max_lag_s: ±search range of the clip offset.
        track_window_s, track_hop_s, track_max_lag_s: the time-resolved offset's windows.
        video_short_side: the evaluation resolution the caller decoded frames at (recorded, not applied here).
    """

    sample_rate: int = DEFAULT_CLIP.sample_rate
    fd_method: SqrtMethod = "eigh"
    kid_subsets: int = 100
    kid_subset_size: int = 100
    onset: OnsetConfig = DEFAULT_ONSET_CONFIG
    offset_max_lag_s: float = 2.0
    track_window_s: float = 2.0
    track_hop_s: float = 1.0
    track_max_lag_s: float = 1.0
    video_short_side: int | None = None


@dataclass
class ClipRow:
    """One clip's per-clip numbers (the rows of a report)."""

    clip_id: str
    duration_s: float
    fps: float | None
    spectral: dict[str, float]
    av_align: float | None = None
    audio_peaks: int | None = None
    video_peaks: int | None = None
    av_matches: int | None = None
    onset_hit_acc: float | None = None
    onset_ap: float | None = None
    onset_f1: float | None = None
    onset_count_match: bool | None = None
    offset_gt_frames: float | None = None
    offset_frames: float | None = None
    offset_peak: float | None = None
    track: OffsetTrack | None = field(default=None, repr=False)


class WeightFreeSuite:
    """All weight-free metrics at once. ``update`` per clip, ``compute`` for the report (a JSON-ready dict)."""

    def __init__(self, config: SuiteConfig | None = None) -> None:
        self.config = config or SuiteConfig()
        self.reset()

    def reset(self) -> None:
        c = self.config
        self.fd_logmel = FrechetDistance(method=c.fd_method)
        self.fd_mfcc = FrechetDistance(method=c.fd_method)
        self.kid_logmel = KernelInceptionDistance(subsets=c.kid_subsets, subset_size=c.kid_subset_size)
        self.spectral = PairedSpectralMetrics(sample_rate=c.sample_rate)
        self.av_align = AVAlign()
        self.onsets = OnsetMetrics(c.onset)
        self.offset = XCorrOffset(max_lag_s=c.offset_max_lag_s)
        self.offset_gt = XCorrOffset(max_lag_s=c.offset_max_lag_s)
        self.rows: list[ClipRow] = []

    def update(self, *, clip_id: str, generated: np.ndarray, reference: np.ndarray,
               frames: np.ndarray | None = None, fps: float | None = None,
               trajectory: np.ndarray | None = None, motion: np.ndarray | None = None) -> ClipRow:
        """Score one clip.

        Args:
            clip_id: a name for the row.
            generated, reference: mono waveforms [n] at ``config.sample_rate``, same length.
            frames: uint8 RGB [T, H, W, 3] of the clip's video at ``fps`` (None: audio-only metrics).
            fps: video frame rate (required with frames).
            trajectory, motion: precomputed ``farneback_trajectory`` / ``frame_difference`` of the frames, to save
                recomputing them when several systems are scored against one video.
        """
        gen = np.asarray(generated, np.float32)
        ref = np.asarray(reference, np.float32)
        if gen.ndim != 1 or ref.ndim != 1 or gen.shape != ref.shape or not len(gen):
            raise ValueError(f"clip {clip_id!r}: generated {gen.shape} and reference {ref.shape} must be mono "
                             f"waveforms [n] of the same, non-zero length; cut ground truth to the system's length")
        sr = self.config.sample_rate
        has_video = frames is not None or trajectory is not None or motion is not None
        # 1. Everything that can fail on bad input comes first, so that a rejected clip leaves no partial state.
        if has_video:
            if fps is None or fps <= 0:
                raise ValueError(f"clip {clip_id!r}: fps must be given and positive with video, got {fps!r}")
            if frames is None and (trajectory is None or motion is None):
                raise ValueError(f"clip {clip_id!r}: give frames, or both trajectory and motion")
            trajectory = farneback_trajectory(frames) if trajectory is None else trajectory
            motion = frame_difference(frames) if motion is None else motion
        emb_gen, emb_ref = logmel_stats(gen, sample_rate=sr), logmel_stats(ref, sample_rate=sr)
        mfcc_gen, mfcc_ref = mfcc_stats(gen, sample_rate=sr), mfcc_stats(ref, sample_rate=sr)
        # 2. Distribution metrics.
        self.fd_logmel.update(reference=emb_ref, generated=emb_gen)
        self.kid_logmel.update(reference=emb_ref, generated=emb_gen)
        self.fd_mfcc.update(reference=mfcc_ref, generated=mfcc_gen)
        # 3. Paired spectral metrics.
        spectral = self.spectral.update(ref, gen)[0]
        # 4. Onsets, generated against ground truth (the generated envelope serves AV-Align too).
        envelope = onset_envelope(gen, sr)
        onset = self.onsets.update(gen, ref, sr, generated_envelope=envelope)
        offset_gt = self.offset_gt.update(gen, sr, fps or DEFAULT_CLIP.fps, reference=ref)
        row = ClipRow(clip_id=clip_id, duration_s=len(gen) / sr, fps=fps, spectral=spectral,
                      onset_hit_acc=onset.condfoley.hit_accuracy, onset_ap=onset.condfoley.ap, onset_f1=onset.f1.f1,
                      onset_count_match=onset.condfoley.count_match, offset_gt_frames=offset_gt.offset_frames)
        # 5. Video-dependent sync metrics.
        if has_video:
            av = self.av_align.update(gen, sr, fps, trajectory=trajectory, envelope=envelope)
            off = self.offset.update(gen, sr, fps, motion=motion)
            row.av_align, row.audio_peaks, row.video_peaks, row.av_matches = (av.iou, av.num_audio_peaks,
                                                                              av.num_video_peaks, av.matches)
            row.offset_frames, row.offset_peak = off.offset_frames, off.peak
            row.track = offset_track(gen, sr, fps, motion=motion, window_s=self.config.track_window_s,
                                     hop_s=self.config.track_hop_s, max_lag_s=self.config.track_max_lag_s)
        self.rows.append(row)
        return row

    def compute(self) -> dict[str, Any]:
        """The report: metadata (n, durations, rates, variants, library versions), each metric's summary, and rows."""
        if not self.rows:
            raise ValueError("no clips added: call update(...) first")
        n = len(self.rows)
        report: dict[str, Any] = {
            "meta": {
                "n": n,
                "clip_duration_s": sorted({round(r.duration_s, 3) for r in self.rows}),
                "sample_rate": self.config.sample_rate,
                "fps": sorted({r.fps for r in self.rows if r.fps is not None}),
                "config": _jsonable(asdict(self.config)),
                "embeddings": {"logmel_stats": LOGMEL_SETTINGS, "mfcc_stats": MFCC_SETTINGS},
                "versions": library_versions(),
            },
            "spec_paired": self.spectral.compute(),
            "onset": self.onsets.compute(),
            "xcorr_offset_gt": self.offset_gt.compute(),
        }
        if n >= 2:
            report["fd_logmel"] = self.fd_logmel.compute()
            report["fd_mfcc"] = self.fd_mfcc.compute()
            report["kid_logmel"] = self.kid_logmel.compute()
        else:
            log.warning("one clip only: Fréchet distance and KID need at least 2 clips per set; skipped")
        if self.av_align.rows:
            report["av_align"] = self.av_align.compute()
            report["xcorr_offset"] = self.offset.compute()
        report["rows"] = [_row_dict(r) for r in self.rows]
        return report


def _row_dict(row: ClipRow) -> dict[str, Any]:
    out = {k: v for k, v in asdict(row).items() if k != "track"}
    if row.track is not None:
        out["offset_track"] = {"times_s": row.track.times_s.round(3).tolist(),
                               "offsets_frames": row.track.offsets_frames.tolist()}
    return _jsonable(out)


def _jsonable(value: Any) -> Any:
    """NaN → None and numpy scalars → Python, recursively, so ``json.dumps`` writes valid JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
