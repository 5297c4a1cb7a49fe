"""AV-Align (Yariv et al. 2023, arXiv 2309.16429), exactly as TempoTokens' ``av_align.py`` (EVALUATION.md §4.4).

Higher is better: the IoU of audio peaks and video peaks, in [0, 1].

1. Audio peaks: librosa at 22,050 Hz (``librosa.load``'s default rate; other rates are resampled with librosa's
   default soxr_hq), ``onset_strength`` with defaults (hop 512), ``onset_detect`` with defaults (delta 0.07),
   ``frames_to_time``: 23.2 ms resolution.
2. Video peaks: the Farneback mean-magnitude trajectory (``motion.farneback_trajectory``); index i in 1..T−2 is a
   peak when traj[i−1] < traj[i] > traj[i+1] and traj[i] ≥ 0.1 px; its time is i / fps.
3. Matching: each audio peak, in order, takes the first unused video peak v with v − 1/fps < a < v + 1/fps (strict:
   ±1 frame); IoU = matches / (|A| + |V| − matches).

Policy for clips without peaks (the reference divides by zero when |A| = |V| = 0): the clip's IoU is NaN and
``AVAlign`` skips it in the mean and counts it in ``n_skipped``. One side empty gives IoU 0 as the formula says.

The 0.1 px threshold makes the metric depend on resolution: evaluate at a fixed, recorded resolution
(``DEFAULT_SHORT_SIDE``) and at the video's own frame rate, as the reference (which reads frames with OpenCV).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.evaluation._deps import require_librosa
from egosonics.evaluation.base import Metric, nan_mean
from egosonics.evaluation.sync.motion import farneback_trajectory

log = logging.getLogger(__name__)

LIBROSA_SAMPLE_RATE = 22_050  # librosa.load's default: the reference always analyses audio at this rate
MIN_FLOW_PX = 0.1  # TempoTokens: "local maxima with an optical flow magnitude less than 0.1 are ignored"
DEFAULT_SHORT_SIDE = 224  # our fixed evaluation resolution for AV-Align (the frame encoder's input size)


def to_librosa_rate(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 22,050 Hz as ``librosa.load`` would give it (soxr_hq resampling when the rate differs)."""
    y = np.asarray(waveform, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"waveform must be mono [n], got shape {y.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if sample_rate != LIBROSA_SAMPLE_RATE:
        y = require_librosa().resample(y, orig_sr=sample_rate, target_sr=LIBROSA_SAMPLE_RATE).astype(np.float32)
    return y


def onset_envelope(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """librosa's default onset-strength envelope at 22,050 Hz (hop 512) [F]: what ``onset_detect(y=...)`` computes
    first. Both AV-Align's audio peaks and the onset metrics pick peaks on it, so it can be computed once per audio."""
    y = to_librosa_rate(waveform, sample_rate)
    if len(y) == 0:
        return np.zeros(0, np.float32)
    return require_librosa().onset.onset_strength(y=y, sr=LIBROSA_SAMPLE_RATE)


def audio_peaks(waveform: np.ndarray | None, sample_rate: int = LIBROSA_SAMPLE_RATE, *,
                envelope: np.ndarray | None = None) -> np.ndarray:
    """Onset times in seconds [A] with librosa defaults (the reference's ``detect_audio_peaks``); pass a precomputed
    ``onset_envelope`` instead of the waveform to reuse it."""
    librosa = require_librosa()
    env = onset_envelope(waveform, sample_rate) if envelope is None else envelope
    if len(env) == 0:
        return np.zeros(0)
    frames = librosa.onset.onset_detect(onset_envelope=env, sr=LIBROSA_SAMPLE_RATE)
    return np.asarray(librosa.frames_to_time(frames, sr=LIBROSA_SAMPLE_RATE), dtype=np.float64)


def video_peaks(trajectory: np.ndarray, fps: float, *, min_magnitude: float = MIN_FLOW_PX) -> np.ndarray:
    """Peak times in seconds [V] of a motion trajectory [T]: strict local maxima ≥ ``min_magnitude`` (reference's
    ``find_local_max_indexes``)."""
    arr = np.asarray(trajectory, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"trajectory must be 1-D [T], got shape {arr.shape}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if len(arr) < 3:
        return np.zeros(0)
    mid = arr[1:-1]
    idx = np.flatnonzero((arr[:-2] < mid) & (mid > arr[2:]) & (mid >= min_magnitude)) + 1
    return idx / fps


def match_peaks(audio_peaks_s: np.ndarray, video_peaks_s: np.ndarray, fps: float) -> int:
    """Number of matches: each audio peak, in order, takes the first unused video peak within ±1 frame (strict)."""
    tol = 1.0 / fps
    used = np.zeros(len(video_peaks_s), bool)
    matches = 0
    for a in audio_peaks_s:
        for j, v in enumerate(video_peaks_s):
            if not used[j] and v - tol < a < v + tol:
                used[j] = True
                matches += 1
                break
    return matches


@dataclass
class AVAlignResult:
    """One clip's AV-Align.

    Attributes:
        iou: matches / (|A| + |V| − matches); NaN when the clip has no peaks at all.
        num_audio_peaks, num_video_peaks, matches: |A|, |V| and the matched pairs.
        audio_peaks_s, video_peaks_s: the peak times [A] and [V] in seconds.
    """

    iou: float
    num_audio_peaks: int
    num_video_peaks: int
    matches: int
    audio_peaks_s: np.ndarray = field(repr=False)
    video_peaks_s: np.ndarray = field(repr=False)


def av_align_from_peaks(audio_peaks_s: np.ndarray, video_peaks_s: np.ndarray, fps: float) -> AVAlignResult:
    """IoU of given peak times (step 3)."""
    matches = match_peaks(audio_peaks_s, video_peaks_s, fps)
    union = len(audio_peaks_s) + len(video_peaks_s) - matches
    iou = matches / union if union else math.nan
    return AVAlignResult(iou=iou, num_audio_peaks=len(audio_peaks_s), num_video_peaks=len(video_peaks_s),
                         matches=matches, audio_peaks_s=np.asarray(audio_peaks_s),
                         video_peaks_s=np.asarray(video_peaks_s))


def av_align(waveform: np.ndarray | None, sample_rate: int, fps: float, *, frames: np.ndarray | None = None,
             trajectory: np.ndarray | None = None, envelope: np.ndarray | None = None,
             min_magnitude: float = MIN_FLOW_PX) -> AVAlignResult:
    """AV-Align of one clip.

    Args:
        waveform: mono audio [n].
        sample_rate: its rate in Hz.
        fps: the video frame rate (the reference uses the file's own rate).
        frames: uint8 RGB [T, H, W, 3] at the evaluation resolution; or give
        trajectory: a precomputed ``farneback_trajectory`` [T] (to score several audios against one video).
        envelope: a precomputed ``onset_envelope`` of the waveform (then ``waveform`` may be None).
    """
    if (frames is None) == (trajectory is None):
        raise ValueError("give exactly one of frames and trajectory")
    traj = farneback_trajectory(frames) if frames is not None else np.asarray(trajectory)
    peaks_a = audio_peaks(waveform, sample_rate, envelope=envelope)
    return av_align_from_peaks(peaks_a, video_peaks(traj, fps, min_magnitude=min_magnitude), fps)


class AVAlign(Metric):
    """Dataset AV-Align: mean IoU over clips. Higher is better (1: every audio peak has a video peak within ±1
    frame and vice versa).

    ``compute()`` returns {"av_align", "n", "n_skipped" (clips without any peak, skipped), "mean_audio_peaks",
    "mean_video_peaks", "mean_matches"}; ``rows`` keeps each clip's ``AVAlignResult``.
    """

    higher_is_better = True

    def __init__(self, *, min_magnitude: float = MIN_FLOW_PX) -> None:
        self.min_magnitude = min_magnitude
        self.reset()

    def reset(self) -> None:
        self.rows: list[AVAlignResult] = []

    def update(self, waveform: np.ndarray | None, sample_rate: int = DEFAULT_CLIP.sample_rate,
               fps: float = DEFAULT_CLIP.fps, *, frames: np.ndarray | None = None,
               trajectory: np.ndarray | None = None, envelope: np.ndarray | None = None) -> AVAlignResult:
        """Score one clip (see ``av_align``) and keep the result."""
        result = av_align(waveform, sample_rate, fps, frames=frames, trajectory=trajectory, envelope=envelope,
                          min_magnitude=self.min_magnitude)
        if math.isnan(result.iou):
            log.debug("AV-Align: clip %d has no audio and no video peaks; skipped", len(self.rows))
        self.rows.append(result)
        return result

    def compute(self) -> dict[str, float | int]:
        if not self.rows:
            raise ValueError("no clips added: call update(...) first")
        return {
            "av_align": nan_mean(r.iou for r in self.rows),
            "n": len(self.rows),
            "n_skipped": sum(math.isnan(r.iou) for r in self.rows),
            "mean_audio_peaks": float(np.mean([r.num_audio_peaks for r in self.rows])),
            "mean_video_peaks": float(np.mean([r.num_video_peaks for r in self.rows])),
            "mean_matches": float(np.mean([r.matches for r in self.rows])),
        }
