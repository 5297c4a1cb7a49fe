"""Per-frame motion signals of a video, the visual side of the sync metrics.

    frames [T, H, W, 3] uint8 RGB ──farneback_trajectory──► [T] mean Farneback flow magnitude, pixels (AV-Align, §4.4)
                                  ──frame_difference──────► [T] mean |gray_t − gray_{t−1}|, grey levels   (§4.6)

Both put the motion *into* frame t at index t, so index ↔ time t / fps. Both depend on the resolution (flow in pixels,
differences through blur and compression): evaluate at a fixed, recorded resolution (``resize_frames``).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from egosonics.evaluation._deps import require_cv2

log = logging.getLogger(__name__)

# TempoTokens' cv2.calcOpticalFlowFarneback arguments (av_align.py::compute_of).
FARNEBACK_PARAMS = {"pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2,
                    "flags": 0}


def _check_frames(frames: np.ndarray, minimum: int) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 RGB [T, H, W, 3], got {frames.dtype} {frames.shape}")
    if len(frames) < minimum:
        raise ValueError(f"need at least {minimum} frames, got {len(frames)}")
    return frames


def to_gray(frames: np.ndarray) -> np.ndarray:
    """RGB [T, H, W, 3] uint8 → grey [T, H, W] uint8 with OpenCV's weights (0.299 R + 0.587 G + 0.114 B, rounded),
    exactly what the reference's ``cvtColor(BGR2GRAY)`` gives on OpenCV's BGR frames."""
    cv2 = require_cv2()
    frames = _check_frames(frames, 0)
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]) if len(frames) else \
        np.zeros(frames.shape[:3], np.uint8)


def farneback_trajectory(frames: np.ndarray) -> np.ndarray:
    """Mean optical-flow magnitude into each frame, as TempoTokens' ``detect_video_peaks`` (EVALUATION.md §4.4 step 2).

    value(i) = cv2.mean(cv2.magnitude(Farneback(gray_{i−1}, gray_i)))[0] for i ≥ 1, and value(0) = value(1) (the
    reference duplicates the first pair).

    Args:
        frames: uint8 RGB [T, H, W, 3], T ≥ 2, at the evaluation resolution.

    Returns:
        [T] float64, pixels per frame.
    """
    cv2 = require_cv2()
    gray = to_gray(_check_frames(frames, 2))  # [T, H, W]
    out = np.empty(len(gray), np.float64)
    for i in range(1, len(gray)):
        flow = cv2.calcOpticalFlowFarneback(gray[i - 1], gray[i], None, **FARNEBACK_PARAMS)  # [H, W, 2]
        out[i] = cv2.mean(cv2.magnitude(flow[..., 0], flow[..., 1]))[0]
    out[0] = out[1]
    return out


def frame_difference(frames: np.ndarray) -> np.ndarray:
    """m[t] = mean |gray_t − gray_{t−1}| for t ≥ 1, m[0] = 0 (EVALUATION.md §4.6 step 2, the cheap motion measure):
    [T, H, W, 3] uint8 → [T] float64 grey levels."""
    frames = _check_frames(frames, 1)
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    out = np.zeros(len(frames), np.float64)
    prev = frames[0].astype(np.float32) @ weights  # [H, W]
    for t in range(1, len(frames)):
        cur = frames[t].astype(np.float32) @ weights
        out[t] = float(np.abs(cur - prev).mean())
        prev = cur
    return out


def evaluation_size(height: int, width: int, short_side: int | None) -> tuple[int, int] | None:
    """(height, width) with the short side scaled to ``short_side`` (aspect kept, even numbers); None keeps the size."""
    if short_side is None or min(height, width) == short_side:
        return None
    scale = short_side / min(height, width)
    return (max(2, 2 * round(height * scale / 2)), max(2, 2 * round(width * scale / 2)))


def resize_frames(frames: np.ndarray, short_side: int | None) -> np.ndarray:
    """Resize frames [T, H, W, 3] so the short side is ``short_side`` (area interpolation); None returns them as is."""
    frames = _check_frames(frames, 0)
    size = evaluation_size(frames.shape[1], frames.shape[2], short_side)
    if size is None or not len(frames):
        return frames
    cv2 = require_cv2()
    return np.stack([cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_AREA) for f in frames])


def native_fps(path: str) -> float:
    """The video stream's average frame rate, what OpenCV's CAP_PROP_FPS reports (the reference's fps)."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path}: no video stream")
        rate = container.streams.video[0].average_rate
    if not rate or not math.isfinite(float(rate)) or float(rate) <= 0:
        raise ValueError(f"{path}: frame rate unknown ({rate!r}); give fps explicitly")
    return float(rate)
