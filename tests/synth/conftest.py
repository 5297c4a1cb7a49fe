"""Shared helpers for the synthetic-scene tests: short clips, an energy-onset detector, regional frame differences."""

from __future__ import annotations

import numpy as np
import pytest

from egosonics.clip_spec import ClipSpec
from egosonics.synth.scene import render_scene
from egosonics.synth.settings import EVENT_CLASSES, SynthSettings

SR = 22_050
FPS = 30


def energy_onset(x: np.ndarray, onset: int, *, window: int = 11, search_s: float = 0.03, sr: int = SR) -> int:
    """Where the energy jumps most near ``onset``: argmax over n of E[n, n + w) / E[n - w, n), w = 0.5 ms.

    An onset detector at sample resolution that needs no threshold and copes with an earlier sound's tail. It works
    on the pre-emphasised signal (x[n] - 0.97 x[n-1], as speech and onset front ends do), so that a low tone still
    ringing (a metal pan struck again) does not hide the new contact between its zero crossings.
    """
    x = np.asarray(x, np.float64)
    x = np.concatenate([x[:1], x[1:] - 0.97 * x[:-1]])
    energy = np.concatenate([[0.0], np.cumsum(x ** 2)])
    n = np.arange(max(onset - int(search_s * sr), window), min(onset + int(search_s * sr), len(x) - window))
    ratio = (energy[n + window] - energy[n] + 1e-12) / (energy[n] - energy[n - window] + 1e-9 * window)
    return int(n[np.argmax(ratio)])


def region_diff(frames: np.ndarray, k: int, box: tuple[slice, slice]) -> float:
    """Mean absolute difference between frames k and k - 1 inside a (rows, cols) box."""
    a = frames[k][box].astype(np.int16)
    b = frames[k - 1][box].astype(np.int16)
    return float(np.abs(a - b).mean())


def single(cls: str, **changes) -> SynthSettings:
    """Settings for 6 s clips of one class only."""
    values = {"clip": ClipSpec(duration_s=6.0), "mode": "single", "classes": (cls,), "min_events": 1, **changes}
    return SynthSettings(**values)


@pytest.fixture(scope="session")
def class_clips():
    """Two 6 s single-class clips per class (with per-event stems), rendered once per test session."""
    return {cls: [render_scene(seed, settings=single(cls), stems=True) for seed in (1, 2)] for cls in EVENT_CLASSES}


@pytest.fixture(scope="session")
def still_clips():
    """One 6 s single-class clip per class with the head held still between pans (for frame-timing tests)."""
    return {cls: [render_scene(seed, settings=single(cls, head_motion=0.0)) for seed in (3, 4)]
            for cls in EVENT_CLASSES}
