"""The shape every metric object has: ``update(...)`` per batch or clip, ``compute()`` at the end, ``reset()``.

As audiocraft's metrics: state accumulates across ``update`` calls, ``compute`` does not clear it, and every metric
says with ``higher_is_better`` which direction is good (for metrics that report several numbers, the direction of
their headline number; each class docstring lists the others).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np


class Metric(ABC):
    """A stateful metric: ``update`` accumulates, ``compute`` summarises, ``reset`` clears."""

    higher_is_better: ClassVar[bool]

    @abstractmethod
    def reset(self) -> None:
        """Forget everything accumulated so far."""

    @abstractmethod
    def update(self, *args: Any, **kwargs: Any) -> Any:
        """Add one batch or clip."""

    @abstractmethod
    def compute(self) -> dict[str, Any]:
        """The summary of everything added so far (raises ``ValueError`` when nothing usable was added)."""


def as_matrix(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` as a finite float64 matrix [n, d]; a ``ValueError`` naming ``name`` otherwise."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a matrix [n, d] with d ≥ 1, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.sum(~np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or inf values (shape {arr.shape})")
    return arr


def nan_mean(values: Iterable[float]) -> float:
    """Mean of the finite values; NaN when there are none."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan
