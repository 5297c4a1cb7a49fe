"""What the wearer does in a realistic scene: each action moves hands, tools and objects along physical paths
(``physics``), so that a sound starts where a motion ends against a surface, never at a jump in the picture.

    class       action     what is seen (the onset)                                   sound
    impact      Strike     a hand brings a mallet / hammer / spoon down onto a block,  modal wood / metal / glass
                           pan or jar: it decelerates and is stopped by the surface
    chop        Chop       a knife cuts through a carrot and is stopped by the board;  crunch + board knock
                           the slice slides off afterwards
    saw         Saw        the blade is lowered onto a plank, then stroked: each push  rasp locked to the blade
                           starts from rest at the stroke's end
    machine     Machine    a finger presses a switch (decelerating onto it); the wheel hum locked to the wheel's
                           spins up and the housing vibrates while it runs              speed
    pour        Pour       the stream's front reaches the glass; the water rises       flow, bubbles, filling
    footsteps   Walk       the head's fall stopped at each heel strike (camera bob     procedural floors, or
                           with a jerk); the shoe decelerates onto the floor            recordings (metal, sand, hard)
    place       Place      a hand sets a mug / box / bottle / can down: it slows and  soft modal knock (or a
                           stops on the bench, the hand lets go                         recording for metal cans)
    door        Door       a hand swings a cabinet door shut; it slows, then meets     recording (door / chest)
                           the frame
    water       Water      a hand turns a tap; the stream's front reaches the sink;    recording, looped while it
                           the water flows (moving texture) until the tap is closed     runs
    roll        Roll       a hand pushes a cart; its wheels turn while it rolls,       recording, level following
                           slowing to a stop                                            the speed
    (silent)    Feint      a tool is brought down the same way and stops short        none
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from egosonics.synth import sounds
from egosonics.synth.actions.base import Station
from egosonics.synth.raster import Canvas, rotated, shade
from egosonics.synth.realistic.bodies import contact_shadow, draw_arm, draw_hand, draw_tool
from egosonics.synth.realistic.physics import PROFILES, Path, vibration
from egosonics.synth.world import (
    Layout,
    Look,
    draw_block,
    draw_board,
    draw_glass,
    draw_jar,
    draw_machine_body,
    draw_pan,
    draw_plank,
)

if TYPE_CHECKING:
    from egosonics.synth.realistic.sfx import SfxLibrary

Sound = tuple[np.ndarray, list[dict]]  # a waveform (sample 0 at the onset) and the recordings it used


@dataclass
class Contact:
    """A planned sound event: its exact time, where it is seen (world pixels) and what sounds."""

    time_s: float
    point: tuple[float, float]
    material: str


class RAction(Station):
    """A run of events at one station (see the module table)."""

    span = 0.8

    def __init__(self, layout: Layout, look: Look, start_s: float, station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        self.events: list[Contact] = []

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        """Draw what never moves into the panorama."""

    def draw(self, canvas: Canvas, t: float) -> None:
        """Draw what moves at time t (any time inside a frame's exposure)."""

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        return []

    def phrase(self) -> str:
        return ""

    def offsets(self) -> list[float | None]:
        """Per event, when its sound ends (s) if the motion says so (continuous sources); None: when it decays."""
        return [None] * len(self.events)

    # helpers ---------------------------------------------------------------------------------------------------

    @property
    def u(self) -> float:
        return self.layout.u

    def rest(self, x: float, y: float, side: int = 1) -> tuple[float, float]:
        """Where a hand waits below the frame before reaching towards (x, y)."""
        return x + side * 0.5 * self.layout.width, y + 0.85 * self.layout.height

    def arm_and_hand(self, canvas: Canvas, gx: float, gy: float, side: int = 1, open_hand: bool = False) -> None:
        draw_arm(canvas, self.look, gx + 2 * self.u, gy + 3 * self.u, self.u, side)
        draw_hand(canvas, self.look, gx, gy, self.u, open_hand)


def _count(n: int) -> str:
    return {1: "once", 2: "twice", 3: "three times"}.get(n, f"{n} times")


# ------------------------------------------------------------------------------------------------ impact


_STRUCK = {"wood": "wooden block", "metal": "metal pan", "glass": "glass jar"}


class Strike(RAction):
    kind = "impact"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float, station_x: float,
                 n: int, material: str, *, feint: bool = False) -> None:
        super().__init__(layout, look, start_s, station_x)
        u, w = layout.u, layout.width
        self.material, self.feint = material, feint
        self.tool = str(rng.choice(["mallet", "hammer", "spoon"]))
        x, y = station_x, layout.object_y
        self.top = {"wood": (x, y - 21 * u), "metal": (x, y - 8 * u), "glass": (x, y - 30 * u)}[material]
        self.view_dx = rng.uniform(-0.1, 0.1) * w
        cx, cy = self.top
        gap = rng.uniform(4.0, 9.0) * u if feint else 0.0  # a feint stops short of the surface
        lift = rng.uniform(18.0, 30.0) * u
        rest = self.rest(cx, cy)
        self.path = Path(start_s, rest)
        t = start_s + rng.uniform(0.35, 0.5)
        x0 = cx + rng.uniform(-6, 6) * u
        self.path.to(t, (x0, cy - lift), "smooth")
        for _ in range(max(n, 1)):
            xi = cx + rng.uniform(-5, 5) * u
            t += rng.uniform(0.04, 0.2)
            self.path.hold(t)
            tc = t + rng.uniform(0.38, 0.6)
            self.path.to(tc, (xi, cy - gap), "contact")
            if not feint:
                self.events.append(Contact(tc, (xi, cy), material))
            t = tc + rng.uniform(0.04, 0.08)  # resting on it a moment
            self.path.hold(t)
            t += rng.uniform(0.18, 0.3)
            self.path.to(t, (xi + rng.uniform(-2, 2) * u, cy - lift * rng.uniform(0.6, 1.0)), "release")
        self.end_s = t + rng.uniform(0.35, 0.5)
        self.path.to(self.end_s, rest, "smooth")

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        # The struck object stays still: a block, a pan or a jar does not visibly jump when tapped.
        x, y, u = self.station_x, self.layout.object_y, self.u
        if self.material == "wood":
            draw_block(canvas, x, y, u, (176, 124, 72))
        elif self.material == "metal":
            draw_pan(canvas, x, y, u)
        else:
            draw_jar(canvas, x, y, u)

    def draw(self, canvas: Canvas, t: float) -> None:
        u = self.u
        if self.start_s <= t <= self.end_s:
            hx, hy = self.path(t)
            contact_shadow(canvas, hx, self.top[1] + 1.0 * u, self.top[1] - hy, u, 6 * u)
            grip = draw_tool(canvas, self.tool, hx, hy, u)
            self.arm_and_hand(canvas, *grip)

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        sr = self.layout.sample_rate
        f0 = rng.uniform(*sounds.MATERIALS[self.material].f0_hz)
        out = []
        for _ in self.events:
            strength = rng.uniform(0.45, 0.9)  # decelerated strikes: softer than the easy scenes' blows
            out.append((sounds.impact_sound(self.material, rng, sr, strength=strength, f0_hz=f0), []))
        return out

    def phrase(self) -> str:
        if self.feint:
            return ""
        return f"tap the {_STRUCK[self.material]} {_count(len(self.events))} with a {self.tool}"


class Feint(Strike):
    """A silent distractor: the same decelerating approach, stopping short of the object."""

    kind = "feint"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float,
                 station_x: float) -> None:
        super().__init__(layout, look, rng, start_s, station_x, 1, str(rng.choice(list(_STRUCK))), feint=True)


# ------------------------------------------------------------------------------------------------ chop


class Chop(RAction):
    kind = "chop"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float, station_x: float,
                 n: int) -> None:
        super().__init__(layout, look, start_s, station_x)
        u = layout.u
        x, y = station_x, layout.object_y
        self.surface = y - 10 * u  # the board's top
        self.view_dx = rng.uniform(-0.08, 0.08) * layout.width
        self.carrot = (x - 22 * u, x + 16 * u, self.surface - 3.2 * u)
        step = rng.uniform(4.0, 6.0) * u
        self.cuts: list[float] = []
        lift = rng.uniform(12.0, 18.0) * u
        rest = self.rest(x, self.surface)
        self.path = Path(start_s, rest)
        t = start_s + rng.uniform(0.35, 0.5)
        first = self.carrot[1] - step
        self.path.to(t, (first + 5 * u, self.surface - lift), "smooth")
        for i in range(n):
            xc = first - i * step
            t += rng.uniform(0.05, 0.15)
            self.path.to(t, (xc + 5 * u, self.surface - lift), "smooth")
            tc = t + rng.uniform(0.3, 0.45)
            self.path.to(tc, (xc + 5 * u, self.surface), "contact")  # the edge (x - 5u .. ) meets the board
            self.events.append(Contact(tc, (xc, self.surface), "wood"))
            self.cuts.append(xc)
            t = tc + rng.uniform(0.03, 0.06)
            self.path.hold(t)
            t += rng.uniform(0.15, 0.25)
            self.path.to(t, (xc + 5 * u - step, self.surface - lift), "release")
        self.end_s = t + rng.uniform(0.3, 0.45)
        self.path.to(self.end_s, rest, "smooth")

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        draw_board(canvas, self.station_x, self.layout.object_y, self.u)

    def draw(self, canvas: Canvas, t: float) -> None:
        u = self.u
        left, right, cy = self.carrot
        # 1. The carrot: uncut part, then each cut slice sliding right after its cut (no jump).
        edges = [right, *self.cuts]
        times = [e.time_s for e in self.events]
        cut_now = [c for c, tc in zip(self.cuts, times, strict=True) if tc <= t]
        end = cut_now[-1] if cut_now else right
        canvas.capsule(left + 3 * u, cy, end - 0.8 * u, cy, 3.2 * u, (232, 120, 40))
        canvas.capsule(left + 3 * u, cy - 1.2 * u, end - 0.8 * u, cy - 1.2 * u, 1.0 * u, (250, 160, 80))
        for j, (tc, c) in enumerate(zip(times, self.cuts, strict=True)):
            if tc > t:
                continue
            # The blade pushes the slice aside as it cuts; it slides on a little and stops.
            slide = 3.0 * u * PROFILES["smooth"](min(1.0, (t - tc + 0.06) / 0.3)) + 1.0 * u * j
            a, b = c + slide, edges[j] + slide - 1.0 * u
            canvas.ellipse(0.5 * (a + b), cy, max(0.5 * (b - a), 1.0 * u), 3.2 * u, (232, 120, 40))
            canvas.ellipse(a + 0.4 * u, cy, 1.2 * u, 2.6 * u, (250, 190, 120))
        # 2. Knife, hand and arm.
        if self.start_s <= t <= self.end_s:
            kx, ky = self.path(t)
            contact_shadow(canvas, kx - 5 * u, self.surface + 1.0 * u, self.surface - ky, u, 9 * u)
            grip = draw_tool(canvas, "knife", kx, ky, u)
            self.arm_and_hand(canvas, *grip)

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        sr = self.layout.sample_rate
        return [(sounds.chop_sound(rng, sr, strength=rng.uniform(0.6, 1.0)), []) for _ in self.events]

    def phrase(self) -> str:
        return f"cut the carrot {_count(len(self.events))}"


# ------------------------------------------------------------------------------------------------ saw


class Saw(RAction):
    kind = "saw"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float, station_x: float,
                 n: int) -> None:
        super().__init__(layout, look, start_s, station_x)
        u = layout.u
        x, y = station_x, layout.object_y
        self.cut = (x + 6 * u, y - 18 * u)  # where the teeth rest on the plank
        self.view_dx = rng.uniform(-0.08, 0.08) * layout.width
        cx, cy = self.cut
        rest = self.rest(cx, cy)
        self.path = Path(start_s, rest)
        t = start_s + rng.uniform(0.35, 0.5)
        self.path.to(t, (cx, cy - 14 * u), "smooth")
        tc = t + rng.uniform(0.35, 0.5)
        self.path.to(tc, (cx, cy), "contact")  # lowered onto the plank
        t = tc
        stroke = rng.uniform(14.0, 20.0) * u
        self.strokes: list[tuple[float, float, float]] = []  # (push start, push end, pull end)
        depth = 0.0
        for _ in range(n):
            push, pull = rng.uniform(0.3, 0.42), rng.uniform(0.25, 0.35)
            depth += 0.6 * u
            self.path.to(t + push, (cx - stroke, cy + depth), "smooth")
            self.path.to(t + push + pull, (cx, cy + depth), "smooth")
            self.events.append(Contact(t, (cx, cy + depth), "wood"))
            self.strokes.append((t, t + push, t + push + pull))
            t += push + pull
        self.end_s = t + rng.uniform(0.35, 0.5)
        self.path.to(t + 0.15, (cx, cy - 10 * u), "release").to(self.end_s, rest, "smooth")

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        draw_plank(canvas, self.station_x, self.layout.object_y, self.u)

    def draw(self, canvas: Canvas, t: float) -> None:
        if self.start_s <= t <= self.end_s:
            sx, sy = self.path(t)
            grip = draw_tool(canvas, "saw", sx, sy, self.u)
            self.arm_and_hand(canvas, *grip)

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        sr = self.layout.sample_rate
        out = []
        for start, push_end, pull_end in self.strokes:
            times = start + np.arange(int((pull_end - start) * sr)) / sr
            pos = np.array([self.path(t)[0] for t in times[::32]])
            speed = np.abs(np.gradient(pos)) if len(pos) > 1 else np.zeros(1)
            speed = np.interp(np.arange(len(times)), np.arange(len(pos)) * 32, speed / (speed.max() + 1e-9))
            speed[times > push_end] *= 0.45  # the pull stroke rasps less
            out.append((sounds.saw_sound(speed, rng, sr, teeth_hz=rng.uniform(200.0, 320.0)), []))
        return out

    def offsets(self) -> list[float | None]:
        return [s[2] for s in self.strokes]

    def phrase(self) -> str:
        return f"saw the plank with {len(self.events)} strokes"


# ------------------------------------------------------------------------------------------------ machine


class Machine(RAction):
    kind = "machine"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float,
                 station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        u, sr = layout.u, layout.sample_rate
        x, y = station_x, layout.object_y
        self.switch = (x + 12 * u, y - 7 * u)
        self.wheel = (x - 5 * u, y - 17 * u)
        self.light = (x + 12 * u, y - 27 * u)
        self.view_dx = rng.uniform(-0.08, 0.08) * layout.width
        sx, sy = self.switch
        above, press = (sx + 1 * u, sy - 10 * u), (sx + 1 * u, sy - 2 * u)
        rest = self.rest(sx, sy)
        t = start_s + rng.uniform(0.4, 0.55)
        self.t_on = t + rng.uniform(0.3, 0.42)
        self.t_off = self.t_on + rng.uniform(1.2, 3.0)
        self.path = (Path(start_s, rest).to(t, above, "smooth").to(self.t_on, press, "contact")
                     .to(self.t_on + 0.25, above, "release").hold(self.t_off - 0.4).to(self.t_off, press, "contact")
                     .to(self.t_off + 0.25, above, "release"))
        self.spin_down = rng.uniform(0.6, 1.0)
        self.t_stop = self.t_off + self.spin_down
        self.end_s = self.t_off + 0.25 + rng.uniform(0.3, 0.45)
        self.path.to(self.end_s, rest, "smooth")
        n_on = int(round((self.t_off - self.t_on) * sr))
        n_down = int(round(self.spin_down * sr))
        spin_up = 1.0 - 0.8 * np.exp(-np.arange(n_on) / (0.15 * sr))
        self.omega = np.concatenate([spin_up, spin_up[-1] * (1.0 - np.arange(n_down) / n_down) ** 2])  # [n]
        self.angle = 2 * np.pi * 2.3 * np.concatenate([[0.0], np.cumsum(self.omega)]) / sr
        self.hz = rng.uniform(18.0, 27.0)
        self.events.append(Contact(self.t_on, self.switch, "motor"))

    def state(self, t: float) -> tuple[float, float]:
        i = int(round((t - self.t_on) * self.layout.sample_rate))
        if i < 0:
            return 0.0, 0.0
        if i >= len(self.omega):
            return 0.0, float(self.angle[-1])
        return float(self.omega[i]), float(self.angle[i])

    def draw(self, canvas: Canvas, t: float) -> None:
        u, x, y = self.u, self.station_x, self.layout.object_y
        if not canvas.visible(x - 60 * u, y - 60 * u, x + 60 * u, y + 60 * u):
            return
        speed, angle = self.state(t)
        dx = vibration(t, self.t_on, self.t_stop, 0.5 * u * (0.3 + 0.7 * speed), self.hz)
        draw_machine_body(canvas, x + dx, y, u, self.look.machine)
        wx, wy = self.wheel[0] + dx, self.wheel[1]
        canvas.ellipse(wx, wy, 10 * u, 10 * u, (178, 178, 184))
        for j in range(3):
            a = angle + 2 * np.pi * j / 3
            canvas.capsule(wx, wy, wx + 8.5 * u * math.cos(a), wy + 8.5 * u * math.sin(a), 1.6 * u, (60, 60, 66))
        canvas.ellipse(wx, wy, 2.2 * u, 2.2 * u, (40, 40, 44))
        on = self.t_on <= t < self.t_off
        canvas.ellipse(self.light[0] + dx, self.light[1], 2.4 * u, 2.4 * u, (70, 235, 95) if on else (90, 25, 25))
        sx, sy = self.switch[0] + dx, self.switch[1]
        canvas.rect(sx - 3.5 * u, sy - 2 * u, sx + 3.5 * u, sy + 2 * u, (220, 60, 40))
        if self.start_s <= t <= self.end_s:
            fx, fy = self.path(t)
            hand = (fx + 7 * u, fy + 8 * u)
            draw_arm(canvas, self.look, hand[0] + 2 * u, hand[1] + 3 * u, u)
            canvas.capsule(fx, fy, *hand, 1.8 * u, self.look.skin)
            draw_hand(canvas, self.look, *hand, u)

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        return [(sounds.machine_sound(self.omega, rng, self.layout.sample_rate, hum_hz=rng.uniform(95.0, 150.0)), [])]

    def offsets(self) -> list[float | None]:
        return [self.t_stop]

    def phrase(self) -> str:
        return f"run the bench grinder for {self.t_off - self.t_on:.1f} seconds"


# ------------------------------------------------------------------------------------------------ pour


class Pour(RAction):
    kind = "pour"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float,
                 station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        u, sr = layout.u, layout.sample_rate
        x, y = station_x, layout.object_y
        self.glass = (x + 10 * u, y)
        self.view_dx = rng.uniform(-0.05, 0.05) * layout.width
        self.fill = rng.uniform(0.55, 0.85)
        tilt = rng.uniform(1.0, 1.25)
        sx, sy = rotated([(7 * u, -20 * u)], tilt, 0.0, 0.0)[0]
        self.spout = (self.glass[0], y - 33 * u)
        rest = (x - 16 * u, y, 0.0)
        poured = (self.spout[0] - sx, self.spout[1] - sy, tilt)
        self.fall = 0.1  # the stream's front falls ~8 cm in 0.1 s
        t_tilted = start_s + rng.uniform(0.6, 0.8)
        self.t_on = t_tilted + self.fall
        self.t_off = self.t_on + rng.uniform(1.0, 2.2)
        self.pose = Path(start_s, rest).to(t_tilted, poured, "smooth").hold(self.t_off - self.fall)
        self.end_s = self.t_off - self.fall + rng.uniform(0.5, 0.65)
        self.pose.to(self.end_s, rest, "smooth")
        n = int(round((self.t_off - self.t_on) * sr))
        wobble = np.interp(np.arange(n), np.linspace(0, n, 12), rng.uniform(-1.0, 1.0, 12))
        ramp = np.minimum(1.0, np.arange(n) / (0.01 * sr)) * np.minimum(1.0, (n - np.arange(n)) / (0.06 * sr))
        self.flow = ramp * (1.0 + 0.15 * wobble)
        self.level = self.fill * np.cumsum(self.flow) / self.flow.sum()
        self.events.append(Contact(self.t_on, (self.spout[0], self.surface(self.t_on)), "water"))

    def level_at(self, t: float) -> float:
        i = int(round((t - self.t_on) * self.layout.sample_rate))
        return 0.0 if i < 0 else float(self.level[min(i, len(self.level) - 1)])

    def surface(self, t: float) -> float:
        return self.glass[1] - 1.5 * self.u - self.level_at(t) * 21 * self.u

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        draw_glass(canvas, *self.glass, self.u)

    def draw(self, canvas: Canvas, t: float) -> None:
        u, (gx, gy) = self.u, self.glass
        if not canvas.visible(gx - 60 * u, gy - 70 * u, gx + 20 * u, gy + 5 * u):
            return
        top = self.surface(t)
        if top < gy - 1.5 * u:
            canvas.rect(gx - 6.8 * u, top, gx + 6.8 * u, gy - 1.5 * u, (90, 150, 225), alpha=0.7)
        sx, sy = self.spout
        head, tail = sy, top
        if self.t_on - self.fall <= t < self.t_on:  # the front falls, accelerating
            tail = sy + (top - sy) * ((t - self.t_on + self.fall) / self.fall) ** 2
        elif self.t_off - self.fall <= t < self.t_off:
            head = sy + (top - sy) * ((t - self.t_off + self.fall) / self.fall) ** 2
        if self.t_on - self.fall <= t < self.t_off and tail > head:
            canvas.rect(sx - 1.5 * u, head, sx + 1.5 * u, tail, (120, 178, 238))
            # Ripples flowing down the stream (the flow is seen moving, not only present).
            period = 5 * u
            phase = (t * 60 * u) % period
            yy = head + phase
            while yy < tail:
                canvas.rect(sx - 1.5 * u, yy, sx + 1.5 * u, min(tail, yy + 1.2 * u), (200, 225, 250), alpha=0.6)
                yy += period
            canvas.ellipse(sx, top - 1 * u, 3.5 * u, 1.3 * u, (225, 240, 255), alpha=0.7)
        jx, jy, angle = self.pose(t)
        body = rotated([(-7 * u, 0), (7 * u, 0), (7 * u, -20 * u), (-7 * u, -20 * u)], angle, jx, jy)
        lip = rotated([(5 * u, -20 * u), (10 * u, -23 * u), (7 * u, -15 * u)], angle, jx, jy)
        handle = rotated([(-7 * u, -15 * u), (-12 * u, -10 * u)], angle, jx, jy)
        holding = self.start_s <= t <= self.end_s
        if holding:
            draw_arm(canvas, self.look, handle[1][0] - 2 * u, handle[1][1] + 3 * u, u, side=-1)
        canvas.capsule(*handle[0], *handle[1], 2.0 * u, (200, 200, 195))
        canvas.polygon(body, (232, 232, 226))
        canvas.polygon(lip, (215, 215, 208))
        if holding:
            draw_hand(canvas, self.look, *handle[1], u)

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        return [(sounds.pour_sound(self.flow, self.level, rng, self.layout.sample_rate), [])]

    def offsets(self) -> list[float | None]:
        return [self.t_off]

    def phrase(self) -> str:
        return "pour water from a jug into a glass"


# ------------------------------------------------------------------------------------------------ place


_PLACED = {"mug": "glass", "box": "wood", "bottle": "glass", "can": "metal"}
_PLACED_WORDS = {"mug": "a mug", "box": "a small box", "bottle": "a bottle", "can": "a tin can"}


class Place(RAction):
    kind = "place"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float, station_x: float,
                 n: int) -> None:
        super().__init__(layout, look, start_s, station_x)
        u = layout.u
        y = layout.object_y
        self.view_dx = rng.uniform(-0.08, 0.08) * layout.width
        self.items: list[tuple[str, tuple[int, int, int], Path, float]] = []  # (kind, colour, path, release)
        t = start_s
        for i in range(n):
            kind = str(rng.choice(list(_PLACED)))
            color = tuple(int(c) for c in rng.integers(40, 230, 3))
            x = station_x + (i - 0.5 * (n - 1)) * 26 * u + rng.uniform(-4, 4) * u
            rest = self.rest(x, y, side=1)
            path = Path(t, rest)
            t += rng.uniform(0.35, 0.5)
            path.to(t, (x, y - rng.uniform(12, 20) * u), "smooth")
            tc = t + rng.uniform(0.35, 0.5)
            path.to(tc, (x, y), "contact")
            self.events.append(Contact(tc, (x, y), _PLACED[kind]))
            release = tc + rng.uniform(0.1, 0.2)
            path.hold(release)
            self.items.append((kind, color, path, release))  # type: ignore[arg-type]
            t = release + rng.uniform(0.35, 0.5)
        self.end_s = t
        self.hands = []
        for _kind, _color, path, release in self.items:
            back = Path(release, path.last).to(release + 0.12, (path.last[0], path.last[1] - 3 * u), "release")
            back.to(release + rng.uniform(0.35, 0.5), self.rest(path.last[0], path.last[1]), "smooth")
            self.hands.append(back)
        self.materials = [_PLACED[k] for k, *_ in self.items]

    def draw(self, canvas: Canvas, t: float) -> None:
        u = self.u
        for (kind, color, path, release), back in zip(self.items, self.hands, strict=True):
            if t < path.times[0]:
                continue
            x, y = path(t)
            contact_shadow(canvas, x, self.layout.object_y + 0.5 * u, self.layout.object_y - y, u, 9 * u)
            _draw_item(canvas, kind, color, x, y, u)
            if t <= release:
                self.arm_and_hand(canvas, x + 6 * u, y - 9 * u)
            elif t <= back.end:
                hx, hy = back(t)
                self.arm_and_hand(canvas, hx + 6 * u, hy - 9 * u, open_hand=True)

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        sr = self.layout.sample_rate
        out: list[Sound] = []
        for (kind, *_), material in zip(self.items, self.materials, strict=True):
            if kind == "can" and sfx is not None and sfx.allowed("place-metal"):
                wave, src = sfx.pick("place-metal", rng, sr)
                out.append((0.45 * wave, [src.attribution("place")]))
                continue
            knock = sounds.impact_sound(material, rng, sr, strength=rng.uniform(0.3, 0.5))
            n = len(knock)
            thud = np.sin(2 * np.pi * rng.uniform(70, 110) * np.arange(n) / sr) * sounds.decay(n, 0.02, sr)
            out.append((knock + 0.15 * thud, []))
        return out

    def phrase(self) -> str:
        things = [_PLACED_WORDS[k] for k, *_ in self.items]
        return "put " + " and ".join(things) + " down on the bench"


def _draw_item(canvas: Canvas, kind: str, color: tuple[int, int, int], x: float, y: float, u: float) -> None:
    """An object standing with its base centre at (x, y)."""
    if kind == "mug":
        canvas.ellipse(x + 9 * u, y - 8 * u, 4 * u, 5 * u, shade(color, 0.7))
        canvas.rect(x - 8 * u, y - 16 * u, x + 8 * u, y, color)
        canvas.rect(x + 3 * u, y - 16 * u, x + 6 * u, y, shade(color, 1.2), alpha=0.5)
        canvas.ellipse(x, y - 16 * u, 8 * u, 2.5 * u, shade(color, 0.5))
    elif kind == "box":
        canvas.rect(x - 11 * u, y - 13 * u, x + 11 * u, y, color)
        canvas.rect(x - 11 * u, y - 16 * u, x + 11 * u, y - 13 * u, shade(color, 1.25))
    elif kind == "bottle":
        canvas.rect(x - 5 * u, y - 26 * u, x + 5 * u, y, color, alpha=0.8)
        canvas.rect(x - 2 * u, y - 34 * u, x + 2 * u, y - 26 * u, shade(color, 0.8))
        canvas.rect(x - 3.5 * u, y - 23 * u, x - 2 * u, y - 4 * u, (245, 245, 245), alpha=0.5)
    else:  # can
        canvas.rect(x - 6 * u, y - 15 * u, x + 6 * u, y, (175, 178, 186))
        canvas.rect(x - 6 * u, y - 12 * u, x + 6 * u, y - 4 * u, color)
        canvas.ellipse(x, y - 15 * u, 6 * u, 1.8 * u, (210, 212, 218))


# ------------------------------------------------------------------------------------------------ door


class Door(RAction):
    kind = "door"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float,
                 station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        u = layout.u
        x, y = station_x, layout.object_y
        self.view_dx = rng.uniform(-0.08, 0.08) * layout.width
        self.box = (x - 20 * u, y - 40 * u, x + 20 * u, y)
        self.color = tuple(int(c) for c in rng.integers(60, 200, 3))
        open_angle = rng.uniform(1.0, 1.35)
        t = start_s + rng.uniform(0.4, 0.55)
        self.t_push = t
        self.tc = t + rng.uniform(0.4, 0.6)
        self.angle = Path(start_s, (open_angle,)).hold(t).to(self.tc, (0.0,), "contact")
        self.events.append(Contact(self.tc, (self.box[2], 0.5 * (self.box[1] + self.box[3])), "door"))
        self.end_s = self.tc + rng.uniform(0.5, 0.7)
        self.reach = Path(start_s, self.rest(*self.edge(open_angle)))
        self.reach.to(t, self.edge(open_angle), "smooth")

    def edge(self, angle: float) -> tuple[float, float]:
        """The door's free edge, at mid-height (where the hand pushes)."""
        x0, y0, x1, y1 = self.box
        return x0 + (x1 - x0) * math.cos(angle), 0.5 * (y0 + y1) + 4 * self.u * math.sin(angle)

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        x0, y0, x1, y1 = self.box
        u = self.u
        canvas.rect(x0 - 2 * u, y0 - 3 * u, x1 + 2 * u, y1, shade(self.color, 0.8))
        canvas.rect(x0, y0, x1, y1 - 2 * u, (35, 30, 28))  # the dark inside
        canvas.rect(x0 + 2 * u, y0 + 18 * u, x1 - 2 * u, y0 + 19.5 * u, (90, 80, 70))  # a shelf inside

    def draw(self, canvas: Canvas, t: float) -> None:
        x0, y0, x1, y1 = self.box
        u = self.u
        (angle,) = self.angle(t)
        c = math.cos(angle)
        skew = 5 * u * math.sin(angle)
        xe = x0 + (x1 - x0) * c
        face = [(x0, y0), (xe, y0 - skew), (xe, y1 + skew), (x0, y1)]
        if xe - x0 > 0.5:
            canvas.polygon(face, shade(self.color, 0.75 + 0.25 * c))
            canvas.capsule(xe - 3 * u * c, 0.5 * (y0 + y1) - 2 * u, xe - 3 * u * c, 0.5 * (y0 + y1) + 2 * u,
                           0.9 * u, (60, 60, 60))
        if self.start_s <= t <= self.end_s:
            if t <= self.tc:
                hx, hy = self.reach(t) if t < self.t_push else self.edge(angle)
            else:
                ex, ey = self.edge(0.0)
                s = min(1.0, (t - self.tc) / (self.end_s - self.tc))
                hx, hy = ex + (self.rest(ex, ey)[0] - ex) * s * s, ey + (self.rest(ex, ey)[1] - ey) * s * s
            self.arm_and_hand(canvas, hx + 4 * u, hy, open_hand=True)

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        assert sfx is not None, "door needs the sfx library"
        wave, src = sfx.pick("door", rng, self.layout.sample_rate)
        return [(0.5 * wave, [src.attribution("door")])]

    def phrase(self) -> str:
        return "close the cabinet door"


# ------------------------------------------------------------------------------------------------ water


class Water(RAction):
    kind = "water"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float,
                 station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        u = layout.u
        x, y = station_x, layout.object_y
        self.view_dx = rng.uniform(-0.06, 0.06) * layout.width
        self.basin = (x - 24 * u, y - 10 * u, x + 24 * u, y + 6 * u)
        self.spout = (x, y - 34 * u)
        self.handle = (x + 14 * u, y - 42 * u)
        t = start_s + rng.uniform(0.4, 0.55)
        turn = rng.uniform(0.25, 0.35)
        self.t_open = t + turn
        self.fall = 0.09
        self.t_on = self.t_open + self.fall
        self.t_close = self.t_on + rng.uniform(1.2, 2.6)
        self.t_off = self.t_close + self.fall
        self.turn = (Path(start_s, (0.0,)).hold(t).to(self.t_open, (1.4,), "contact").hold(self.t_close - turn)
                     .to(self.t_close, (0.0,), "contact"))
        hx, hy = self.handle
        self.hand = Path(start_s, self.rest(hx, hy)).to(t, (hx + 8 * u, hy), "smooth").hold(self.t_open + 0.1)
        # at rest until it reaches for the handle again (no rest when the water runs its shortest)
        self.hand.to(self.t_open + 0.5, self.rest(hx, hy), "smooth").hold(max(self.t_open + 0.5,
                                                                              self.t_close - turn - 0.45))
        self.hand.to(self.t_close - turn, (hx + 8 * u, hy), "smooth").hold(self.t_close + 0.1)
        self.end_s = self.t_close + rng.uniform(0.5, 0.65)
        self.hand.to(self.end_s, self.rest(hx, hy), "smooth")
        self.events.append(Contact(self.t_on, (x, self.basin[1] + 6 * u), "water"))

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        x0, y0, x1, y1 = self.basin
        u = self.u
        canvas.rect(x0 - 3 * u, y0 - 2 * u, x1 + 3 * u, y1, (200, 204, 210))
        canvas.rect(x0, y0, x1, y1 - 3 * u, (120, 126, 134))
        canvas.ellipse(0.5 * (x0 + x1), y1 - 6 * u, 3 * u, 1.5 * u, (40, 40, 44))
        sx, sy = self.spout
        canvas.rect(sx - 2 * u, sy, sx + 2 * u, y0 - 2 * u, (170, 174, 182))  # (hidden behind the basin's rim)
        canvas.capsule(sx, sy, sx + 14 * u, sy, 2.0 * u, (190, 194, 202))
        canvas.capsule(sx + 14 * u, sy, sx + 14 * u, y0 - 2 * u, 2.4 * u, (180, 184, 192))

    def draw(self, canvas: Canvas, t: float) -> None:
        u = self.u
        sx, sy = self.spout
        bottom = self.basin[1] + 6 * u
        if self.t_open <= t < self.t_off:
            head, tail = sy + 1.5 * u, bottom
            if t < self.t_on:
                tail = head + (bottom - head) * ((t - self.t_open) / self.fall) ** 2
            elif t >= self.t_close:
                head = head + (bottom - head) * ((t - self.t_close) / self.fall) ** 2
            canvas.rect(sx - 1.6 * u, head, sx + 1.6 * u, tail, (150, 190, 230), alpha=0.85)
            phase = (t * 70 * u) % (4.5 * u)
            yy = head + phase
            while yy < tail:
                canvas.rect(sx - 1.6 * u, yy, sx + 1.6 * u, min(tail, yy + 1.0 * u), (225, 238, 252), alpha=0.6)
                yy += 4.5 * u
            if t >= self.t_on:
                r = 4 * u + 1.5 * u * math.sin(2 * math.pi * 6 * t)
                canvas.ellipse(sx, bottom, r, 1.4 * u, (230, 240, 252), alpha=0.7)
        hx, hy = self.handle
        (a,) = self.turn(t)
        canvas.ellipse(hx, hy, 3 * u, 3 * u, (190, 194, 202))
        canvas.capsule(hx, hy, hx + 7 * u * math.cos(a), hy - 7 * u * math.sin(a) * 0.5, 1.6 * u, (150, 40, 40))
        if self.start_s <= t <= self.end_s:
            px, py = self.hand(t)
            self.arm_and_hand(canvas, px, py + 3 * u)

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        from egosonics.synth.realistic.sfx import looped

        assert sfx is not None, "water needs the sfx library"
        sr = self.layout.sample_rate
        wave, src = sfx.pick("water", rng, sr)
        n = int(round((self.t_off - self.t_on) * sr)) + int(0.15 * sr)
        run = looped(wave, n, sr, rng)
        envelope = np.minimum(1.0, np.arange(n) / (0.015 * sr))
        tail = int(0.15 * sr)
        envelope[n - tail:] *= np.linspace(1.0, 0.0, tail) ** 2
        splash = sounds.burst(rng, n, 0.02, sr, 2500.0)
        return [(0.35 * run * envelope / (np.abs(run).max() + 1e-9) + 0.25 * splash, [src.attribution("water")])]

    def offsets(self) -> list[float | None]:
        return [self.t_off + 0.15]

    def phrase(self) -> str:
        return f"run the tap for {self.t_close - self.t_on:.1f} seconds"


# ------------------------------------------------------------------------------------------------ roll


class Roll(RAction):
    kind = "roll"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float,
                 station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        u = layout.u
        y = layout.object_y
        self.view_dx = rng.uniform(-0.05, 0.05) * layout.width
        self.color = tuple(int(c) for c in rng.integers(60, 220, 3))
        x0 = station_x + 18 * u
        distance = rng.uniform(30, 45) * u
        t = start_s + rng.uniform(0.4, 0.55)
        self.t_push = t
        push = rng.uniform(0.25, 0.35)
        coast = rng.uniform(0.8, 1.4)
        self.t_stop = t + push + coast
        # Pushed from rest (speeding up), then rolling to a stop (friction): one smooth path of the cart's x.
        self.cart = (Path(start_s, (x0,)).hold(t).to(t + push, (x0 - 0.35 * distance,), "release")
                     .to(self.t_stop, (x0 - distance,), "smooth"))
        self.wheel_r = 3.2 * u
        self.y = y
        hand_at = (x0 + 14 * u, y - 10 * u)
        self.hand = Path(start_s, self.rest(*hand_at)).to(t, hand_at, "smooth")
        self.hand.to(t + push, (hand_at[0] - 0.35 * distance, hand_at[1]), "release")
        self.end_s = t + push + rng.uniform(0.4, 0.55)
        self.hand.to(self.end_s, self.rest(*hand_at), "smooth")
        self.end_s = max(self.end_s, self.t_stop + 0.2)
        self.events.append(Contact(t, (x0, y), "cart"))

    def draw(self, canvas: Canvas, t: float) -> None:
        u = self.u
        (x,) = self.cart(t)
        y = self.y
        canvas.rect(x - 13 * u, y - 14 * u, x + 13 * u, y - 4 * u, self.color)
        canvas.rect(x - 13 * u, y - 14 * u, x + 13 * u, y - 12 * u, shade(self.color, 1.25))
        angle = -(x - self.cart.values[0][0]) / self.wheel_r
        for wx in (x - 8 * u, x + 8 * u):
            canvas.ellipse(wx, y - self.wheel_r, self.wheel_r, self.wheel_r, (35, 35, 38))
            canvas.capsule(wx, y - self.wheel_r, wx + 0.8 * self.wheel_r * math.cos(angle),
                           y - self.wheel_r + 0.8 * self.wheel_r * math.sin(angle), 0.6 * u, (170, 170, 175))
        if self.start_s <= t <= self.end_s and t <= self.hand.end:
            hx, hy = self.hand(t)
            self.arm_and_hand(canvas, hx, hy, open_hand=True)

    def sounds(self, rng: np.random.Generator, sfx: SfxLibrary | None) -> list[Sound]:
        from egosonics.synth.realistic.sfx import looped

        assert sfx is not None, "roll needs the sfx library"
        sr = self.layout.sample_rate
        wave, src = sfx.pick("roll", rng, sr)
        n = int(round((self.t_stop - self.t_push) * sr))
        times = self.t_push + np.arange(0, n, 64) / sr
        speed = np.array([self.cart.speed(t + 1e-3) for t in times])
        speed = np.interp(np.arange(n), np.arange(0, n, 64), speed / (speed.max() + 1e-9))
        level = np.minimum(1.0, np.arange(n) / (0.01 * sr)) * speed ** 0.4
        run = looped(wave, n, sr, rng)
        knock = sounds.burst(rng, n, 0.004, sr, 1500.0)  # the push's first jolt
        return [(0.5 * run * level / (np.abs(run).max() + 1e-9) + 0.2 * knock, [src.attribution("roll")])]

    def offsets(self) -> list[float | None]:
        return [self.t_stop]

    def phrase(self) -> str:
        return "push the cart along the bench"
