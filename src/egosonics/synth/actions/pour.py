"""``Pour``: water from a jug into a glass, the flow (audio rate) filling the glass that is seen."""

from __future__ import annotations

import numpy as np

from egosonics.synth import sounds
from egosonics.synth.actions.base import Action, PlannedEvent, Track
from egosonics.synth.raster import Canvas, rotated
from egosonics.synth.world import Layout, Look, draw_glass


class Pour(Action):
    """The left hand lifts a jug and pours water into a glass: the stream's front reaches the glass in the onset
    frame; the flow (audio rate) fills the glass, and the sound stops when the stream's tail lands."""

    kind = "pour"
    FALL_FRAMES = 3  # a stream falls ~8 cm in 0.1 s

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float,
                 station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        u, w, fps, sr = layout.u, layout.width, layout.fps, layout.sample_rate
        x, y = station_x, layout.object_y
        self.glass = (x + 10 * u, y)
        self.view_dx = rng.uniform(-0.05, 0.05) * w
        self.fill = rng.uniform(0.55, 0.85)
        tilt = rng.uniform(1.0, 1.25)  # rad
        spout_local = (7 * u, -20 * u)
        sx, sy = rotated([spout_local], tilt, 0.0, 0.0)[0]
        self.spout = (self.glass[0], y - 24 * u - 9 * u)  # above the glass
        rest = (x - 16 * u, y, 0.0)
        poured = (self.spout[0] - sx, self.spout[1] - sy, tilt)
        self.k_on = self.frame_at(start_s + rng.uniform(0.55, 0.7) + self.FALL_FRAMES / fps)
        self.k_off = self.k_on + int(round(rng.uniform(1.0, 2.2) * fps))
        self.t_on, self.t_off = self.time_of(self.k_on), self.time_of(self.k_off)
        fall = self.FALL_FRAMES / fps
        self.pose = (Track(start_s, rest).to(self.t_on - fall, poured, "smooth").hold(self.t_off - fall))
        self.end_s = self.t_off - fall + rng.uniform(0.5, 0.65)
        self.pose.to(self.end_s, rest, "smooth")
        # Flow at the audio rate: quick start, a slow wobble, the tail's last 60 ms tapering off.
        n = layout.onset_sample(self.k_off) - layout.onset_sample(self.k_on)
        wobble = np.interp(np.arange(n), np.linspace(0, n, 12), rng.uniform(-1.0, 1.0, 12))
        ramp = np.minimum(1.0, np.arange(n) / (0.01 * sr)) * np.minimum(1.0, (n - np.arange(n)) / (0.06 * sr))
        self.flow = ramp * (1.0 + 0.15 * wobble)  # [n]
        self.level = self.fill * np.cumsum(self.flow) / self.flow.sum()  # [n] fraction of the glass's height
        self.events.append(PlannedEvent(self.k_on, (self.spout[0], self.surface(self.t_on)), "water"))

    def level_at(self, t: float) -> float:
        i = int(round(t * self.layout.sample_rate)) - self.layout.onset_sample(self.k_on)
        return 0.0 if i < 0 else float(self.level[min(i, len(self.level) - 1)])

    def surface(self, t: float) -> float:
        """World y of the water's surface in the glass."""
        return self.glass[1] - 1.5 * self.layout.u - self.level_at(t) * 21 * self.layout.u

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        draw_glass(canvas, *self.glass, self.layout.u)

    def draw(self, canvas: Canvas, t: float, frame: int) -> None:
        u, (gx, gy) = self.layout.u, self.glass
        if not canvas.visible(gx - 60 * u, gy - 70 * u, gx + 20 * u, gy + 5 * u):
            return
        # 1. Water in the glass.
        top = self.surface(t)
        if top < gy - 1.5 * u:
            canvas.rect(gx - 6.8 * u, top, gx + 6.8 * u, gy - 1.5 * u, (90, 150, 225), alpha=0.7)
        # 2. The stream: its front falls to the surface before the onset; after the flow stops its tail falls.
        fall = self.FALL_FRAMES / self.layout.fps
        sx, sy = self.spout
        head, tail = sy, top
        if self.t_on - fall <= t < self.t_on:
            tail = sy + (top - sy) * ((t - self.t_on + fall) / fall) ** 2
        elif self.t_off - fall <= t < self.t_off:
            head = sy + (top - sy) * ((t - self.t_off + fall) / fall) ** 2
        if self.t_on - fall <= t < self.t_off and tail > head:
            canvas.rect(sx - 1.5 * u, head, sx + 1.5 * u, tail, (120, 178, 238))
        if 0 <= t - self.t_on < 0.1:  # the first water splashes where it lands
            canvas.ellipse(sx, top - 1.5 * u, 5 * u, 2 * u, (225, 240, 255))
        # 3. The jug (rotated about its base) and the left hand on its handle.
        jx, jy, angle = self.pose(t)
        body = rotated([(-7 * u, 0), (7 * u, 0), (7 * u, -20 * u), (-7 * u, -20 * u)], angle, jx, jy)
        lip = rotated([(5 * u, -20 * u), (10 * u, -23 * u), (7 * u, -15 * u)], angle, jx, jy)
        handle = rotated([(-7 * u, -15 * u), (-12 * u, -10 * u)], angle, jx, jy)
        holding = self.start_s <= t <= self.end_s
        if holding:
            self.draw_arm(canvas, handle[1][0] - 2 * u, handle[1][1] + 3 * u, side=-1)
        canvas.capsule(*handle[0], *handle[1], 2.0 * u, (200, 200, 195))
        canvas.polygon(body, (232, 232, 226))
        canvas.polygon(lip, (215, 215, 208))
        if holding:
            self.draw_hand(canvas, *handle[1])

    def sounds(self, rng: np.random.Generator) -> list[np.ndarray]:
        return [sounds.pour_sound(self.flow, self.level, rng, self.layout.sample_rate)]

    def phrase(self) -> str:
        return "pour water from a jug into a glass"
