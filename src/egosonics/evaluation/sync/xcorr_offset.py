"""Energy-envelope cross-correlation offset, a weight-free stand-in for DeSync (EVALUATION.md §4.6, our design).

Lower |offset| is better; 0 means the audio's onsets line up with the picture's motion changes.

1. Audio novelty at frame rate: frame_rms[t] = RMS of the samples of video frame t (735 at 22,050 Hz / 30 fps);
   a[t] = max(0, log(frame_rms[t] + 1e-5) − log(frame_rms[t−1] + 1e-5)), a[0] = 0 (half-wave-rectified onsets).
2. Video novelty: m[t] = mean |gray_t − gray_{t−1}| (``motion="absdiff"``, default) or the Farneback mean
   magnitude (``motion="flow"``, AV-Align's trajectory); then v[t] = max(0, m[t] − m[t−1]) (``novelty="diff"``,
   default: motion onsets, the counterpart of the audio's) or v = m (``novelty="level"``).
3. z-normalise a and v; if either std is below 1e-8 there is no cue: the offset is NaN.
4. c[k] = Σ_t a[t+k]·v[t] / (T − |k|) for k ∈ [−K, K], K = round(max_lag_s · fps) (2 s: Synchformer's range),
   at most T // 2 so that every lag overlaps half the clip.
5. offset = argmax_k c[k] in frames (exact ties go to the smallest |k|), peak = c[offset] (the cue's strength).

Sign: a positive offset means the audio comes *late* (audio delayed by k frames — k·735 zeros prepended — gives +k).

``estimate_audio_offset`` runs 3–5 with the ground-truth audio's novelty in place of the video's: how many frames the
generated sound sits from where the true sound is. Where the true soundtrack is synchronous by construction
(synthesized scenes), that is the sync error itself; the video-based estimate above is bounded by how well motion
onsets predict sound onsets (on the synthesized scenes an impact is heard when a motion *stops*, and the ground truth
itself has a mean |offset| of 0.65 s).

``offset_track`` repeats 3–5 in sliding windows (2 s long, 1 s hop by default) of the video novelty against the
audio novelty around it, to show where along a clip the audio drifts.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.evaluation.base import Metric, nan_mean
from egosonics.evaluation.features import frame_rms
from egosonics.evaluation.sync.motion import farneback_trajectory, frame_difference

log = logging.getLogger(__name__)

MotionKind = Literal["absdiff", "flow"]
NoveltyKind = Literal["diff", "level"]
NO_CUE_STD = 1e-8
LOG_OFFSET = 1e-5


def audio_novelty(waveform: np.ndarray, sample_rate: float, fps: float, num_frames: int | None = None) -> np.ndarray:
    """a[t] (step 1): mono waveform [n] → [T] (T = ``num_frames``, or the whole frames in the audio)."""
    rms = frame_rms(waveform, sample_rate, fps, num_frames)  # [T]
    out = np.zeros_like(rms)
    out[1:] = np.maximum(0.0, np.diff(np.log(rms + LOG_OFFSET)))
    return out


def video_novelty(motion: np.ndarray, novelty: NoveltyKind = "diff") -> np.ndarray:
    """v[t] (step 2) from a motion signal m [T]."""
    m = np.asarray(motion, dtype=np.float64)
    if m.ndim != 1:
        raise ValueError(f"motion must be 1-D [T], got shape {m.shape}")
    if novelty == "level":
        return m.copy()
    if novelty == "diff":
        out = np.zeros_like(m)
        out[1:] = np.maximum(0.0, np.diff(m))
        return out
    raise ValueError(f"unknown novelty {novelty!r}; choose from ['diff', 'level']")


def motion_signal(frames: np.ndarray, motion: MotionKind = "absdiff") -> np.ndarray:
    """m [T] of frames [T, H, W, 3] uint8 RGB: mean absolute grey difference, or Farneback mean magnitude."""
    if motion == "absdiff":
        return frame_difference(frames)
    if motion == "flow":
        return farneback_trajectory(frames)
    raise ValueError(f"unknown motion measure {motion!r}; choose from ['absdiff', 'flow']")


def _znorm(x: np.ndarray) -> np.ndarray | None:
    std = float(np.std(x))
    return None if std < NO_CUE_STD else (x - np.mean(x)) / std


def cross_correlation(a: np.ndarray, v: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """c[k] = Σ_t a[t+k]·v[t] / (T − |k|) for k = −max_lag..max_lag (step 4): ([2K+1] lags, [2K+1] c)."""
    if a.shape != v.shape or a.ndim != 1:
        raise ValueError(f"a {a.shape} and v {v.shape} must be 1-D of the same length")
    n = len(a)
    if not 0 <= max_lag < n:
        raise ValueError(f"max_lag must be in 0..{n - 1} for {n} frames, got {max_lag}")
    lags = np.arange(-max_lag, max_lag + 1)
    corr = np.empty(len(lags))
    for i, k in enumerate(lags):
        corr[i] = np.dot(a[k:], v[: n - k]) / (n - k) if k >= 0 else np.dot(a[: n + k], v[-k:]) / (n + k)
    return lags, corr


def _best_lag(lags: np.ndarray, corr: np.ndarray) -> int:
    """Index of the maximum; exact ties go to the smallest |lag|."""
    ties = np.flatnonzero(corr == corr.max())
    return int(ties[np.argmin(np.abs(lags[ties]))])


@dataclass
class OffsetEstimate:
    """One clip's offset.

    Attributes:
        offset_frames: argmax lag in video frames (positive: audio late); NaN when there is no cue.
        offset_s: the same in seconds.
        peak: the correlation at the offset (z-normalised signals, so ≈ Pearson-like strength); NaN without a cue.
        fps: the frame rate of the lags.
        lags, correlation: the whole curve [2K+1] (empty without a cue).
    """

    offset_frames: float
    offset_s: float
    peak: float
    fps: float
    lags: np.ndarray = field(repr=False)
    correlation: np.ndarray = field(repr=False)


def _no_cue(fps: float) -> OffsetEstimate:
    return OffsetEstimate(math.nan, math.nan, math.nan, fps, np.zeros(0, np.int64), np.zeros(0))


def xcorr_offset(a: np.ndarray, v: np.ndarray, *, max_lag: int, fps: float = DEFAULT_CLIP.fps) -> OffsetEstimate:
    """Steps 3–5 on novelty signals a [T] and v [T]."""
    a, v = np.asarray(a, np.float64), np.asarray(v, np.float64)
    if a.shape != v.shape:
        raise ValueError(f"audio novelty {a.shape} and video novelty {v.shape} differ in length")
    az, vz = _znorm(a), _znorm(v)
    if az is None or vz is None:
        return _no_cue(fps)
    max_lag = min(max_lag, len(a) // 2)
    lags, corr = cross_correlation(az, vz, max_lag)
    best = _best_lag(lags, corr)
    return OffsetEstimate(float(lags[best]), float(lags[best]) / fps, float(corr[best]), fps, lags, corr)


def _novelties(waveform: np.ndarray, sample_rate: float, fps: float, frames: np.ndarray | None,
               motion: np.ndarray | None, motion_kind: MotionKind, novelty: NoveltyKind) -> tuple[np.ndarray,
                                                                                                      np.ndarray]:
    if (frames is None) == (motion is None):
        raise ValueError("give exactly one of frames and motion")
    if fps <= 0 or sample_rate <= 0:
        raise ValueError(f"fps and sample_rate must be positive, got fps={fps}, sample_rate={sample_rate}")
    m = motion_signal(frames, motion_kind) if frames is not None else np.asarray(motion, np.float64)
    v = video_novelty(m, novelty)
    a = audio_novelty(waveform, sample_rate, fps, num_frames=len(v))
    return a, v


def estimate_offset(waveform: np.ndarray, sample_rate: float, fps: float, *, frames: np.ndarray | None = None,
                    motion: np.ndarray | None = None, max_lag_s: float = 2.0, motion_kind: MotionKind = "absdiff",
                    novelty: NoveltyKind = "diff") -> OffsetEstimate:
    """The offset of one clip.

    Args:
        waveform: mono audio [n] covering the video (shorter audio counts as silence at the end).
        sample_rate, fps: audio rate in Hz and video frame rate.
        frames: uint8 RGB [T, H, W, 3]; or give
        motion: a precomputed motion signal m [T] (``motion_signal``), to score several audios against one video.
        max_lag_s: search range ±K in seconds.
        motion_kind, novelty: step 2's choices.
    """
    a, v = _novelties(waveform, sample_rate, fps, frames, motion, motion_kind, novelty)
    return xcorr_offset(a, v, max_lag=round(max_lag_s * fps), fps=fps)


def estimate_audio_offset(waveform: np.ndarray, reference: np.ndarray, sample_rate: float,
                          fps: float = DEFAULT_CLIP.fps, *, max_lag_s: float = 2.0) -> OffsetEstimate:
    """The offset of ``waveform`` against ``reference`` audio of the same clip, both mono at ``sample_rate``, on the
    grid of ``fps`` frames. Positive: ``waveform`` comes late. The reference against itself gives 0."""
    if fps <= 0 or sample_rate <= 0:
        raise ValueError(f"fps and sample_rate must be positive, got fps={fps}, sample_rate={sample_rate}")
    r = audio_novelty(reference, sample_rate, fps)
    a = audio_novelty(waveform, sample_rate, fps, num_frames=len(r))
    return xcorr_offset(a, r, max_lag=round(max_lag_s * fps), fps=fps)


@dataclass
class OffsetTrack:
    """Offsets over time of one clip: one entry per window.

    Attributes:
        times_s: window centres [W] in seconds.
        offsets_frames: offset per window [W] (NaN where the window has no motion or no audio cue).
        peaks: correlation at each offset [W].
        fps, window_s, hop_s, max_lag_s: the settings.
    """

    times_s: np.ndarray
    offsets_frames: np.ndarray
    peaks: np.ndarray
    fps: float
    window_s: float
    hop_s: float
    max_lag_s: float

    @property
    def offsets_s(self) -> np.ndarray:
        return self.offsets_frames / self.fps


def offset_track(waveform: np.ndarray, sample_rate: float, fps: float, *, frames: np.ndarray | None = None,
                 motion: np.ndarray | None = None, window_s: float = 2.0, hop_s: float = 1.0, max_lag_s: float = 1.0,
                 motion_kind: MotionKind = "absdiff", novelty: NoveltyKind = "diff") -> OffsetTrack:
    """Time-resolved offset: the video novelty of each window [s, s + W) against the audio novelty at
    [s + k, s + k + W) for k ∈ [−K, K] (audio outside the window is used; positions outside the clip are dropped and
    each lag is normalised by its valid count). Each window z-normalises its own video novelty and the audio span
    it searches; a window whose video or audio span has std < 1e-8 gets NaN.

    Args: as ``estimate_offset``, plus window_s (2 s), hop_s (1 s) and max_lag_s (±1 s: a 2 s window carries few
    events, and a wider search finds more chance peaks). A clip shorter than one window gives one window over it all.
    """
    a, v = _novelties(waveform, sample_rate, fps, frames, motion, motion_kind, novelty)
    n = len(v)
    width = max(2, min(n, round(window_s * fps)))
    hop = max(1, round(hop_s * fps))
    max_lag = round(max_lag_s * fps)
    starts = list(range(0, n - width + 1, hop)) or [0]
    times, offsets, peaks = [], [], []
    lags = np.arange(-max_lag, max_lag + 1)
    for s in starts:
        times.append((s + width / 2) / fps)
        vz = _znorm(v[s:s + width])
        lo, hi = max(0, s - max_lag), min(n, s + width + max_lag)
        span = _znorm(a[lo:hi])
        if vz is None or span is None:
            offsets.append(math.nan)
            peaks.append(math.nan)
            continue
        az = np.zeros(n)
        az[lo:hi] = span
        corr = np.full(len(lags), -np.inf)
        for i, k in enumerate(lags):
            t0, t1 = max(s, -k), min(s + width, n - k)  # window positions t whose audio t + k is inside the clip
            if t1 - t0 >= width // 2:
                corr[i] = float(np.dot(az[t0 + k:t1 + k], vz[t0 - s:t1 - s])) / (t1 - t0)
        best = _best_lag(lags, corr)
        offsets.append(float(lags[best]))
        peaks.append(float(corr[best]))
    return OffsetTrack(np.asarray(times), np.asarray(offsets), np.asarray(peaks), fps, window_s, hop_s, max_lag_s)


class XCorrOffset(Metric):
    """Dataset offset summary (EVALUATION.md §7.2 ``xcorr_offset``). Lower ``mean_abs_offset_s`` is better.

    ``compute()`` returns {"mean_abs_offset_s", "mean_abs_offset_frames", "frac_within_1_frame" (higher is better),
    "mean_peak", "n", "n_no_cue" (clips without an audio or motion cue: skipped)}; ``rows`` keeps each
    ``OffsetEstimate``. ``update(..., reference=audio)`` measures against that audio instead of the video
    (``estimate_audio_offset``).
    """

    higher_is_better = False

    def __init__(self, *, max_lag_s: float = 2.0, motion_kind: MotionKind = "absdiff",
                 novelty: NoveltyKind = "diff") -> None:
        self.max_lag_s, self.motion_kind, self.novelty = max_lag_s, motion_kind, novelty
        self.reset()

    def reset(self) -> None:
        self.rows: list[OffsetEstimate] = []

    def update(self, waveform: np.ndarray, sample_rate: float = DEFAULT_CLIP.sample_rate,
               fps: float = DEFAULT_CLIP.fps, *, frames: np.ndarray | None = None,
               motion: np.ndarray | None = None, reference: np.ndarray | None = None) -> OffsetEstimate:
        """Estimate one clip's offset against its video (``estimate_offset``) or, given ``reference``, against that
        audio (``estimate_audio_offset``), and keep it."""
        if reference is not None:
            est = estimate_audio_offset(waveform, reference, sample_rate, fps, max_lag_s=self.max_lag_s)
        else:
            est = estimate_offset(waveform, sample_rate, fps, frames=frames, motion=motion,
                                  max_lag_s=self.max_lag_s, motion_kind=self.motion_kind, novelty=self.novelty)
        self.rows.append(est)
        return est

    def compute(self) -> dict[str, float | int]:
        if not self.rows:
            raise ValueError("no clips added: call update(...) first")
        cued = [r for r in self.rows if math.isfinite(r.offset_frames)]
        return {
            "mean_abs_offset_s": nan_mean(abs(r.offset_s) for r in cued),
            "mean_abs_offset_frames": nan_mean(abs(r.offset_frames) for r in cued),
            "frac_within_1_frame": float(np.mean([abs(r.offset_frames) <= 1 for r in cued])) if cued else math.nan,
            "mean_peak": nan_mean(r.peak for r in cued),
            "n": len(self.rows),
            "n_no_cue": len(self.rows) - len(cued),
        }
