"""What the wearer does: one class per kind of action, each a run of sound events with its motion, drawing and sound.

An action is planned once (times on frame boundaries, positions in world pixels), then asked, frame by frame, to shake
and draw itself, and once to make the sound of each of its events. Motions that make sound (a saw's push, a rotor's
speed, a stream's flow) are defined at the audio rate and sampled at the frame times, so that what is seen and what
is heard come from one curve.

    class       action        visual signature (the onset frame)                  sound (``synth.sounds``)
    impact      Impact        tool head reaches the object at full speed; the     modal: wood / metal / glass
                              object jolts and shakes as long as it rings
    chop        Chop          knife edge reaches the board; a slice falls off     crunch + board knock
    saw         Saw           blade drops onto the cut and starts its push        rasp locked to the blade's speed
    machine     Machine       finger presses the switch; light on, wheel spins,   hum locked to the wheel's speed
                              housing shakes exactly while it hums
    pour        Pour          falling stream reaches the glass; water rises       flow noise, bubbles, rising resonance
    footsteps   Walk          a shoe lands and stops; the view jolts              heel thump + floor response
    (silent)    Feint         a tool stops short of an object                     none (a distractor)
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from egosonics.synth import sounds
from egosonics.synth.raster import Canvas, rotated, shade
from egosonics.synth.world import (
    Layout,
    Look,
    draw_block,
    draw_board,
    draw_clutter,
    draw_glass,
    draw_jar,
    draw_machine_body,
    draw_pan,
    draw_plank,
)

# ------------------------------------------------------------------------------------------------ motion helpers


def _saw_profile(n: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Speed v(s) = sin(pi s) ** 0.6 of a push stroke over s in [0, 1] and its normalised integral (the position)."""
    s = np.linspace(0.0, 1.0, n)
    v = np.sin(np.pi * s) ** 0.6
    pos = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(s))])
    return s, pos / pos[-1]


_SAW_S, _SAW_POS = _saw_profile()

EASE = {
    "linear": lambda s: s,
    "smooth": lambda s: 0.5 - 0.5 * math.cos(math.pi * s),  # at rest at both ends
    "accel": lambda s: s * s,  # from rest, arriving at full speed
    "strike": lambda s: s * s * s,  # from rest, accelerating hard into the contact
    "decel": lambda s: 1.0 - (1.0 - s) ** 2,
    "saw": lambda s: float(np.interp(s, _SAW_S, _SAW_POS)),  # the push stroke whose speed drives the rasp
}


class Track:
    """A piecewise motion: keyframes (time, value) joined by easing curves; constant before and after."""

    EASES = EASE  # name → curve s ∈ [0, 1] → [0, 1]; ``synth.realistic.physics.Path`` brings its own

    def __init__(self, t: float, value: tuple[float, ...]) -> None:
        self.times = [t]
        self.values = [np.asarray(value, np.float64)]
        self.eases = ["linear"]

    def to(self, t: float, value: tuple[float, ...], ease: str = "smooth") -> Track:
        """Arrive at ``value`` at time ``t`` (not before the last key) along ``ease``."""
        assert t >= self.times[-1] - 1e-9, f"keyframe at {t} before {self.times[-1]}"
        self.times.append(t)
        self.values.append(np.asarray(value, np.float64))
        self.eases.append(ease)
        return self

    def hold(self, t: float) -> Track:
        return self.to(t, tuple(self.values[-1]), "linear")

    @property
    def last(self) -> tuple[float, ...]:
        return tuple(self.values[-1])

    def __call__(self, t: float) -> np.ndarray:
        i = bisect_right(self.times, t)
        if i == 0:
            return self.values[0]
        if i == len(self.times):
            return self.values[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        s = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        return self.values[i - 1] + (self.values[i] - self.values[i - 1]) * self.EASES[self.eases[i]](s)


def times_word(n: int) -> str:
    return {1: "once", 2: "twice", 3: "three times"}.get(n, f"{number_word(n)} times")


def number_word(n: int) -> str:
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
             "twelve"]
    return words[n] if 0 <= n < len(words) else str(n)


@dataclass
class PlannedEvent:
    """A sound event as planned: its onset frame, the contact point (world pixels) and what sounds."""

    onset_frame: int
    contact: tuple[float, float]
    material: str


# ------------------------------------------------------------------------------------------------ base class


class Action:
    """A run of events at one station; subclasses set the timing in ``__init__``.

    Attributes:
        kind: the event class (or ``feint`` for the silent distractor).
        start_s, end_s: when the hands are in view for it (the camera stays on the station in between).
        station_x: world x of the station's centre.
        events: the planned events, in time order.
    """

    kind = ""

    def __init__(self, layout: Layout, look: Look, start_s: float, station_x: float) -> None:
        self.layout, self.look = layout, look
        self.start_s = self.end_s = start_s
        self.station_x = station_x
        self.events: list[PlannedEvent] = []
        self.view_dx = 0.0  # where the camera looks, relative to the station

    # timing ----------------------------------------------------------------------------------------------------

    def frame_at(self, t: float) -> int:
        """The first frame at or after time t."""
        return int(math.ceil(t * self.layout.fps - 1e-6))

    def time_of(self, frame: int) -> float:
        return frame / self.layout.fps

    # camera ----------------------------------------------------------------------------------------------------

    def view_start(self) -> tuple[float, float]:
        """Camera top-left corner (world) when the action starts."""
        return self.station_x - self.layout.width / 2 + self.view_dx, self.layout.stand_y

    def view_end(self) -> tuple[float, float]:
        return self.view_start()

    def view(self, t: float) -> tuple[float, float]:
        """Camera top-left corner during the action (stands still unless the action moves the wearer)."""
        return self.view_start()

    @property
    def extent(self) -> tuple[float, float]:
        """World x range this action ever draws in."""
        return self.station_x - 0.6 * self.layout.width, self.station_x + 0.6 * self.layout.width

    # drawing ---------------------------------------------------------------------------------------------------

    def bake(self, canvas: Canvas, rng: np.random.Generator) -> None:
        """Draw the parts that never move into the panorama."""

    def shake(self, canvas: Canvas, t: float, frame: int) -> None:
        """Shift what vibrates (before anything is drawn over it)."""

    def draw(self, canvas: Canvas, t: float, frame: int) -> None:
        """Draw what moves at time t."""

    def draw_arm(self, canvas: Canvas, hx: float, hy: float, side: int = 1) -> None:
        """An arm from a shoulder below the frame (right: side 1, left: -1) to a hand at (hx, hy)."""
        u, w, h = self.layout.u, self.layout.width, self.layout.height
        sx, sy = canvas.ox + (0.5 + 0.45 * side) * w, canvas.oy + 1.5 * h
        canvas.capsule(sx, sy, hx, hy, 6.0 * u, self.look.sleeve)

    def draw_hand(self, canvas: Canvas, hx: float, hy: float) -> None:
        u = self.layout.u
        canvas.ellipse(hx, hy, 6.5 * u, 5.5 * u, self.look.skin)
        canvas.ellipse(hx - 2 * u, hy - 2 * u, 3 * u, 2 * u, shade(self.look.skin, 1.08))

    # sound and words -------------------------------------------------------------------------------------------

    def sounds(self, rng: np.random.Generator) -> list[np.ndarray]:
        """One waveform per event, sample 0 at its onset."""
        return []

    def phrase(self) -> str:
        """What the wearer does, for the narration ("hit the metal pan twice with a spoon")."""
        return ""


def draw_tool(canvas: Canvas, tool: str, hx: float, hy: float, u: float) -> tuple[float, float]:
    """A mallet or a spoon whose striking point is (hx, hy); returns where the hand holds it."""
    if tool == "mallet":
        grip = (hx + 20 * u, hy + 4 * u)
        canvas.capsule(hx + 3 * u, hy - 5 * u, *grip, 1.8 * u, (150, 110, 70))
        canvas.rect(hx - 7 * u, hy - 10 * u, hx + 7 * u, hy, (110, 72, 40))
        canvas.rect(hx - 7 * u, hy - 10 * u, hx + 7 * u, hy - 8 * u, (140, 98, 60))
    else:  # spoon
        grip = (hx + 19 * u, hy + 3 * u)
        canvas.capsule(hx + 4 * u, hy - 3 * u, *grip, 1.2 * u, (185, 188, 198))
        canvas.ellipse(hx, hy - 3 * u, 6 * u, 3.2 * u, (195, 198, 208))
        canvas.ellipse(hx + 1 * u, hy - 4 * u, 2.5 * u, 1.2 * u, (240, 240, 245))
    return grip


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


def draw_tool_with_hand(action: Action, canvas: Canvas, tool: str, hx: float, hy: float) -> tuple[float, float]:
    """Arm, tool and the hand holding it; the tool strikes at (hx, hy)."""
    u = action.layout.u
    grip = (hx + 20 * u, hy + 4 * u)
    action.draw_arm(canvas, grip[0] + 3 * u, grip[1] + 3 * u)
    draw_tool(canvas, tool, hx, hy, u)
    action.draw_hand(canvas, *grip)
    return grip


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


# ------------------------------------------------------------------------------------------------ saw


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


# ------------------------------------------------------------------------------------------------ machine


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


# ------------------------------------------------------------------------------------------------ pour


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


# ------------------------------------------------------------------------------------------------ footsteps


_FLOOR_WORDS = {"wood": "the wooden floor", "gravel": "gravel", "tile": "the tiled floor"}


class Walk(Action):
    """The wearer looks down and walks n steps along the bench to the next station.

    Each step's shoe swings forward and lands (stops) in the onset frame, where the view jolts down.
    """

    kind = "footsteps"

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

    @property
    def extent(self) -> tuple[float, float]:
        return self.x_from - 0.7 * self.layout.width, self.x_to + 0.7 * self.layout.width

    def centre_x(self, t: float) -> float:
        """World x the wearer is at: walks from x_from to x_to between the first swing and the last step."""
        a, b = self.move
        s = min(1.0, max(0.0, (t - a) / (b - a)))
        return self.x_from + (self.x_to - self.x_from) * EASE["smooth"](s)

    def view_start(self) -> tuple[float, float]:
        return self.x_from - self.layout.width / 2, self.layout.stand_y

    def view_end(self) -> tuple[float, float]:
        return self.x_to - self.layout.width / 2, self.layout.stand_y

    def view(self, t: float) -> tuple[float, float]:
        lay = self.layout
        down = min(1.0, max(0.0, (t - self.start_s) / self.t_down))
        up = min(1.0, max(0.0, (self.end_s - t) / self.t_up))
        tilt = EASE["smooth"](min(down, up))
        y = lay.stand_y + (lay.walk_y - lay.stand_y) * tilt
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
