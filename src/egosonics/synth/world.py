"""The static world of a synthetic scene: a wide panorama (wall, workbench, floor) drawn once per clip, the camera
looking at a window of it.

World coordinates are pixels of the panorama. From top to bottom: the wall (``0 .. wall_bottom``), the bench top
(``.. bench_front``) on which the stations' objects stand along the line ``object_y``, then the floor
(``.. pano_height``). Standing at a station the camera sees 30 % wall and the bench; walking it tilts down to the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from egosonics.synth.raster import Canvas, Color, shade


@dataclass(frozen=True)
class Layout:
    """Geometry in world pixels, derived from the frame size (designed at 128 px height, ``u`` px per unit)."""

    height: int
    width: int
    fps: int
    sample_rate: int

    @property
    def u(self) -> float:
        return self.height / 128.0

    @property
    def wall_bottom(self) -> float:
        return 1.0 * self.height

    @property
    def bench_front(self) -> float:
        return self.wall_bottom + 1.15 * self.height

    @property
    def pano_height(self) -> int:
        return int(round(self.bench_front + 1.2 * self.height))

    @property
    def object_y(self) -> float:
        """Where objects on the bench stand (their base line)."""
        return self.wall_bottom + 0.36 * self.height

    @property
    def stand_y(self) -> float:
        """Camera top edge when standing at the bench."""
        return self.wall_bottom - 0.3 * self.height

    @property
    def walk_y(self) -> float:
        """Camera top edge when walking, looking down at the floor."""
        return self.bench_front - 0.15 * self.height

    def onset_sample(self, frame: int) -> int:
        """The audio sample at which frame ``frame`` starts."""
        return int(round(frame * self.sample_rate / self.fps))


@dataclass(frozen=True)
class Look:
    """Colours of one clip (drawn per seed, independent of the sounds)."""

    wall: Color
    bench: Color
    skin: Color
    sleeve: Color
    trousers: Color
    shoes: Color
    machine: Color
    floor: str

    @classmethod
    def draw(cls, rng: np.random.Generator, floor: str) -> Look:
        def jitter(base: tuple[int, int, int], spread: int) -> Color:
            return tuple(int(np.clip(c + rng.integers(-spread, spread + 1), 0, 255)) for c in base)  # type: ignore

        sleeves = [(40, 70, 150), (150, 40, 40), (40, 120, 70), (90, 90, 100), (200, 150, 40)]
        return cls(
            wall=jitter((196, 192, 180), 20), bench=jitter((150, 108, 66), 18), skin=jitter((222, 170, 135), 15),
            sleeve=jitter(sleeves[int(rng.integers(len(sleeves)))], 15), trousers=jitter((50, 60, 85), 15),
            shoes=jitter((45, 40, 38), 10), machine=jitter((70, 95, 140), 25), floor=floor,
        )


# ------------------------------------------------------------------------------------------------ the panorama


def build_panorama(layout: Layout, width: int, look: Look, rng: np.random.Generator) -> np.ndarray:
    """Wall, bench and floor textures of a world ``width`` pixels wide. [pano_height, width, 3] uint8"""
    h, u = layout.pano_height, layout.u
    pano = np.empty((h, width, 3), np.uint8)
    xs = np.arange(width, dtype=np.float32)[None, :]  # [1, w]
    wall_end, bench_end = int(layout.wall_bottom), int(layout.bench_front)

    # 1. Wall: light, darker towards the bench, with panel seams every ~40 units.
    ys = np.arange(wall_end, dtype=np.float32)[:, None]  # [hw, 1]
    tone = 1.0 - 0.12 * ys / wall_end - 0.08 * ((xs % (40 * u)) < 1.2 * u)  # [hw, w]
    pano[:wall_end] = (tone[..., None] * np.asarray(look.wall, np.float32)).clip(0, 255).astype(np.uint8)

    # 2. Bench: wood grain along x (wavy stripes), a darker front edge.
    ys = np.arange(wall_end, bench_end, dtype=np.float32)[:, None]  # [hb, 1]
    grain = np.sin(2 * np.pi * (ys / (7 * u) + 0.6 * np.sin(2 * np.pi * xs / (150 * u))))  # [hb, w]
    tone = 1.0 + 0.07 * grain + 0.05 * rng.standard_normal((bench_end - wall_end, 1)).astype(np.float32)
    pano[wall_end:bench_end] = (tone[..., None] * np.asarray(look.bench, np.float32)).clip(0, 255).astype(np.uint8)
    pano[bench_end - int(4 * u):bench_end] = shade(look.bench, 0.6)

    # 3. Floor: boards, gravel or tiles; features across x so that walking (a sideways move) is seen.
    ys = np.arange(bench_end, h, dtype=np.float32)[:, None]  # [hf, 1]
    if look.floor == "wood":
        board = np.floor(ys / (16 * u))
        seam = ((xs + 37 * u * board) % (70 * u)) < 1.2 * u
        tone = 0.95 + 0.06 * np.sin(2 * np.pi * (xs / (23 * u) + board * 0.37)) - 0.35 * seam
        tone = tone - 0.3 * ((ys % (16 * u)) < 1.0 * u)
        base = np.array([128, 88, 56], np.float32)
    elif look.floor == "gravel":
        tone = 0.85 + 0.3 * rng.random((h - bench_end, width), dtype=np.float32)
        base = np.array([150, 145, 135], np.float32)
    else:  # tile
        grout = ((xs % (26 * u)) < 1.5 * u) | ((ys % (26 * u)) < 1.5 * u)
        tone = 1.0 - 0.4 * grout + 0.04 * np.sin(xs / (9 * u))
        base = np.array([205, 205, 198], np.float32)
    tone = np.broadcast_to(tone, (h - bench_end, width))
    pano[bench_end:] = (tone[..., None] * base).clip(0, 255).astype(np.uint8)

    # 4. Wall decor, so that pans are seen: shelves, frames, a window.
    canvas = Canvas(pano)
    for x in np.arange(rng.uniform(0, 60 * u), width, rng.uniform(70, 110) * u):
        kind = rng.integers(3)
        top = rng.uniform(0.74, 0.8) * layout.wall_bottom
        if kind == 0:  # picture frame
            w, hh = rng.uniform(18, 30) * u, rng.uniform(14, 22) * u
            canvas.rect(x, top, x + w, top + hh, (70, 55, 40))
            canvas.rect(x + 2 * u, top + 2 * u, x + w - 2 * u, top + hh - 2 * u,
                        tuple(int(c) for c in rng.integers(60, 220, 3)))
        elif kind == 1:  # shelf with jars
            canvas.rect(x, top + 14 * u, x + 40 * u, top + 17 * u, (110, 80, 50))
            for j in range(int(rng.integers(2, 5))):
                jx = x + 3 * u + j * 9 * u
                canvas.rect(jx, top + 5 * u, jx + 6 * u, top + 14 * u, tuple(int(c) for c in rng.integers(50, 230, 3)))
        else:  # window
            canvas.rect(x, top - 8 * u, x + 34 * u, top + 22 * u, (235, 235, 230))
            canvas.rect(x + 2 * u, top - 6 * u, x + 32 * u, top + 20 * u, (150, 190, 225))
            canvas.rect(x + 16 * u, top - 6 * u, x + 18 * u, top + 20 * u, (235, 235, 230))
    return pano


# ------------------------------------------------------------------------------------------------ static objects


def draw_block(canvas: Canvas, x: float, y: float, u: float, color: Color) -> tuple[float, float]:
    """A block with a top face; returns the centre of its top face (where it is struck)."""
    canvas.rect(x - 17 * u, y - 18 * u, x + 17 * u, y, color)
    canvas.rect(x - 17 * u, y - 25 * u, x + 17 * u, y - 18 * u, shade(color, 1.2))
    canvas.rect(x - 17 * u, y - 2 * u, x + 17 * u, y, shade(color, 0.7))
    return x, y - 21 * u


def draw_pan(canvas: Canvas, x: float, y: float, u: float) -> tuple[float, float]:
    """A metal pan seen from above, handle to the left; returns the middle of its inside."""
    canvas.capsule(x - 19 * u, y - 9 * u, x - 40 * u, y - 13 * u, 2.5 * u, (40, 40, 45))
    canvas.ellipse(x, y - 8 * u, 20 * u, 9 * u, (115, 120, 130))
    canvas.ellipse(x, y - 8.5 * u, 16.5 * u, 6.8 * u, (168, 172, 182))
    canvas.ellipse(x + 7 * u, y - 11 * u, 4 * u, 1.5 * u, (235, 235, 240))
    return x, y - 8 * u


def draw_jar(canvas: Canvas, x: float, y: float, u: float) -> tuple[float, float]:
    """A glass jar: see-through body, bright edges, a highlight; returns the middle of its rim."""
    canvas.rect(x - 10 * u, y - 30 * u, x + 10 * u, y, (200, 232, 245), alpha=0.45)
    canvas.rect(x - 10 * u, y - 30 * u, x - 8.5 * u, y, (130, 170, 190))
    canvas.rect(x + 8.5 * u, y - 30 * u, x + 10 * u, y, (130, 170, 190))
    canvas.rect(x - 6 * u, y - 26 * u, x - 4.5 * u, y - 4 * u, (245, 250, 255))
    canvas.ellipse(x, y - 30 * u, 10 * u, 3 * u, (160, 200, 220))
    canvas.ellipse(x, y - 30 * u, 7.5 * u, 1.8 * u, (215, 240, 250))
    return x, y - 30 * u


def draw_board(canvas: Canvas, x: float, y: float, u: float) -> float:
    """A light wooden cutting board; returns the y of its top surface."""
    canvas.rect(x - 28 * u, y - 16 * u, x + 28 * u, y, (214, 176, 118))
    canvas.rect(x - 28 * u, y - 4 * u, x + 28 * u, y, (170, 130, 82))
    return y - 10 * u


def draw_plank(canvas: Canvas, x: float, y: float, u: float) -> None:
    """A plank lying towards the viewer (the saw cuts across it)."""
    canvas.rect(x - 11 * u, y - 46 * u, x + 11 * u, y + 12 * u, (192, 146, 96))
    for gx in (-6, -1, 5):
        canvas.rect(x + gx * u, y - 46 * u, x + (gx + 0.8) * u, y + 12 * u, (170, 125, 80))
    canvas.rect(x - 11 * u, y + 9 * u, x + 11 * u, y + 12 * u, (150, 108, 66))


def draw_machine_body(canvas: Canvas, x: float, y: float, u: float, color: Color) -> None:
    """A bench grinder's housing; its wheel, switch and light are drawn per frame."""
    canvas.rect(x - 22 * u, y - 32 * u, x + 18 * u, y, color)
    canvas.rect(x - 22 * u, y - 36 * u, x + 18 * u, y - 32 * u, shade(color, 1.3))
    canvas.rect(x - 24 * u, y - 3 * u, x + 20 * u, y, (50, 50, 55))
    canvas.ellipse(x - 5 * u, y - 17 * u, 12.5 * u, 12.5 * u, (35, 38, 45))


def draw_glass(canvas: Canvas, x: float, y: float, u: float) -> None:
    """A drinking glass's walls (the water in it is drawn per frame)."""
    canvas.rect(x - 8 * u, y - 24 * u, x + 8 * u, y, (205, 232, 242), alpha=0.35)
    canvas.rect(x - 8 * u, y - 24 * u, x - 6.8 * u, y, (130, 170, 190))
    canvas.rect(x + 6.8 * u, y - 24 * u, x + 8 * u, y, (130, 170, 190))
    canvas.rect(x - 8 * u, y - 1.5 * u, x + 8 * u, y, (130, 170, 190))


def draw_clutter(canvas: Canvas, x: float, y: float, u: float, rng: np.random.Generator) -> tuple[float, float]:
    """A silent object (mug, books or bottle); returns the centre of its top."""
    kind = rng.integers(3)
    color = tuple(int(c) for c in rng.integers(40, 230, 3))
    if kind == 0:  # mug
        canvas.ellipse(x + 9 * u, y - 8 * u, 4 * u, 5 * u, shade(color, 0.7))
        canvas.rect(x - 8 * u, y - 16 * u, x + 8 * u, y, color)
        canvas.ellipse(x, y - 16 * u, 8 * u, 2.5 * u, shade(color, 0.5))
        return x, y - 16 * u
    if kind == 1:  # books
        top = y
        for _ in range(int(rng.integers(2, 4))):
            c = tuple(int(v) for v in rng.integers(40, 230, 3))
            canvas.rect(x - 15 * u, top - 6 * u, x + 15 * u, top, c)
            canvas.rect(x - 15 * u, top - 6 * u, x + 15 * u, top - 5 * u, (235, 230, 220))
            top -= 6 * u
        return x, top
    canvas.rect(x - 5 * u, y - 30 * u, x + 5 * u, y, color)  # bottle
    canvas.rect(x - 2 * u, y - 38 * u, x + 2 * u, y - 30 * u, shade(color, 0.8))
    return x, y - 38 * u
