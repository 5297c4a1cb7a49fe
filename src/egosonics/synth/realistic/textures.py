"""Textured surfaces and backgrounds of realistic scenes: fractal noise, wood grain, brushed metal, tiles, bricks,
concrete, gravel, sand, diamond plate, and a panorama (wall with decor, bench top, floor) lit unevenly.

Everything is drawn once per clip, from the clip's own random stream; frames are windows of the panorama.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from egosonics.synth.raster import Canvas, Color, shade
from egosonics.synth.world import Layout

WALLS: tuple[str, ...] = ("plaster", "tiles", "bricks", "panels")
BENCHES: tuple[str, ...] = ("wood", "steel", "laminate")


def fbm(rng: np.random.Generator, h: int, w: int, scale: float, octaves: int = 4, gain: float = 0.5,
        stretch: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Fractal value noise [h, w] float32, about zero mean and unit std; ``scale`` is the coarsest feature in pixels,
    ``stretch`` (y, x) makes features longer along an axis (brushed metal, grain)."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cell = max(1.0, scale / 2 ** o)
        gh = int(h / (cell * stretch[0])) + 3
        gw = int(w / (cell * stretch[1])) + 3
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp * amp
        amp *= gain
    return out / np.float32(np.sqrt(total))


def tinted(tone: np.ndarray, color: Color | np.ndarray) -> np.ndarray:
    """A float tone map [h, w] times an RGB colour → [h, w, 3] float32."""
    return tone[..., None] * np.asarray(color, np.float32)[None, None, :]


@dataclass(frozen=True)
class Surfaces:
    """What one clip's world is made of (drawn per seed)."""

    wall: str
    wall_color: Color
    bench: str
    bench_color: Color
    floor: str
    floor_color: Color

    @classmethod
    def draw(cls, rng: np.random.Generator, floor: str) -> Surfaces:
        def jitter(base: tuple[int, int, int], spread: int) -> Color:
            return tuple(int(np.clip(c + rng.integers(-spread, spread + 1), 0, 255)) for c in base)  # type: ignore

        walls = {"plaster": (200, 196, 186), "tiles": (222, 224, 220), "bricks": (150, 82, 62), "panels": (170, 160,
                                                                                                            140)}
        benches = {"wood": (150, 106, 64), "steel": (170, 174, 180), "laminate": (214, 210, 200)}
        floors = {"wood": (128, 88, 56), "gravel": (150, 145, 135), "tile": (200, 200, 194), "metal": (120, 124, 130),
                  "sand": (196, 176, 132), "hard": (150, 150, 146)}
        wall = str(rng.choice(WALLS))
        bench = str(rng.choice(BENCHES))
        return cls(wall, jitter(walls[wall], 25), bench, jitter(benches[bench], 20), floor, jitter(floors[floor], 15))


def wall_texture(rng: np.random.Generator, s: Surfaces, h: int, w: int, u: float) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    tone = 1.0 + 0.05 * fbm(rng, h, w, 40 * u) + 0.02 * fbm(rng, h, w, 3 * u, octaves=2)
    if s.wall == "tiles":
        size = rng.uniform(14, 22) * u
        grout = ((xs % size) < 1.0 * u) | ((ys % size) < 1.0 * u)
        tone = tone - 0.25 * grout + 0.03 * np.sin(xs / size * 2.1 + ys / size * 1.3)
    elif s.wall == "bricks":
        bh, bw = 8 * u, 22 * u
        row = np.floor(ys / bh)
        offset = (row % 2) * bw / 2
        mortar = ((ys % bh) < 1.2 * u) | (((xs + offset) % bw) < 1.2 * u)
        brick_id = row * 1000 + np.floor((xs + offset) / bw)
        tint = 0.9 + 0.2 * ((np.sin(brick_id * 12.9898) * 43758.5453) % 1.0)
        tone = np.where(mortar, 1.45, tone * tint)
    elif s.wall == "panels":
        period = rng.uniform(30, 45) * u
        tone = tone - 0.18 * ((xs % period) < 1.3 * u) + 0.04 * np.sin(2 * np.pi * xs / period)
    return tinted(tone, s.wall_color)


def bench_texture(rng: np.random.Generator, s: Surfaces, h: int, w: int, u: float) -> np.ndarray:
    ys = np.arange(h, dtype=np.float32)[:, None]  # [h, 1]
    if s.bench == "wood":
        warp = 2.5 * fbm(rng, h, w, 60 * u, octaves=3, stretch=(0.3, 3.0))
        grain = np.sin(2 * np.pi * (ys / (5 * u) + warp))  # [h, w]
        tone = 1.0 + 0.08 * grain + 0.06 * fbm(rng, h, w, 20 * u, stretch=(0.4, 4.0))
    elif s.bench == "steel":
        tone = 1.0 + 0.07 * fbm(rng, h, w, 30 * u, stretch=(0.08, 8.0)) + 0.05 * fbm(rng, h, w, 80 * u)
    else:
        tone = 1.0 + 0.03 * fbm(rng, h, w, 50 * u) + 0.015 * rng.standard_normal((h, w)).astype(np.float32)
    return tinted(tone, s.bench_color)


def floor_texture(rng: np.random.Generator, s: Surfaces, h: int, w: int, u: float) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    base = fbm(rng, h, w, 30 * u)
    if s.floor == "wood":
        board = np.floor(ys / (16 * u))
        seam = ((xs + 37 * u * board) % (70 * u)) < 1.2 * u
        tone = 0.95 + 0.07 * np.sin(2 * np.pi * (xs / (23 * u) + board * 0.37 + 0.3 * base)) - 0.3 * seam
        tone = tone - 0.25 * ((ys % (16 * u)) < 1.0 * u)
    elif s.floor == "gravel":
        stones = cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), 0.8 * u)
        tone = 0.7 + 2.5 * (stones - stones.mean()) + 0.08 * base
    elif s.floor == "tile":
        size = 26 * u
        grout = ((xs % size) < 1.5 * u) | ((ys % size) < 1.5 * u)
        tone = 1.0 - 0.35 * grout + 0.05 * base
    elif s.floor == "metal":  # diamond plate
        a = np.sin((xs + ys) / (2.5 * u)) * np.sin((xs - ys) / (2.5 * u))
        tone = 0.95 + 0.2 * (a > 0.7) + 0.08 * fbm(rng, h, w, 20 * u, stretch=(0.2, 5.0))
    elif s.floor == "sand":
        tone = 1.0 + 0.08 * base + 0.06 * rng.standard_normal((h, w)).astype(np.float32)
    else:  # hard: concrete
        tone = 1.0 + 0.1 * base + 0.04 * fbm(rng, h, w, 4 * u, octaves=2)
    return tinted(tone, s.floor_color)


def build_panorama(layout: Layout, width: int, surfaces: Surfaces, rng: np.random.Generator) -> np.ndarray:
    """Wall (with decor), bench top and floor, unevenly lit. [pano_height, width, 3] uint8"""
    h, u = layout.pano_height, layout.u
    wall_end, bench_end = int(layout.wall_bottom), int(layout.bench_front)
    pano = np.empty((h, width, 3), np.float32)
    pano[:wall_end] = wall_texture(rng, surfaces, wall_end, width, u)
    pano[wall_end:bench_end] = bench_texture(rng, surfaces, bench_end - wall_end, width, u)
    pano[bench_end - int(4 * u):bench_end] *= 0.55  # the bench's front edge in shadow
    pano[bench_end:] = floor_texture(rng, surfaces, h - bench_end, width, u)
    pano[bench_end:bench_end + int(12 * u)] *= np.linspace(0.55, 1.0, int(12 * u), dtype=np.float32)[:, None, None]
    image = pano.clip(0, 255).astype(np.uint8)
    _decorate(Canvas(image), layout, width, rng)
    # Light: pools of lamp light and darker corners (multiplicative, smooth), and a shadow under the wall's foot.
    light = 0.82 + 0.22 * fbm(rng, h, width, 120 * u, octaves=2)
    return (image.astype(np.float32) * light[..., None]).clip(0, 255).astype(np.uint8)


def _random_color(rng: np.random.Generator, lo: int = 40, hi: int = 230) -> Color:
    return tuple(int(c) for c in rng.integers(lo, hi, 3))  # type: ignore[return-value]


def _decorate(canvas: Canvas, layout: Layout, width: int, rng: np.random.Generator) -> None:
    """Wall decor (shelves with jars, frames, windows, pegboards with tools, a cable) so that pans are seen."""
    u = layout.u
    x = rng.uniform(0, 50 * u)
    while x < width:
        kind = int(rng.integers(5))
        top = rng.uniform(0.55, 0.8) * layout.wall_bottom
        if kind == 0:  # picture frame
            w, hh = rng.uniform(18, 32) * u, rng.uniform(14, 24) * u
            canvas.rect(x, top, x + w, top + hh, shade(_random_color(rng, 30, 120), 0.8))
            canvas.rect(x + 2 * u, top + 2 * u, x + w - 2 * u, top + hh - 2 * u, _random_color(rng, 60, 220))
            canvas.ellipse(x + w * 0.4, top + hh * 0.5, w * 0.2, hh * 0.25, _random_color(rng), alpha=0.6)
        elif kind == 1:  # shelf with jars and boxes
            canvas.rect(x, top + 14 * u, x + 44 * u, top + 17 * u, (110, 80, 50))
            canvas.rect(x, top + 17 * u, x + 44 * u, top + 19 * u, (60, 45, 30), alpha=0.5)
            for j in range(int(rng.integers(2, 6))):
                jx, jh = x + 2 * u + j * 8.5 * u, rng.uniform(5, 11) * u
                canvas.rect(jx, top + 14 * u - jh, jx + 6 * u, top + 14 * u, _random_color(rng))
        elif kind == 2:  # window: bright sky, frame
            canvas.rect(x, top - 10 * u, x + 36 * u, top + 22 * u, (235, 235, 230))
            canvas.rect(x + 2 * u, top - 8 * u, x + 34 * u, top + 20 * u, (165, 200, 232))
            canvas.rect(x + 2 * u, top + 8 * u, x + 34 * u, top + 20 * u, (120, 150, 110), alpha=0.5)
            canvas.rect(x + 17 * u, top - 8 * u, x + 19 * u, top + 20 * u, (235, 235, 230))
        elif kind == 3:  # pegboard with hanging tools
            canvas.rect(x, top - 4 * u, x + 40 * u, top + 24 * u, (190, 160, 120))
            for j in range(int(rng.integers(2, 5))):
                tx = x + 5 * u + j * 9 * u
                canvas.capsule(tx, top, tx, top + rng.uniform(10, 20) * u, 1.2 * u, _random_color(rng, 20, 120))
        else:  # a cable down the wall
            canvas.capsule(x, 0, x + rng.uniform(-6, 6) * u, layout.wall_bottom, 0.8 * u, (40, 40, 40))
        x += rng.uniform(50, 95) * u
