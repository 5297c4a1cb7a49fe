"""People walking: the wearer's own footsteps (``Walk``) and the silent ``Passerby`` behind the bench."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from egosonics.synth import sounds
from egosonics.synth.actions.base import EASE, Action, PlannedEvent, number_word
from egosonics.synth.raster import Canvas, shade
from egosonics.synth.world import Layout, Look

# ------------------------------------------------------------------------------------------------ footsteps


class Walking:
    """The camera of the wearer's own walk, for the easy and the realistic ``Walk``: it tilts down (``t_down``) from
    the station at ``x_from``, moves to ``x_to`` during ``move`` with the ``smooth`` easing, and tilts back up
    (``t_up``) before ``end_s``. The walks add their own head motion to ``tilt``."""

    layout: Layout
    start_s: float
    end_s: float
    span: float
    x_from: float
    x_to: float
    move: tuple[float, float]
    t_down: float
    t_up: float
    smooth: Callable[[float], float]

    @property
    def extent(self) -> tuple[float, float]:
        return self.x_from - self.span * self.layout.width, self.x_to + self.span * self.layout.width

    def centre_x(self, t: float) -> float:
        """World x the wearer is at: walks from x_from to x_to between the first swing and the last step."""
        a, b = self.move
        s = min(1.0, max(0.0, (t - a) / (b - a)))
        return self.x_from + (self.x_to - self.x_from) * self.smooth(s)

    def view_start(self) -> tuple[float, float]:
        return self.x_from - self.layout.width / 2, self.layout.stand_y

    def view_end(self) -> tuple[float, float]:
        return self.x_to - self.layout.width / 2, self.layout.stand_y

    def tilt(self, t: float) -> float:
        """How far the head is bowed towards the floor at time t: 0 (level) … 1 (looking at the feet)."""
        down = min(1.0, max(0.0, (t - self.start_s) / self.t_down))
        up = min(1.0, max(0.0, (self.end_s - t) / self.t_up))
        return self.smooth(min(down, up))


_FLOOR_WORDS = {"wood": "the wooden floor", "gravel": "gravel", "tile": "the tiled floor"}


class Walk(Walking, Action):
    """The wearer looks down and walks n steps along the bench to the next station.

    Each step's shoe swings forward and lands (stops) in the onset frame, where the view jolts down.
    """

    kind = "footsteps"
    span = 0.7
    smooth = staticmethod(EASE["smooth"])

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float, x_from: float,
                 n: int, distance: float) -> None:
        super().__init__(layout, look, start_s, x_from)
        u, w, h, fps = layout.u, layout.width, layout.height, layout.fps
        self.x_from, self.x_to = x_from, x_from + distance
        self.floor = look.floor
        self.t_down, period = rng.uniform(0.35, 0.45), rng.uniform(0.45, 0.6)
        k0 = self.frame_at(start_s + self.t_down + 0.25)
        frames = [k0 + int(round(i * period * fps)) + int(rng.integers(-1, 2)) * (i > 0) for i in range(n)]
        self.contacts = [self.time_of(k) for k in frames]
        self.swing = 0.6 * period
        self.t_up = rng.uniform(0.35, 0.45)
        self.end_s = self.contacts[-1] + rng.uniform(0.3, 0.4) + self.t_up
        self.move = (self.contacts[0] - 0.6 * period, self.contacts[-1] + 0.2 * period)
        self.jolt = 5.0 * u
        self.lanes = (layout.walk_y + 0.6 * h, layout.walk_y + 0.84 * h)
        # Where each foot is planted: the start stance, then one landing per step, alternating feet.
        self.plants: list[list[tuple[float, float, float]]] = [  # per foot: (time planted, x, y)
            [(start_s, x_from - 0.05 * w, self.lanes[0])], [(start_s, x_from + 0.03 * w, self.lanes[1])]]
        for i, tc in enumerate(self.contacts):
            foot = i % 2
            plant = (tc, self.centre_x(tc) + 0.15 * w, self.lanes[foot])
            self.plants[foot].append(plant)
            self.events.append(PlannedEvent(frames[i], (plant[1], plant[2]), self.floor))

    def view(self, t: float) -> tuple[float, float]:
        lay = self.layout
        y = lay.stand_y + (lay.walk_y - lay.stand_y) * self.tilt(t)
        # Each heel strike jolts the head down, then it recovers within ~0.1 s.
        y += sum(self.jolt * math.exp(-(t - c) / 0.15) for c in self.contacts if c <= t + 1e-9)
        return self.centre_x(t) - lay.width / 2, y

    def foot(self, foot: int, t: float) -> tuple[float, float, bool]:
        """(x, y, in the air) of a foot at time t."""
        plants = self.plants[foot]
        j = max(i for i, p in enumerate(plants) if p[0] <= t + 1e-9) if t >= plants[0][0] else 0
        if j + 1 < len(plants) and t > plants[j + 1][0] - self.swing:
            (_, x0, y0), (t1, x1, y1) = plants[j], plants[j + 1]
            # The foot swings forward faster and faster and comes down onto the heel: fastest at the contact.
            s = 1.0 - (t1 - t) / self.swing
            a = EASE["strike"](s)
            return x0 + (x1 - x0) * a, y0 + (y1 - y0) * a - 5 * self.layout.u * math.sin(math.pi * s), True
        return plants[j][1], plants[j][2], False

    def draw(self, canvas: Canvas, t: float, frame: int) -> None:
        if not self.start_s <= t <= self.end_s:
            return
        u, w, h = self.layout.u, self.layout.width, self.layout.height
        for foot in (0, 1):
            fx, fy, air = self.foot(foot, t)
            hip = (canvas.ox + (0.42 + 0.16 * foot) * w, canvas.oy + 1.4 * h)
            canvas.capsule(fx - 7 * u, fy, *hip, 6.5 * u, self.look.trousers)
            canvas.ellipse(fx, fy, 12 * u, 5.5 * u, self.look.shoes)
            canvas.ellipse(fx + 3 * u, fy - 1 * u, 6 * u, 2.5 * u, shade(self.look.shoes, 1.8 if air else 1.5))

    def sounds(self, rng: np.random.Generator) -> list[np.ndarray]:
        return [sounds.footstep_sound(self.floor, rng, self.layout.sample_rate, strength=rng.uniform(0.8, 1.0))
                for _ in self.events]

    def phrase(self) -> str:
        n = len(self.events)
        return f"walk {number_word(n)} step{'s' if n > 1 else ''} on {_FLOOR_WORDS[self.floor]}"


# ------------------------------------------------------------------------------------------------ passer-by


@dataclass
class Passerby:
    """A silent distractor: someone walks past behind the bench (drawn on the wall, so it does not touch anything)."""

    start_s: float
    end_s: float
    x0: float
    speed: float
    y: float
    u: float

    def draw(self, canvas: Canvas, t: float) -> None:
        if not self.start_s <= t <= self.end_s:
            return
        x, u = self.x0 + self.speed * (t - self.start_s), self.u
        step = 2 * u * math.sin(2 * math.pi * 1.8 * (t - self.start_s))
        canvas.capsule(x - 2 * u + step, self.y - 4 * u, x - 2 * u, self.y - 16 * u, 2.2 * u, (55, 55, 70))
        canvas.capsule(x + 2 * u - step, self.y - 4 * u, x + 2 * u, self.y - 16 * u, 2.2 * u, (55, 55, 70))
        canvas.rect(x - 5 * u, self.y - 34 * u, x + 5 * u, self.y - 15 * u, (90, 60, 60))
        canvas.ellipse(x, self.y - 38 * u, 4 * u, 4.5 * u, (200, 160, 130))
