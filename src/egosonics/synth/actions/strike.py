"""Actions that bring a hand-held tool down onto an object: ``Impact`` (strikes that ring), ``Feint`` (the silent
distractor that stops short) and ``Chop`` (a knife through a carrot)."""

from __future__ import annotations

import math

import numpy as np

from egosonics.synth import sounds
from egosonics.synth.actions.base import Action, PlannedEvent, Track, draw_tool_with_hand, times_word
from egosonics.synth.raster import Canvas, shade
from egosonics.synth.world import Layout, Look, draw_block, draw_board, draw_clutter, draw_jar, draw_pan

# ------------------------------------------------------------------------------------------------ impact


_IMPACT_OBJECT = {"wood": "wooden block", "metal": "metal pan", "glass": "glass jar"}
# How long the struck object is seen to shake (s): as long as it audibly rings.
_SHAKE_TAU = {"wood": 0.05, "metal": 0.35, "glass": 0.2, "neutral": 0.12}


class Impact(Action):
    """A hand strikes an object with a tool 1–n times. ``neutral`` draws the same grey box whatever the material
    (the pair mode: the same pictures, wood or metal heard)."""

    kind = "impact"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float, station_x: float,
                 n: int, material: str, *, neutral: bool = False) -> None:
        super().__init__(layout, look, start_s, station_x)
        u, w, h = layout.u, layout.width, layout.height
        self.material, self.neutral = material, neutral
        self.appearance = "neutral" if neutral else material
        self.tool = "mallet" if neutral else str(rng.choice(["mallet", "spoon"]))
        x, y = station_x, layout.object_y
        self.contact = {"wood": (x, y - 21 * u), "neutral": (x, y - 21 * u), "metal": (x, y - 8 * u),
                        "glass": (x, y - 30 * u)}[self.appearance]
        self.box = {"metal": (x - 42 * u, y - 18 * u, x + 21 * u, y + u)}.get(
            self.appearance, (x - 18 * u, y - 34 * u, x + 18 * u, y + u))
        self.view_dx = rng.uniform(-0.08, 0.08) * w
        cx, cy = self.contact
        t_strike, t_rebound = rng.uniform(0.17, 0.23), rng.uniform(0.2, 0.3)
        lift = rng.uniform(20.0, 28.0) * u
        self.rest = (cx + 0.55 * w, cy + 0.8 * h)
        self.track = Track(start_s, self.rest)
        spread = 3.0 if self.appearance == "glass" else 6.0
        # Bring the tool in, hold it above the object, then strike: from rest, fastest at the contact.
        approach, hold = rng.uniform(0.3, 0.45), rng.uniform(0.12, 0.25)
        k = self.frame_at(start_s + approach + hold + t_strike)
        for i in range(n):
            xi = cx + rng.uniform(-spread, spread) * u
            hit = self.time_of(k)
            if i == 0:
                self.track.to(hit - t_strike - hold, (xi, cy - lift), "smooth")
            self.track.to(hit - t_strike, (xi, cy - lift), "smooth")
            self.track.to(hit, (xi, cy), "strike")
            self.track.to(hit + t_rebound, (xi + u, cy - 0.5 * lift), "smooth")
            self.events.append(PlannedEvent(k, (xi, cy), material))
            k = self.frame_at(hit + t_rebound + rng.uniform(0.03, 0.3) + t_strike)
        self.end_s = self.track.times[-1] + rng.uniform(0.3, 0.4)
        self.track.to(self.end_s, self.rest, "smooth")
        self.hits = [self.time_of(e.onset_frame) for e in self.events]

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        x, y, u = self.station_x, self.layout.object_y, self.layout.u
        if self.appearance == "wood":
            draw_block(canvas, x, y, u, (176, 124, 72))
        elif self.appearance == "neutral":
            draw_block(canvas, x, y, u, (128, 134, 148))
        elif self.appearance == "metal":
            draw_pan(canvas, x, y, u)
        else:
            draw_jar(canvas, x, y, u)

    def shake(self, canvas: Canvas, t: float, frame: int) -> None:
        past = [h for h in self.hits if h <= t + 1e-9]
        if not past:
            return
        tau, dt = _SHAKE_TAU[self.appearance], t - past[-1]
        if dt > 5 * tau:
            return
        # Pushed down at the contact, then shaking at 7.5 Hz for as long as the object rings.
        dy = 2.0 * self.layout.u * math.cos(2 * math.pi * 7.5 * dt) * math.exp(-dt / tau)
        canvas.shift(*self.box, 0, int(round(dy)))

    def draw(self, canvas: Canvas, t: float, frame: int) -> None:
        if not self.start_s <= t <= self.end_s:
            return
        draw_tool_with_hand(self, canvas, self.tool, *self.track(t))

    def sounds(self, rng: np.random.Generator) -> list[np.ndarray]:
        sr = self.layout.sample_rate
        f0 = rng.uniform(*sounds.MATERIALS[self.material].f0_hz)  # one object, one pitch
        waves = [sounds.impact_sound(self.material, rng, sr, strength=rng.uniform(0.75, 1.0), f0_hz=f0)
                 for _ in self.events]
        # The tool resting on the object at the next strike damps what still rings (to 30 % within 10 ms).
        starts = [self.layout.onset_sample(e.onset_frame) for e in self.events]
        for wave, start, following in zip(waves, starts, starts[1:], strict=False):
            gap = following - start
            if gap < len(wave):
                fade = np.interp(np.arange(len(wave) - gap), [0, 0.01 * sr], [1.0, 0.3])
                wave[gap:] *= fade
        return waves

    def phrase(self) -> str:
        if self.neutral:
            thing = {"wood": "a wooden box", "metal": "a metal box", "glass": "a glass box"}[self.material]
            return f"knock on {thing} {times_word(len(self.events))} with a mallet"
        return f"hit the {_IMPACT_OBJECT[self.material]} {times_word(len(self.events))} with a {self.tool}"


class Feint(Action):
    """A silent distractor: a hand brings a tool down towards an object and stops short of it."""

    kind = "feint"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float,
                 station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        u = layout.u
        self.tool = str(rng.choice(["mallet", "spoon"]))
        self.clutter_seed = int(rng.integers(2**31))
        self.gap = rng.uniform(4.0, 8.0) * u
        self.t_near = start_s + rng.uniform(0.5, 0.7)
        self.t_hold = rng.uniform(0.1, 0.3)
        self.end_s = self.t_near + self.t_hold + rng.uniform(0.5, 0.7)
        self.track: Track | None = None  # known once the object is drawn (its top depends on what it is)

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        w, h, u = self.layout.width, self.layout.height, self.layout.u
        x, y = draw_clutter(canvas, self.station_x, self.layout.object_y, u, np.random.default_rng(self.clutter_seed))
        rest = (x + 0.55 * w, y + 0.8 * h)
        # Down towards the object, slowing to a stop a few pixels above it, a pause, and away.
        self.track = (Track(self.start_s, rest).to(self.t_near - 0.25, (x, y - 22 * u), "smooth")
                      .to(self.t_near, (x, y - self.gap), "smooth").hold(self.t_near + self.t_hold)
                      .to(self.end_s, rest, "smooth"))

    def draw(self, canvas: Canvas, t: float, frame: int) -> None:
        if self.track is not None and self.start_s <= t <= self.end_s:
            draw_tool_with_hand(self, canvas, self.tool, *self.track(t))


# ------------------------------------------------------------------------------------------------ chop


class Chop(Action):
    """The right hand chops a carrot on a board n times (moving left along it); the left hand holds the carrot."""

    kind = "chop"

    def __init__(self, layout: Layout, look: Look, rng: np.random.Generator, start_s: float, station_x: float,
                 n: int) -> None:
        super().__init__(layout, look, start_s, station_x)
        u, w, h = layout.u, layout.width, layout.height
        x = station_x
        self.surface = layout.object_y - 10 * u + 3 * u  # the board's top face, under the carrot
        self.carrot = (x - 20 * u, x + 16 * u, self.surface - 3 * u)  # left end, right end, centre y
        self.view_dx = rng.uniform(-0.06, 0.06) * w
        t_strike, t_rebound = rng.uniform(0.1, 0.14), rng.uniform(0.12, 0.18)
        lift = rng.uniform(14.0, 20.0) * u
        self.rest = (x + 0.5 * w, self.surface + 0.7 * h)
        self.track = Track(start_s, self.rest)
        cut = self.carrot[1]
        self.cuts: list[float] = []
        approach, hold = rng.uniform(0.3, 0.45), rng.uniform(0.12, 0.25)
        k = self.frame_at(start_s + approach + hold + t_strike)
        for i in range(n):
            cut -= rng.uniform(4.0, 6.0) * u
            hit = self.time_of(k)
            if i == 0:
                self.track.to(hit - t_strike - hold, (cut, self.surface - lift), "smooth")
            self.track.to(hit - t_strike, (cut, self.surface - lift), "smooth")
            self.track.to(hit, (cut, self.surface), "strike")
            self.track.to(hit + t_rebound, (cut, self.surface - 0.6 * lift), "smooth")
            self.cuts.append(cut)
            self.events.append(PlannedEvent(k, (cut, self.surface), "wood"))
            k = self.frame_at(hit + t_rebound + rng.uniform(0.02, 0.15) + t_strike)
        self.end_s = self.track.times[-1] + rng.uniform(0.3, 0.4)
        self.track.to(self.end_s, self.rest, "smooth")
        self.hits = [self.time_of(e.onset_frame) for e in self.events]

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        draw_board(canvas, self.station_x, self.layout.object_y, self.layout.u)

    def draw(self, canvas: Canvas, t: float, frame: int) -> None:
        u = self.layout.u
        left, right, cy = self.carrot
        if not canvas.visible(left - 10 * u, cy - 30 * u, right + 40 * u, cy + 10 * u):
            return
        done = sum(h <= t + 1e-9 for h in self.hits)
        # 1. The carrot: what is left of it, and the slices cut off, each pushed 2 px away by the blade.
        orange = (235, 120, 30)
        end = self.cuts[done - 1] if done else right
        canvas.ellipse(left + 2 * u, cy, 3 * u, 3 * u, orange)
        canvas.rect(left + 2 * u, cy - 3 * u, end, cy + 3 * u, orange)
        canvas.ellipse(left - 2 * u, cy - 2 * u, 4 * u, 2 * u, (60, 150, 50))
        for j in range(done):
            s0, s1 = self.cuts[j], (self.cuts[j - 1] if j else right)
            canvas.rect(s0 + 2 * u, cy - 3 * u, s1 + 1 * u, cy + 3 * u, shade(orange, 1.05 if j % 2 else 0.92))
        # 2. The left hand holds the carrot while chopping.
        if self.start_s <= t <= self.end_s:
            self.draw_arm(canvas, left + 2 * u, cy + 4 * u, side=-1)
            self.draw_hand(canvas, left + 4 * u, cy - 1 * u)
            # 3. The knife (edge at the track's point), its handle and the right hand.
            kx, ky = self.track(t)
            hand = (kx + 7 * u, ky - 22 * u)
            self.draw_arm(canvas, hand[0] + 3 * u, hand[1] + 3 * u)
            canvas.polygon([(kx - 1.5 * u, ky), (kx + 1.5 * u, ky), (kx + 3 * u, ky - 14 * u),
                            (kx - 2.5 * u, ky - 14 * u)], (205, 210, 218))
            canvas.rect(kx - 2.5 * u, ky - 14 * u, kx + 3 * u, ky - 12.5 * u, (120, 125, 135))
            canvas.capsule(kx, ky - 14 * u, *hand, 2.2 * u, (55, 38, 25))
            self.draw_hand(canvas, *hand)

    def sounds(self, rng: np.random.Generator) -> list[np.ndarray]:
        return [sounds.chop_sound(rng, self.layout.sample_rate, strength=rng.uniform(0.8, 1.0)) for _ in self.events]

    def phrase(self) -> str:
        return f"chop a carrot {times_word(len(self.events))} on a cutting board"
