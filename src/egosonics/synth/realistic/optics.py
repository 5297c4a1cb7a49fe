"""The camera of a realistic scene: its format (frame rate, size, shutter, bitrate, drawn per clip), the exposure
(motion blur from several samples inside the shutter time, sub-pixel position and roll), and what the sensor and the
light add (defocus, vignetting, colour cast, slow and sudden lighting changes, noise). Compression happens when the
MP4 is written, at the drawn bitrate (``Format.video_options``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from egosonics.synth.realistic.physics import Wobble
from egosonics.synth.settings import FRAME_RATES, SynthSettings

EXPOSURE_SAMPLES = 4
"""Renders averaged per frame, spread over the shutter time (the motion blur)."""

_JITTER = ((-0.375, -0.125), (0.125, -0.375), (0.375, 0.125), (-0.125, 0.375))
"""Sub-pixel offsets of the drawn shapes per exposure sample (a rotated grid, mean zero): averaged, they antialias
the shapes' edges, so that a motion of a tenth of a pixel changes a tenth of an edge, not a whole row of pixels."""

ASPECTS: tuple[float, ...] = (4 / 3, 16 / 9, 1.0, 3 / 2)


def _even(x: float) -> int:
    return max(48, 2 * int(round(x / 2)))


@dataclass(frozen=True)
class Format:
    """What one clip's camera is (all drawn from the clip's own random stream).

    Attributes:
        fps: frame rate (``FRAME_RATES``); height, width: frame size (around the settings' height, any of ``ASPECTS``).
        shutter: exposure time as a share of the frame period (motion blur length).
        defocus_px: Gaussian blur of the optics (pixels); vignette: darkening at the corners (share).
        color: RGB gains (white balance); exposure: overall gain.
        noise: sensor noise std at mid-grey (8-bit levels).
        light_change: size of a sudden lighting change (a lamp, a cloud), 0 = none; light_at: when (s).
        bitrate_kbps: H.264 bitrate of the MP4 (bits per pixel per frame drawn in 0.03–0.2, as phones to web video).
    """

    fps: int
    height: int
    width: int
    shutter: float
    defocus_px: float
    vignette: float
    color: tuple[float, float, float]
    exposure: float
    noise: float
    light_change: float
    light_at: float
    bitrate_kbps: int

    @classmethod
    def draw(cls, rng: np.random.Generator, settings: SynthSettings) -> Format:
        fps = int(rng.choice(FRAME_RATES))
        height = _even(settings.height * rng.uniform(0.8, 1.25))
        width = _even(height * float(rng.choice(ASPECTS)))
        shutter = float(rng.uniform(0.25, 0.9))
        bpp = float(np.exp(rng.uniform(math.log(0.03), math.log(0.2))))
        change = float(rng.uniform(-0.25, 0.25)) if rng.random() < 0.4 else 0.0
        return cls(
            fps=fps, height=height, width=width, shutter=round(shutter, 3),
            defocus_px=round(float(rng.uniform(0.0, 0.8)), 3), vignette=round(float(rng.uniform(0.1, 0.35)), 3),
            color=tuple(round(float(c), 3) for c in 1.0 + rng.uniform(-0.07, 0.07, 3)),  # type: ignore[arg-type]
            exposure=round(float(rng.uniform(0.8, 1.12)), 3), noise=round(float(rng.uniform(1.0, 5.0)), 3),
            light_change=round(change, 3), light_at=round(float(rng.uniform(0.1, 0.9) * settings.clip.duration_s), 3),
            bitrate_kbps=max(30, int(round(bpp * width * height * fps / 1000))),
        )

    def video_options(self, preset: str) -> dict[str, str]:
        """libx264 at the drawn bitrate, a key frame every 2 s, one thread and no macroblock tree: with mbtree the
        first encode in a process was seen to differ from later ones (its float rate control is sensitive to the
        process's floating-point state), so the same seed would not always give the same MP4 bytes."""
        kbps = self.bitrate_kbps
        return {"preset": preset, "b": f"{kbps}k", "maxrate": f"{int(1.5 * kbps)}k", "bufsize": f"{2 * kbps}k",
                "g": str(2 * self.fps), "threads": "1", "x264-params": "mbtree=0"}

    def to_dict(self) -> dict:
        out = asdict(self)
        out["color"] = list(self.color)
        return out


class Sensor:
    """Per-frame light and sensor: gain(t) (slow drift and at most one sudden change, eased over ~0.4 s), the
    static vignette, colour cast and defocus, and noise whose level grows with the signal (shot noise)."""

    def __init__(self, fmt: Format, rng: np.random.Generator) -> None:
        self.fmt, self.rng = fmt, rng
        self.drift = Wobble(rng, (0.05, 0.4), 0.04)
        h, w = fmt.height, fmt.width
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xs - w / 2) / (w / 2)) ** 2 + ((ys - h / 2) / (h / 2)) ** 2
        self.gain_map = ((1.0 - fmt.vignette * r2 / 2.0)[..., None]
                         * np.asarray(fmt.color, np.float32)[None, None, :] * np.float32(fmt.exposure))

    def gain(self, t: float) -> float:
        f = self.fmt
        step = 0.0
        if f.light_change:
            s = min(1.0, max(0.0, (t - f.light_at) / 0.4))
            step = f.light_change * s * s * (3.0 - 2.0 * s)
        return 1.0 + self.drift(t) + step

    def develop(self, image: np.ndarray, t: float) -> np.ndarray:
        """A float32 exposure [H, W, 3] (0..255) → the uint8 frame."""
        if self.fmt.defocus_px > 0.3:
            image = cv2.GaussianBlur(image, (0, 0), self.fmt.defocus_px)
        image = image * (self.gain_map * np.float32(self.gain(t)))
        sigma = self.fmt.noise * np.sqrt(np.clip(image, 8.0, 255.0) / 128.0)
        image += sigma * self.rng.standard_normal(image.shape, dtype=np.float32)
        return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def expose(pano: np.ndarray, fmt: Format, pose: Callable[[float], tuple[float, float, float]], t: float,
           draw: Callable[[np.ndarray, tuple[float, float], float], None], margin: int) -> np.ndarray:
    """One frame's exposure at time t: ``EXPOSURE_SAMPLES`` renders over the shutter time, averaged. [H, W, 3] f32

    Args:
        pano: the static world [Hp, Wp, 3] uint8.
        pose: t → (x, y, roll) of the camera (top-left corner in world pixels; roll in radians).
        draw: draws the moving things at time t on a window (image, its world origin) in place.
        margin: extra pixels rendered around the window (for the sub-pixel shift and roll).
    """
    h, w = fmt.height, fmt.width
    acc = np.zeros((h, w, 3), np.float32)
    span = fmt.shutter / fmt.fps
    for j in range(EXPOSURE_SAMPLES):
        tj = t + span * (j / (EXPOSURE_SAMPLES - 1) - 0.5)
        x, y, roll = pose(tj)
        ix, iy = int(math.floor(x)) - margin, int(math.floor(y)) - margin
        window = pano[iy:iy + h + 2 * margin, ix:ix + w + 2 * margin].copy()
        jx, jy = _JITTER[j % len(_JITTER)]
        draw(window, (ix + jx, iy + jy), tj)
        # Output pixel p samples the window at R (p - c) + c + offset: sub-pixel position and roll about the centre.
        c, s = math.cos(roll), math.sin(roll)
        ox, oy = x - ix, y - iy
        cx, cy = w / 2, h / 2
        m = np.array([[c, -s, ox + cx - c * cx + s * cy], [s, c, oy + cy - s * cx - c * cy]], np.float32)
        acc += cv2.warpAffine(window, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REFLECT).astype(np.float32)
    return acc / np.float32(EXPOSURE_SAMPLES)
