"""A first-person view of a ball bouncing on a table, with an impact sound at every bounce.

Small and deterministic: used by the training tests as clips whose events are known to the sample (``make demo``
renders a ``synth.scene`` instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egosonics.clip_spec import DEFAULT_CLIP, ClipSpec


@dataclass
class BounceScene:
    """Frames [N, H, W, 3] uint8, mono audio [n] float32, and the bounce times in seconds."""

    frames: np.ndarray
    audio: np.ndarray
    events_s: list[float]
    clip: ClipSpec


def render_bounce(seed: int = 0, *, clip: ClipSpec = DEFAULT_CLIP, size: tuple[int, int] = (240, 320),
                  period_s: float = 0.9) -> BounceScene:
    """Render the scene.

    The ball falls under gravity and bounces every ``period_s`` (jittered per seed); each impact is a decaying
    two-mode resonance (wood-like) plus a short noise burst. The camera bobs slightly, as a head-mounted one does.
    """
    rng = np.random.default_rng(seed)
    height, width = size
    n_frames, n_samples, sr = clip.num_frames, clip.num_samples, clip.sample_rate
    # Bounce times: jittered periods, starting after a short delay.
    events, t = [], 0.4 + 0.3 * rng.random()
    while t < clip.duration_s - 0.2:
        events.append(round(t * clip.fps) / clip.fps)  # on a frame boundary, so picture and sound agree exactly
        t += period_s * (0.7 + 0.6 * rng.random())
    times = np.arange(n_frames) / clip.fps
    # Ball height: a parabola between consecutive impacts (0 at impact, 1 at the top).
    bounds = np.array([0.0, *events, clip.duration_s + period_s])
    idx = np.clip(np.searchsorted(bounds, times, side="right") - 1, 0, len(bounds) - 2)
    phase = (times - bounds[idx]) / (bounds[idx + 1] - bounds[idx])
    lift = 4 * phase * (1 - phase)
    x0 = width * (0.3 + 0.4 * rng.random())
    bob = 3 * np.sin(2 * np.pi * 1.7 * times + rng.random() * 6)

    yy, xx = np.mgrid[0:height, 0:width]
    floor_y = int(height * 0.78)
    radius = max(4, height // 16)
    base = np.zeros((height, width, 3), np.uint8)
    base[:] = (70, 80, 95)
    base[floor_y:] = (140, 100, 60)  # table top
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    for k in range(n_frames):
        shift = int(round(bob[k]))
        frame = np.roll(base, shift, axis=0)
        cy = floor_y + shift - radius - lift[k] * height * 0.5
        cx = x0 + 15 * np.sin(times[k] * 0.8)
        disk = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2
        frame[disk] = (230, 60, 40)
        frames[k] = frame

    audio = (0.003 * rng.standard_normal(n_samples)).astype(np.float32)  # room tone
    tail = np.arange(int(0.35 * sr)) / sr
    modes = np.array([380.0, 1150.0, 2600.0]) * (0.9 + 0.2 * rng.random())
    for onset in events:
        start = int(round(onset * sr))
        hit = sum(a * np.sin(2 * np.pi * f * tail) * np.exp(-tail / d)
                  for f, a, d in zip(modes, (0.5, 0.3, 0.15), (0.08, 0.04, 0.02), strict=True))
        hit = hit + 0.3 * rng.standard_normal(len(tail)) * np.exp(-tail / 0.005)
        end = min(n_samples, start + len(tail))
        audio[start:end] += (0.6 * hit[: end - start]).astype(np.float32)
    return BounceScene(frames=frames, audio=np.clip(audio, -1, 1), events_s=events, clip=clip)
