"""Motion of realistic scenes, as continuous functions of time (so that motion blur can sample inside a frame's
exposure): keyframed paths with physical speed profiles, the wearer's head (sway, shake, the bob of walking with a
jerk at every heel strike) and vibration.

Speed profiles (position fraction over normalised time s in [0, 1]):

    smooth     minimum-jerk: at rest at both ends (reaching, lifting, turning the head)
    contact    accelerates from rest, is fastest at ~56 % of the way, then decelerates to about a fifth of its peak
               speed when it meets the surface, which stops it: what a hand does putting a cup down, a knife cutting
               into a board, a door swinging shut, a mallet knocked onto a block with control
    release    from rest, gently (leaving a surface)
    linear     constant speed
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable

import numpy as np

from egosonics.synth.actions.base import Track


def _table(speed: Callable[[np.ndarray], np.ndarray], n: int = 2049) -> tuple[np.ndarray, np.ndarray]:
    """Normalised time s [n] and the normalised integral of a speed profile (the position fraction) [n]."""
    s = np.linspace(0.0, 1.0, n)
    v = speed(s)
    pos = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(s))])
    return s, pos / pos[-1]


CONTACT_RESIDUAL = 0.2
"""Speed at the contact as a share of the approach's peak speed (the surface takes the rest)."""


def _contact_speed(s: np.ndarray) -> np.ndarray:
    bell = s * (1.0 - s) ** 0.8  # peak at s = 1 / 1.8
    peak = (1 / 1.8) * (0.8 / 1.8) ** 0.8
    return bell + CONTACT_RESIDUAL * peak * s ** 2


_CONTACT = _table(_contact_speed)

PROFILES: dict[str, Callable[[float], float]] = {
    "linear": lambda s: s,
    "smooth": lambda s: s * s * s * (10.0 - 15.0 * s + 6.0 * s * s),
    "contact": lambda s: float(np.interp(s, *_CONTACT)),
    "release": lambda s: s * s * (3.0 - 2.0 * s) if s < 1.0 else 1.0,
}


class Path(Track):
    """A piecewise motion of a vector (position, angle, ...): keyframes joined by ``PROFILES``; constant outside."""

    EASES = PROFILES

    @property
    def last(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self.values[-1])

    @property
    def end(self) -> float:
        return self.times[-1]

    def speed(self, t: float, dt: float = 1e-3) -> float:
        """|d value / dt| by a backward difference (the speed arriving at t)."""
        return float(np.linalg.norm(self(t) - self(t - dt)) / dt)


# ------------------------------------------------------------------------------------------------ the head


class Wobble:
    """A sum of sinusoids with random frequencies in a band and 1/f amplitudes, scaled to an RMS: smooth noise that
    can be evaluated at any time (head sway at low frequencies, hand-held shake at high ones)."""

    def __init__(self, rng: np.random.Generator, band_hz: tuple[float, float], rms: float, n: int = 10) -> None:
        self.freqs = np.exp(rng.uniform(math.log(band_hz[0]), math.log(band_hz[1]), n))
        self.phases = rng.uniform(0.0, 2 * math.pi, n)
        amps = 1.0 / self.freqs
        self.amps = rms * amps / math.sqrt(0.5 * float(np.sum(amps ** 2)))

    def __call__(self, t: float) -> float:
        return float(self.amps @ np.sin(2 * math.pi * self.freqs * t + self.phases))


class Gait:
    """The head's motion while walking: it falls during each stride and is stopped at the heel strike, where its
    vertical speed turns from down to up within an instant (a jerk, no jump in position), with a short damped shudder
    after; it sways sideways once per two steps.

    Args:
        strikes: heel-strike times (s), increasing.
        bob: vertical amplitude (px); sway: sideways amplitude (px); shudder: amplitude of the post-strike shudder.
    """

    def __init__(self, strikes: list[float], bob: float, sway: float, shudder: float) -> None:
        self.strikes, self.bob, self.sway, self.shudder = strikes, bob, sway, shudder
        self.period = float(np.mean(np.diff(strikes))) if len(strikes) > 1 else 0.5

    def __call__(self, t: float) -> tuple[float, float]:
        """(dx, dy) of the head at time t (y down)."""
        if not self.strikes:
            return 0.0, 0.0
        first, last = self.strikes[0] - self.period, self.strikes[-1]
        if t <= first or t >= last + self.period:
            return 0.0, 0.0
        i = bisect_right(self.strikes, t) - 1
        t0 = self.strikes[i] if i >= 0 else first
        t1 = self.strikes[i + 1] if i + 1 < len(self.strikes) else last + self.period
        s = (t - t0) / (t1 - t0)
        # Lowest (largest y) at each strike, highest mid-stride: |sin| has a corner at every strike.
        fade = 1.0 if i + 1 < len(self.strikes) else 1.0 - s  # the last stride settles
        fade = min(fade, 1.0) if i >= 0 else s  # the first stride rises in
        dy = self.bob * (1.0 - math.sin(math.pi * s)) * fade
        if i >= 0:
            dt = t - self.strikes[i]
            dy -= self.shudder * math.exp(-dt / 0.05) * math.sin(2 * math.pi * 11.0 * dt)  # the rebound
        dx = self.sway * math.sin(math.pi * (t - first) / self.period) * fade
        return dx, dy


def vibration(t: float, t_on: float, t_off: float, amplitude: float, hz: float, ramp_s: float = 0.15) -> float:
    """Displacement of a housing shaken by a running motor: ramps in and out with the motor, none outside."""
    if t < t_on or t > t_off + ramp_s:
        return 0.0
    level = min(1.0, (t - t_on) / ramp_s) * (1.0 if t <= t_off else 1.0 - (t - t_off) / ramp_s)
    return amplitude * level * math.sin(2 * math.pi * hz * t)
