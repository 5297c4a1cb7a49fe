"""Footsteps in realistic scenes: the wearer looks down and walks; the head bobs and is jerked at every heel strike
(``physics.Gait``), and each shoe swings forward and decelerates onto the floor where its step is heard."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from egosonics.synth import sounds
from egosonics.synth.actions.walk import Walking
from egosonics.synth.raster import Canvas, shade
from egosonics.synth.realistic.actions import Contact, RAction, Sound
from egosonics.synth.realistic.physics import PROFILES, Gait
from egosonics.synth.settings import FLOOR_MATERIALS
from egosonics.synth.world import Layout, Look

if TYPE_CHECKING:
    from egosonics.synth.realistic.sfx import SfxLibrary

_FLOOR_WORDS = {"wood": "the wooden floor", "gravel": "gravel", "tile": "the tiled floor", "metal": "a metal grating",
                "sand": "sand", "hard": "concrete"}


class Walk(Walking, RAction):
    kind = "footsteps"
    smooth = staticmethod(PROFILES["smooth"])

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float, x_from: float,
                 n: int, distance: float, floor: str) -> None:
        super().__init__(layout, look, start_s, x_from)
        u, w, h = layout.u, layout.width, layout.height
        self.x_from, self.x_to, self.floor = x_from, x_from + distance, floor
        self.t_down, period = rng.uniform(0.35, 0.45), rng.uniform(0.45, 0.6)
        first = start_s + self.t_down + 0.25
        self.strikes = [first + i * period + (rng.uniform(-0.03, 0.03) if i else 0.0) for i in range(n)]
        self.swing = 0.6 * period
        self.t_up = rng.uniform(0.35, 0.45)
        self.end_s = self.strikes[-1] + rng.uniform(0.3, 0.4) + self.t_up
        self.move = (self.strikes[0] - 0.6 * period, self.strikes[-1] + 0.2 * period)
        self.gait = Gait(self.strikes, bob=rng.uniform(2.5, 4.5) * u, sway=rng.uniform(1.5, 3.0) * u,
                         shudder=rng.uniform(0.4, 1.0) * u)
        self.lanes = (layout.walk_y + 0.6 * h, layout.walk_y + 0.84 * h)
        self.plants: list[list[tuple[float, float, float]]] = [
            [(start_s, x_from - 0.05 * w, self.lanes[0])], [(start_s, x_from + 0.03 * w, self.lanes[1])]]
        for i, tc in enumerate(self.strikes):
            foot = i % 2
            plant = (tc, self.centre_x(tc) + 0.15 * w, self.lanes[foot])
            self.plants[foot].append(plant)
            self.events.append(Contact(tc, (plant[1], plant[2]), floor))

    def view(self, t: float) -> tuple[float, float]:
        lay = self.layout
        dx, dy = self.gait(t)
        return self.centre_x(t) - lay.width / 2 + dx, lay.stand_y + (lay.walk_y - lay.stand_y) * self.tilt(t) + dy

    def foot(self, foot: int, t: float) -> tuple[float, float, bool]:
        plants = self.plants[foot]
        j = max(i for i, p in enumerate(plants) if p[0] <= t) if t >= plants[0][0] else 0
        if j + 1 < len(plants) and t > plants[j + 1][0] - self.swing:
            (_, x0, y0), (t1, x1, y1) = plants[j], plants[j + 1]
            s = 1.0 - (t1 - t) / self.swing
            a = PROFILES["contact"](s)  # the swing slows before the heel meets the floor
            return x0 + (x1 - x0) * a, y0 + (y1 - y0) * a - 6 * self.u * math.sin(math.pi * a), True
        return plants[j][1], plants[j][2], False

    def draw(self, canvas: Canvas, t: float) -> None:
        if not self.start_s <= t <= self.end_s:
            return
        u, w, h = self.u, self.layout.width, self.layout.height
        for foot in (0, 1):
            fx, fy, air = self.foot(foot, t)
            hip = (canvas.ox + (0.42 + 0.16 * foot) * w, canvas.oy + 1.4 * h)
            canvas.ellipse(fx + 2 * u, fy + 3 * u, 12 * u, 3 * u, (20, 20, 20), alpha=0.25 if air else 0.45)
            canvas.capsule(fx - 7 * u, fy, *hip, 6.5 * u, self.look.trousers)
            canvas.ellipse(fx, fy, 12 * u, 5.5 * u, self.look.shoes)
            canvas.ellipse(fx + 3 * u, fy - 1 * u, 6 * u, 2.5 * u, shade(self.look.shoes, 1.6))

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        sr = self.layout.sample_rate
        out: list[Sound] = []
        for _ in self.events:
            if self.floor in FLOOR_MATERIALS:
                out.append((sounds.footstep_sound(self.floor, rng, sr, strength=rng.uniform(0.7, 1.0)), []))
                continue
            assert sfx is not None, f"footsteps on {self.floor} need the sfx library"
            wave, src = sfx.pick(f"footsteps-{self.floor}", rng, sr)
            n = len(wave)
            thump = np.sin(2 * np.pi * rng.uniform(55.0, 80.0) * np.arange(n) / sr) * sounds.decay(n, 0.03, sr)
            out.append((0.4 * wave * rng.uniform(0.7, 1.0) + 0.12 * thump, [src.attribution("footsteps")]))
        return out

    def phrase(self) -> str:
        n = len(self.events)
        return f"walk {n} step{'s' if n > 1 else ''} on {_FLOOR_WORDS[self.floor]}"
