"""Which 10 s windows of a video to consider, and whether each is loud enough to keep. Pure functions, no I/O."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np


def stable_seed(seed: int, key: str) -> int:
    """A 64-bit seed from the run seed and a string (a video's relative path): the same on every machine and rank."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def choose_windows(duration_s: float, *, window_s: float, seed: int, key: str,
                   max_windows: int | None = None) -> list[float]:
    """Start times of random non-overlapping windows that fit inside ``[0, duration_s]``.

    As many windows as fit (or ``max_windows``) are placed in order with random gaps between them: the free time
    ``duration - n · window`` is split at ``n`` uniform random points. Seeded by ``(seed, key)``, so a video gets the
    same windows whichever worker or rank handles it. A video shorter than one window gets none.
    """
    if window_s <= 0:
        raise ValueError(f"window must be positive, got {window_s} s")
    count = math.floor(duration_s / window_s + 1e-9) if duration_s > 0 else 0
    if max_windows is not None:
        count = min(count, max_windows)
    if count == 0:
        return []
    rng = np.random.default_rng(stable_seed(seed, key))
    slack = max(duration_s - count * window_s, 0.0)
    cuts = np.sort(rng.uniform(0.0, slack, size=count))  # the free time before each window
    return [round(float(cuts[i] + i * window_s), 3) for i in range(count)]


@dataclass(frozen=True)
class RmsDecision:
    """Keep a window or not, and why (goes into the manifest)."""

    keep: bool
    reason: str


def rms_decision(rms_dbfs: float, threshold_dbfs: float | None) -> RmsDecision:
    """The paper's filter: keep a window whose audio RMS exceeds the threshold (dBFS). None keeps everything."""
    if threshold_dbfs is None:
        return RmsDecision(True, "kept (no RMS threshold)")
    if rms_dbfs > threshold_dbfs:
        return RmsDecision(True, f"kept (RMS {rms_dbfs:.1f} dBFS > {threshold_dbfs:.1f})")
    return RmsDecision(False, f"too quiet (RMS {rms_dbfs:.1f} dBFS <= {threshold_dbfs:.1f})")


def percentile_threshold(rms_values: list[float], percentile: float) -> float | None:
    """The RMS (dBFS) below which ``percentile`` % of the windows lie; None when there are no windows."""
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {percentile}")
    if not rms_values:
        return None
    return float(np.percentile(np.asarray(rms_values, dtype=np.float64), percentile, method="lower"))
