"""Test media for the pipeline benchmarks: H.264 + AAC files of any length, written frame by frame (low memory).

The picture is a smooth random texture panning in two directions (so H.264 has real work, as with a moving camera);
the sound is noise plus a gliding tone under a slow loudness envelope with quiet stretches, so an RMS threshold
keeps some 10 s windows and rejects others. Everything is derived from ``seed``: the same call writes the same file.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np


def texture(rng: Any, height: int, width: int, smooth: int) -> Any:
    """A uint8 [height, width] plane of uniform noise box-filtered over ``smooth`` pixels: a texture to code."""
    from scipy.ndimage import uniform_filter

    return uniform_filter(rng.integers(0, 256, (height, width)).astype(np.float32), smooth).astype(np.uint8)


def panned_frame(luma: Any, chroma: Any, x: int, y: int, width: int, height: int, pts: int) -> Any:
    """The yuv420p ``av.VideoFrame`` that shows ``luma`` from (x, y) (chroma at half resolution), with ``pts``."""
    import av

    u = chroma[y // 2:y // 2 + height // 2, x // 2:x // 2 + width // 2]
    planes = np.concatenate([luma[y:y + height, x:x + width], u.reshape(-1, width),
                             u[::-1].reshape(-1, width)])  # yuv420p layout [H * 3/2, W]
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(planes), format="yuv420p")
    frame.pts = pts
    return frame


def write_av_file(path: Path, duration_s: float, *, width: int = 320, height: int = 240, fps: int = 30,
                  sample_rate: int = 48_000, channels: int = 2, seed: int = 0, quiet_every_s: float = 40.0) -> None:
    """Write ``duration_s`` seconds of H.264 (libx264 ultrafast, yuv420p) + AAC, interleaved second by second.

    Args:
        width, height: even frame size.
        sample_rate, channels: the AAC track (48 kHz stereo, as a camera records).
        quiet_every_s: every this many seconds a 12 s stretch drops to about -70 dBFS (so thresholds matter).
    """
    import av

    rng = np.random.default_rng(seed)
    margin_x, margin_y = width // 2, height // 2
    luma = texture(rng, height + 2 * margin_y, width + 2 * margin_x, 5)
    chroma = texture(rng, (height + 2 * margin_y) // 2, (width + 2 * margin_x) // 2, 9)
    layout = {1: "mono", 2: "stereo"}[channels]
    seconds = int(np.ceil(duration_s))
    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=sample_rate, layout=layout)
        frames_total = round(duration_s * fps)
        for sec in range(seconds):
            for i in range(fps):
                n = sec * fps + i
                if n >= frames_total:
                    break
                x = (int(margin_x * (1 + np.sin(n / 90))) // 2) * 2
                y = (int(margin_y * (1 + np.cos(n / 123))) // 2) * 2
                for packet in video.encode(panned_frame(luma, chroma, x, y, width, height, n)):
                    out.mux(packet)
            n_samples = min(sample_rate, round((duration_s - sec) * sample_rate))
            if n_samples <= 0:
                continue
            t = (sec * sample_rate + np.arange(n_samples)) / sample_rate
            quiet = (t % quiet_every_s) > quiet_every_s - 12.0
            gain = np.where(quiet, 3e-4, 0.25 * (1.2 + np.sin(2 * np.pi * t / 17.0)) / 2.2)
            tone = np.sin(2 * np.pi * (300 * t + 80 * np.sin(2 * np.pi * 0.1 * t)))
            chans = [gain * (0.5 * rng.standard_normal(n_samples) + 0.5 * np.roll(tone, 37 * c))
                     for c in range(channels)]
            frame = av.AudioFrame.from_ndarray(np.stack(chans).astype(np.float32), format="fltp", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = sample_rate, sec * sample_rate, Fraction(1, sample_rate)
            for packet in audio.encode(frame):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                out.mux(packet)
