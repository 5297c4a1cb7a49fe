"""``Machine``: a bench grinder switched on and off, the hum locked to the wheel's speed."""

from __future__ import annotations

import math

import numpy as np

from egosonics.synth import sounds
from egosonics.synth.actions.base import Action, PlannedEvent, Track
from egosonics.synth.raster import Canvas
from egosonics.synth.world import Layout, Look, draw_machine_body


class Machine(Action):
    """A finger switches a bench grinder on; its wheel spins up, runs, is switched off and spins down.

    The wheel turns, the housing shakes and the light is on exactly while the motor hums; speed and hum come from
    one curve ``omega`` (audio rate), whose integral is the wheel's angle in the frames.
    """

    kind = "machine"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float,
                 station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        u, w, h, fps, sr = layout.u, layout.width, layout.height, layout.fps, layout.sample_rate
        x, y = station_x, layout.object_y
        self.wheel = (x - 5 * u, y - 17 * u)
        self.switch = (x + 11 * u, y - 10 * u)
        self.light = (x + 11 * u, y - 25 * u)
        self.view_dx = rng.uniform(-0.05, 0.08) * w
        self.k_on = self.frame_at(start_s + rng.uniform(0.45, 0.6))
        self.k_off = self.k_on + int(round(rng.uniform(1.0, 2.4) * fps))
        self.k_end = self.k_off + int(round(rng.uniform(0.2, 0.3) * fps))  # spin-down
        self.t_on, self.t_off, self.t_end = (self.time_of(k) for k in (self.k_on, self.k_off, self.k_end))
        self.events.append(PlannedEvent(self.k_on, (self.switch[0], self.switch[1] - 2 * u), "motor"))
        # Rotor speed at the audio rate: starts at 30 % (the motor's first kick), spins up, then coasts to a stop.
        n_on = layout.onset_sample(self.k_off) - layout.onset_sample(self.k_on)
        n_down = layout.onset_sample(self.k_end) - layout.onset_sample(self.k_off)
        spin_up = 1.0 - 0.7 * np.exp(-np.arange(n_on) / (0.12 * sr))
        spin_down = spin_up[-1] * (1.0 - np.arange(n_down) / n_down) ** 2
        self.omega = np.concatenate([spin_up, spin_down])  # [n]
        self.angle = 2 * np.pi * 1.6 * np.concatenate([[0.0], np.cumsum(self.omega)]) / sr  # 1.6 rev/s at full speed
        sx, sy = self.switch
        above, press = (sx + 1 * u, sy - 9 * u), (sx + 1 * u, sy - 2 * u)
        rest = (sx + 0.5 * w, sy + 0.8 * h)
        self.track = (Track(start_s, rest).to(self.t_on - 0.12, above, "smooth").to(self.t_on, press, "accel")
                      .to(self.t_on + 0.2, above, "smooth").hold(self.t_off - 0.12).to(self.t_off, press, "accel")
                      .to(self.t_off + 0.2, above, "smooth"))
        self.end_s = self.t_end + rng.uniform(0.3, 0.45)
        self.track.to(self.end_s, rest, "smooth")

    def speed_at(self, t: float) -> tuple[float, float]:
        """(speed 0..1, wheel angle) at time t, read from the audio-rate curve."""
        i = int(round(t * self.layout.sample_rate)) - self.layout.onset_sample(self.k_on)
        if i < 0:
            return 0.0, 0.0
        if i >= len(self.omega):
            return 0.0, float(self.angle[-1])
        return float(self.omega[i]), float(self.angle[i])

    def jitter(self, t: float, frame: int) -> int:
        """The housing's shake in whole pixels: alternating every frame while the wheel runs."""
        speed, _ = self.speed_at(t)
        return (1 if frame % 2 else -1) if speed > 0.0 else 0

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        draw_machine_body(canvas, self.station_x, self.layout.object_y, self.layout.u, self.look.machine)

    def shake(self, canvas: Canvas, t: float, frame: int) -> None:
        u, x, y = self.layout.u, self.station_x, self.layout.object_y
        canvas.shift(x - 25 * u, y - 37 * u, x + 21 * u, y + u, self.jitter(t, frame), 0)

    def draw(self, canvas: Canvas, t: float, frame: int) -> None:
        u, x, y = self.layout.u, self.station_x, self.layout.object_y
        if not canvas.visible(x - 30 * u, y - 40 * u, x + 30 * u, y + 5 * u) and not self.start_s <= t <= self.end_s:
            return
        dx = self.jitter(t, frame)
        _, angle = self.speed_at(t)
        wx, wy = self.wheel[0] + dx, self.wheel[1]
        # 1. Wheel with three spokes at the current angle.
        canvas.ellipse(wx, wy, 10 * u, 10 * u, (178, 178, 184))
        for j in range(3):
            a = angle + 2 * np.pi * j / 3
            canvas.capsule(wx, wy, wx + 8.5 * u * math.cos(a), wy + 8.5 * u * math.sin(a), 1.6 * u, (60, 60, 66))
        canvas.ellipse(wx, wy, 2.2 * u, 2.2 * u, (40, 40, 44))
        # 2. Light (on from the press until switched off) and the switch (down while pressed).
        on = self.t_on <= t + 1e-9 < self.t_off
        canvas.ellipse(self.light[0] + dx, self.light[1], 2.4 * u, 2.4 * u, (70, 235, 95) if on else (90, 25, 25))
        pressed = any(0 <= t - p < 0.1 for p in (self.t_on, self.t_off))
        sx, sy = self.switch[0] + dx, self.switch[1] + (1.0 * u if pressed else 0.0)
        canvas.rect(sx - 3.5 * u, sy - 2 * u, sx + 3.5 * u, sy + 2 * u, (25, 25, 28) if pressed else (220, 60, 40))
        # 3. The finger that presses it.
        if self.start_s <= t <= self.end_s:
            fx, fy = self.track(t)
            hand = (fx + 7 * u, fy + 8 * u)
            self.draw_arm(canvas, hand[0] + 2 * u, hand[1] + 3 * u)
            canvas.capsule(fx, fy, *hand, 1.8 * u, self.look.skin)
            self.draw_hand(canvas, *hand)

    def sounds(self, rng: np.random.Generator) -> list[np.ndarray]:
        return [sounds.machine_sound(self.omega, rng, self.layout.sample_rate, hum_hz=rng.uniform(95.0, 150.0))]

    def phrase(self) -> str:
        return f"run the bench grinder for {self.t_off - self.t_on:.1f} seconds"
