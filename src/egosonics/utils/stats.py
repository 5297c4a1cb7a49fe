"""The Student-t confidence interval of a mean, for every report that gives one (experiments, listening study)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MeanCI:
    """The mean of ``n`` values, their sample standard deviation and the half-width of the mean's Student-t
    confidence interval (``std`` and ``half_width`` None for fewer than 2 values, ``mean`` None for none)."""

    mean: float | None
    n: int
    std: float | None
    half_width: float | None

    @property
    def low(self) -> float | None:
        return self.mean - self.half_width if self.half_width is not None else None

    @property
    def high(self) -> float | None:
        return self.mean + self.half_width if self.half_width is not None else None


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> MeanCI:
    """The mean of ``values`` with its Student-t confidence interval (sample std, n − 1 degrees of freedom)."""
    n = len(values)
    if n == 0:
        return MeanCI(None, 0, None, None)
    mean = math.fsum(values) / n
    if n < 2:
        return MeanCI(mean, n, None, None)
    from scipy.stats import t

    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)
    return MeanCI(mean, n, std, half)
