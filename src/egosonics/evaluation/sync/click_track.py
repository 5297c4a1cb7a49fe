"""A non-learned reference soundtrack: a click at every sudden stop of local motion (the ``click-stops`` row).

Contacts are heard when a hand or tool stops, so a track that clicks at each sudden stop of camera-compensated motion
is the simplest predictor a model must beat on real footage. Stops come from the ``motion`` frame encoder
(``models/frame_encoder.py``), the same features a ``tiny-motion`` model reads:

1. Frames at the source's frame rate up to 30 fps (a 15 or 25 fps source resampled to 30 fps repeats frames, and
   every repeat would read as a stop), 128 × 128 centre crop (as E_V), the whole clip in one window.
2. Stop strength per frame s[t] = the encoder's ``stop_max_cell`` before squashing (``motion_signals``): the largest
   drop of camera-compensated motion magnitude in any of the 8 × 8 cells from frame t − 1 to t, in frame sides per
   frame.
3. A stop is a frame where s[t] is the largest within ±``spacing_s``, s[t] ≥ ``ratio`` × the clip's median s (so
   constant shaking does not click everywhere) and s[t] ≥ ``threshold``. These settings were chosen by looking at
   the stop-strength distributions of four clips of ``real_clips`` (not at any score), then fixed.
4. Each stop becomes a click: 30 ms of white noise (seeded), 2 ms rise then exponential decay, −6 dBFS peak.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

CLICK_FPS = 30.0  # the highest frame rate the stops are picked at


@dataclass(frozen=True)
class ClickConfig:
    """Stop picking and click shape (module docstring)."""

    threshold: float = 0.02
    ratio: float = 3.0
    spacing_s: float = 0.1
    click_s: float = 0.03
    peak: float = 0.5
    seed: int = 0


DEFAULT_CLICKS = ClickConfig()


def stop_strength(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB [T, 128, 128, 3] → s [T] (``stop_max_cell`` of the motion encoder, frame sides per frame)."""
    from egosonics.models.frame_encoder import MotionFrameEncoder

    return MotionFrameEncoder().motion_signals(frames)["stop_max_cell"].astype(np.float64)


def pick_stops(strength: np.ndarray, *, fps: float = CLICK_FPS, config: ClickConfig = DEFAULT_CLICKS) -> np.ndarray:
    """Times (s) of the stops in a stop-strength curve [T] (module docstring, step 3)."""
    s = np.asarray(strength, dtype=np.float64)
    if s.size == 0:
        return np.zeros(0)
    half = max(1, round(config.spacing_s * fps))
    floor = max(config.threshold, config.ratio * float(np.median(s)))
    times = []
    for t in range(len(s)):
        window = s[max(0, t - half):t + half + 1]
        if s[t] >= floor and s[t] == window.max() and not (times and t - times[-1] <= half):
            times.append(t)
    return np.array(times, dtype=np.float64) / fps


def click_track(times_s: np.ndarray, num_samples: int, sample_rate: int, *,
                config: ClickConfig = DEFAULT_CLICKS) -> np.ndarray:
    """A float32 waveform [num_samples] with a decaying noise click starting at each time."""
    out = np.zeros(num_samples, np.float32)
    length = max(1, round(config.click_s * sample_rate))
    rng = np.random.default_rng(config.seed)
    envelope = np.exp(-np.arange(length) / (length / 5))  # ~43 dB down at the end
    onset = max(1, round(0.002 * sample_rate))
    envelope[:onset] *= np.linspace(0, 1, onset, endpoint=False) if onset > 1 else 1
    for t in np.asarray(times_s, dtype=np.float64):
        start = round(t * sample_rate)
        if not 0 <= start < num_samples:
            continue
        click = (rng.uniform(-1, 1, length) * envelope * config.peak).astype(np.float32)
        end = min(num_samples, start + length)
        out[start:end] += click[:end - start]
    return out


def motion_click_track(path: str | os.PathLike[str], num_samples: int, sample_rate: int, *,
                       config: ClickConfig = DEFAULT_CLICKS) -> tuple[np.ndarray, np.ndarray]:
    """The click track of a video file's first ``num_samples`` / ``sample_rate`` seconds: (waveform, stop times)."""
    from egosonics.evaluation.sync.motion import native_fps
    from egosonics.media.video import read_frames

    fps = min(CLICK_FPS, native_fps(str(path)))
    clip = read_frames(path, duration_s=num_samples / sample_rate, fps=fps, size=128, crop=True)
    times = pick_stops(stop_strength(clip.frames[:clip.num_valid]), fps=fps, config=config)
    return click_track(times, num_samples, sample_rate, config=config), times
