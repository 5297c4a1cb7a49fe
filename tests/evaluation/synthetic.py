"""Synthetic clips with known events for the sync-metric oracles (EVALUATION.md §7.4, items 12–17).

A textured square on a static background jumps between two positions (about 20 px apart) at event frames, and is
still otherwise; the audio has 1 ms clicks at the event times over quiet room tone. Jumps rather than appear/disappear
flashes: a flash gives two equal consecutive flow values, which the strict local-maximum test of AV-Align never
accepts (§7.4 item 12, pitfall).
"""

from __future__ import annotations

import numpy as np

from egosonics.clip_spec import DEFAULT_CLIP

SR = DEFAULT_CLIP.sample_rate
FPS = DEFAULT_CLIP.fps
HOP = SR // FPS  # 735 samples per video frame
REGULAR_EVENTS = list(range(10, 300, 20))  # every 20 frames from frame 10 (§7.4 item 12)


def irregular_events(seed: int, num_frames: int = 300, low: int = 12, high: int = 40) -> list[int]:
    """Event frames with random gaps in [low, high): no period, so a cross-correlation has one clear peak."""
    gaps = np.random.default_rng(seed).integers(low, high, num_frames // low)
    events = np.cumsum(gaps)
    return [int(e) for e in events if e < num_frames - 2]


def jumping_square(events: list[int], *, num_frames: int = 300, height: int = 96, width: int = 128,
                   size: int = 24, jump: int = 20, seed: int = 0) -> np.ndarray:
    """Frames [T, H, W, 3] uint8: a textured square that jumps by ``jump`` px (diagonally) at each event frame."""
    rng = np.random.default_rng(seed)
    background = np.full((height, width, 3), 70, np.uint8)
    texture = rng.integers(0, 256, (size, size, 3)).astype(np.uint8)
    positions = [(24, 30), (24 + jump, 30 + jump)]
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    which, event_set = 0, set(events)
    for t in range(num_frames):
        if t in event_set:
            which = 1 - which
        frame = background.copy()
        y, x = positions[which]
        frame[y:y + size, x:x + size] = texture
        frames[t] = frame
    return frames


def click_track(times_s: list[float], num_samples: int = DEFAULT_CLIP.num_samples, *, sr: int = SR,
                click_s: float = 0.001, level: float = 1e-3, seed: int = 1) -> np.ndarray:
    """1 ms full-scale clicks (alternating ±0.9) at the given times over white room tone: [n] float32."""
    out = (level * np.random.default_rng(seed).standard_normal(num_samples)).astype(np.float32)
    length = max(1, int(round(click_s * sr)))
    click = 0.9 * np.where(np.arange(length) % 2 == 0, 1.0, -1.0).astype(np.float32)
    for t in times_s:
        i = int(round(t * sr))
        n = max(0, min(length, num_samples - i))
        out[i:i + n] += click[:n]
    return out


def delay(waveform: np.ndarray, samples: int) -> np.ndarray:
    """Delay by ``samples`` (prepend zeros, cut the end); a negative delay advances (drop the start, pad the end)."""
    n = len(waveform)
    if samples >= 0:
        return np.concatenate([np.zeros(samples, waveform.dtype), waveform])[:n]
    return np.concatenate([waveform[-samples:], np.zeros(-samples, waveform.dtype)])
