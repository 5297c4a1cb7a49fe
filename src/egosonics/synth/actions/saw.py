"""``Saw``: push strokes across a plank, the rasp locked to the blade's speed."""

from __future__ import annotations

import numpy as np

from egosonics.synth import sounds
from egosonics.synth.actions.base import Action, PlannedEvent, Track, number_word
from egosonics.synth.raster import Canvas
from egosonics.synth.world import Layout, Look, draw_plank


class Saw(Action):
    """n push strokes across a plank: at each onset the blade drops onto the cut and pushes (motion-locked rasp);
    it is lifted for the silent return."""

    kind = "saw"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float, station_x: float,
                 n: int) -> None:
        super().__init__(layout, look, start_s, station_x)
        u, w, fps = layout.u, layout.width, layout.fps
        x = station_x
        self.cut_y = layout.object_y - 20 * u
        self.back, self.front = x - 12 * u, x - 12 * u - rng.uniform(14.0, 18.0) * u  # blade tip positions
        self.lift = 5.0 * u
        self.view_dx = rng.uniform(-0.1, 0.0) * w
        push_frames = int(rng.integers(7, 11))  # 0.23–0.33 s
        back_s = rng.uniform(0.28, 0.38)  # the silent return, slower than the push
        self.push_frames = push_frames
        rest = (self.back + 0.5 * w, -0.8 * layout.height)
        self.track = Track(start_s, rest)  # (tip x, height above the cut)
        approach, hold = rng.uniform(0.35, 0.5), rng.uniform(0.12, 0.25)
        k = self.frame_at(start_s + approach + hold)
        self.strokes: list[tuple[float, float]] = []
        for i in range(n):
            t0, t1 = self.time_of(k), self.time_of(k + push_frames)
            if i == 0:
                self.track.to(t0 - 2 / fps - hold, (self.back, -self.lift), "smooth")
            # At rest, lifted above the cut, before the onset; lowered onto it in the onset frame.
            self.track.to(t0 - 2 / fps, (self.back, -self.lift), "smooth").hold(t0 - 1 / fps)
            self.track.to(t0, (self.back, 0.0), "linear")
            self.track.to(t1, (self.front, 0.0), "saw")
            self.track.to(t1 + 1 / fps, (self.front, -self.lift), "linear")
            self.strokes.append((t0, t1))
            self.events.append(PlannedEvent(k, (self.back, self.cut_y), "wood"))
            k = self.frame_at(t1 + 1 / fps + back_s + 2 / fps)
        self.end_s = self.track.times[-1] + rng.uniform(0.3, 0.4)
        self.track.to(self.end_s, rest, "smooth")
        self.dust = rng.uniform(-1.0, 1.0, (6, 2))

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        draw_plank(canvas, self.station_x, self.layout.object_y, self.layout.u)

    def draw(self, canvas: Canvas, t: float, frame: int) -> None:
        u, x = self.layout.u, self.station_x
        if not canvas.visible(x - 80 * u, self.cut_y - 20 * u, x + 80 * u, self.cut_y + 20 * u):
            return
        # 1. The kerf deepens with every stroke done.
        done = sum(t0 <= t + 1e-9 for t0, _ in self.strokes)
        if done:
            canvas.rect(x + 11 * u - min(20.0, 2.5 * done) * u, self.cut_y - 0.8 * u, x + 11 * u,
                        self.cut_y + 0.8 * u, (70, 45, 25))
        if not self.start_s <= t <= self.end_s:
            return
        tip, height = self.track(t)
        by = self.cut_y + height
        pushing = any(t0 <= t < t1 for t0, t1 in self.strokes)
        # 2. Sawdust falls from the cut during a push.
        if pushing:
            for dx, dy in self.dust:
                canvas.rect(x + 11 * u + 3 * u * abs(dx), self.cut_y + 3 * u + 4 * u * abs(dy),
                            x + 12.5 * u + 3 * u * abs(dx), self.cut_y + 4.5 * u + 4 * u * abs(dy), (235, 215, 170))
        # 3. Blade (teeth at its lower edge), handle, hand.
        canvas.polygon([(tip, by), (tip + 46 * u, by), (tip + 46 * u, by - 9 * u), (tip, by - 6 * u)], (190, 196, 206))
        canvas.rect(tip, by - 1.5 * u, tip + 46 * u, by, (95, 95, 105))
        for j in range(0, 46, 4):  # teeth, so that the blade's motion along itself is seen
            canvas.rect(tip + j * u, by - 1.5 * u, tip + (j + 2) * u, by, (225, 228, 235))
        grip = (tip + 52 * u, by - 4 * u)
        self.draw_arm(canvas, grip[0] + 3 * u, grip[1] + 3 * u)
        canvas.rect(tip + 45 * u, by - 11 * u, tip + 57 * u, by + 2 * u, (150, 60, 40))
        self.draw_hand(canvas, *grip)

    def speed(self) -> np.ndarray:
        """The blade's speed (0..1) over one push, at the audio rate: sin(pi s) ** 0.6, the profile the frames show."""
        n = self.layout.onset_sample(self.push_frames)
        return np.sin(np.pi * np.arange(n) / n) ** 0.6

    def sounds(self, rng: np.random.Generator) -> list[np.ndarray]:
        teeth = rng.uniform(200.0, 320.0)  # one saw: one tooth pitch
        return [sounds.saw_sound(self.speed(), rng, self.layout.sample_rate, teeth_hz=teeth) for _ in self.events]

    def phrase(self) -> str:
        n = len(self.events)
        return f"saw a plank with {number_word(n)} stroke{'s' if n > 1 else ''}"
