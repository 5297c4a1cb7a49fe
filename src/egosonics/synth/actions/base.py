"""What every action shares: the motion helpers (easing curves, ``Track``), the words of the narration, the planned
event, the base class ``Action`` and the hand-held tool that strikes (drawn by ``Impact`` and ``Feint``)."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from egosonics.synth.raster import Canvas, shade
from egosonics.synth.world import Layout, Look

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


class Station:
    """Where an action happens and where the camera looks meanwhile: the part the easy and the realistic renderers'
    actions share (``Action`` here, ``synth.realistic.actions.RAction``).

    Attributes:
        kind: the event class (or ``feint`` for the silent distractor).
        start_s, end_s: when the hands are in view for it (the camera stays on the station in between).
        station_x: world x of the station's centre.
        span: half the world x range the action draws in, in frame widths (``extent``).
    """

    kind = ""
    span = 0.6

    def __init__(self, layout: Layout, look: Look, start_s: float, station_x: float) -> None:
        self.layout, self.look = layout, look
        self.start_s = self.end_s = start_s
        self.station_x = station_x
        self.view_dx = 0.0  # where the camera looks, relative to the station

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
        return self.station_x - self.span * self.layout.width, self.station_x + self.span * self.layout.width


class Action(Station):
    """A run of events at one station; subclasses set the timing in ``__init__``. ``events``: the planned events,
    in time order."""

    def __init__(self, layout: Layout, look: Look, start_s: float, station_x: float) -> None:
        super().__init__(layout, look, start_s, station_x)
        self.events: list[PlannedEvent] = []

    # timing ----------------------------------------------------------------------------------------------------

    def frame_at(self, t: float) -> int:
        """The first frame at or after time t."""
        return int(math.ceil(t * self.layout.fps - 1e-6))

    def time_of(self, frame: int) -> float:
        return frame / self.layout.fps

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


def draw_tool_with_hand(action: Action, canvas: Canvas, tool: str, hx: float, hy: float) -> tuple[float, float]:
    """Arm, tool and the hand holding it; the tool strikes at (hx, hy)."""
    u = action.layout.u
    grip = (hx + 20 * u, hy + 4 * u)
    action.draw_arm(canvas, grip[0] + 3 * u, grip[1] + 3 * u)
    draw_tool(canvas, tool, hx, hy, u)
    action.draw_hand(canvas, *grip)
    return grip
