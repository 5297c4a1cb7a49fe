"""Distribution distances between two sets of embeddings: Fréchet distance (FD/FAD/FID core), FAD∞ and KID.

Lower is better for all of them; 0 means the two sets are indistinguishable by the statistic.

    FD² = ‖μ1 − μ2‖² + Tr S1 + Tr S2 − 2 Tr (S1 S2)^{1/2}                    (EVALUATION.md §1.1)

Like every reference implementation (pytorch-fid, fadtk, torchmetrics) we return this *squared* quantity and call it
FD. The trace of the matrix square root has three interchangeable implementations (``method``, §2.4):

    "eigh"     Tr (S1^{1/2} S2 S1^{1/2})^{1/2} from symmetric eigendecompositions only (default: real, stable,
               defined for singular covariances, i.e. n ≤ d);
    "sqrtm"    scipy.linalg.sqrtm(S1 S2) with pytorch-fid's eps·I retry and imaginary-part check;
    "eigvals"  Σ sqrt(eigvals(S1 S2)).real, as torchmetrics' ``_compute_fid``.

All computation is float64. FD grows as n shrinks (bias ∝ 1/n): report n next to it, compare only at equal n,
or extrapolate with ``fad_infinity`` (fadtk's FAD∞).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from egosonics.evaluation.base import Metric, as_matrix

log = logging.getLogger(__name__)

SqrtMethod = Literal["eigh", "sqrtm", "eigvals"]
SQRT_METHODS: tuple[str, ...] = ("eigh", "sqrtm", "eigvals")


@dataclass(frozen=True)
class GaussianStats:
    """Mean [d] and unbiased covariance [d, d] (``np.cov(E, rowvar=False)``, divides by n − 1) of n embeddings."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int

    @classmethod
    def from_embeddings(cls, embeddings: np.ndarray) -> GaussianStats:
        """Fit to embeddings [n, d], n ≥ 2."""
        emb = as_matrix(embeddings, "embeddings")
        if emb.shape[0] < 2:
            raise ValueError(f"need at least 2 embeddings to estimate a covariance, got {emb.shape[0]}")
        return cls(mu=emb.mean(axis=0), sigma=np.atleast_2d(np.cov(emb, rowvar=False)), n=emb.shape[0])


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, method: str) -> float:
    """Tr((S1 S2)^{1/2}) for symmetric PSD S1, S2 [d, d] (EVALUATION.md §2.4)."""
    if method == "eigh":
        # S1 S2 is similar to M = S1^{1/2} S2 S1^{1/2}, which is symmetric PSD: its eigenvalues are real and ≥ 0.
        s, u = np.linalg.eigh(sigma1)
        half = (u * np.sqrt(np.clip(s, 0.0, None))) @ u.T  # S1^{1/2}
        m = half @ sigma2 @ half
        w = np.linalg.eigvalsh((m + m.T) / 2)
        return float(np.sum(np.sqrt(np.clip(w, 0.0, None))))
    if method == "sqrtm":
        from scipy import linalg

        # pytorch-fid's calculate_frechet_distance, step by step.
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            eps = 1e-6
            log.warning("sqrtm of a singular product; adding %g to the covariance diagonals (pytorch-fid)", eps)
            offset = np.eye(sigma1.shape[0]) * eps
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if np.iscomplexobj(covmean):
            if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
                raise ValueError(f"sqrtm gave an imaginary component of {np.max(np.abs(covmean.imag)):.3g}; "
                                 f"use method='eigh'")
            covmean = covmean.real
        return float(np.trace(covmean))
    if method == "eigvals":
        eig = np.linalg.eigvals(sigma1 @ sigma2).astype(np.complex128)
        return float(np.sqrt(eig).real.sum())
    raise ValueError(f"unknown Fréchet method {method!r}; choose from {list(SQRT_METHODS)}")


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, *,
                     method: SqrtMethod = "eigh") -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), float64 (EVALUATION.md §1.1, §2.4).

    Args:
        mu1, mu2: means [d].
        sigma1, sigma2: covariances [d, d] (symmetric positive semi-definite).
        method: "eigh" (default), "sqrtm" or "eigvals"; they agree to ~1e-6 relative on well-conditioned input.

    Returns:
        FD ≥ 0 (the "eigh" result is clamped at 0 against round-off; the others are returned as computed).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(f"shape mismatch: mu1 {mu1.shape}, mu2 {mu2.shape}, sigma1 {sigma1.shape}, "
                         f"sigma2 {sigma2.shape}; expected [d] and [d, d]")
    if not (np.isfinite(mu1).all() and np.isfinite(mu2).all() and np.isfinite(sigma1).all()
            and np.isfinite(sigma2).all()):
        raise ValueError("Gaussian statistics contain NaN or inf")
    diff = mu1 - mu2
    tr_covmean = _trace_sqrt_product(sigma1, sigma2, method)
    fd = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)
    return max(fd, 0.0) if method == "eigh" else fd


def frechet_distance_from_embeddings(reference: np.ndarray, generated: np.ndarray, *,
                                     method: SqrtMethod = "eigh") -> float:
    """FD between embedding sets [n1, d] and [n2, d] (each n ≥ 2)."""
    a, b = GaussianStats.from_embeddings(reference), GaussianStats.from_embeddings(generated)
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma, method=method)


@dataclass(frozen=True)
class FADInfinity:
    """fadtk's FAD∞: FD extrapolated to infinitely many samples.

    Attributes:
        score: the intercept of the least-squares line FD(n) = score + slope / n.
        slope: its slope.
        r2: coefficient of determination of the fit.
        points: (n, FD at n) for every n used.
    """

    score: float
    slope: float
    r2: float
    points: list[tuple[int, float]]


def fad_infinity(reference: np.ndarray, generated: np.ndarray, *, steps: int = 25, min_n: int = 500,
                 seed: int = 2020, method: SqrtMethod = "eigh") -> FADInfinity:
    """FAD∞ as fadtk's ``score_inf`` (EVALUATION.md §1.2): for each n in linspace(min_n, N, steps), draw n generated
    embeddings with replacement, compute FD against the full reference statistics, then fit FD against 1/n.

    Args:
        reference: [n1, d] embeddings (the background set; its statistics are fixed).
        generated: [N, d] embeddings, N ≥ min_n.
        steps, min_n: the n grid (fadtk: 25 values from 500).
        seed: seeds the draws (fadtk uses the global numpy state; we seed for determinism).
    """
    ref = GaussianStats.from_embeddings(reference)
    gen = as_matrix(generated, "generated")
    if gen.shape[0] < min_n:
        raise ValueError(f"FAD∞ needs at least min_n={min_n} generated embeddings, got {gen.shape[0]}")
    if steps < 2:
        raise ValueError(f"FAD∞ needs at least 2 steps to fit a line, got {steps}")
    rng = np.random.default_rng(seed)
    ns = [int(n) for n in np.linspace(min_n, gen.shape[0], steps)]
    points = []
    for n in ns:
        sample = GaussianStats.from_embeddings(gen[rng.integers(0, gen.shape[0], size=n)])
        points.append((n, frechet_distance(ref.mu, ref.sigma, sample.mu, sample.sigma, method=method)))
    xs = 1.0 / np.asarray(ns, np.float64)
    ys = np.asarray([p[1] for p in points])
    slope, intercept = np.polyfit(xs, ys, 1)
    ss_tot = float(np.sum((ys - ys.mean()) ** 2))
    r2 = 1.0 - float(np.sum((ys - (slope * xs + intercept)) ** 2)) / ss_tot if ss_tot > 0 else 1.0
    return FADInfinity(score=float(intercept), slope=float(slope), r2=r2, points=points)


def polynomial_mmd2(x: np.ndarray, y: np.ndarray, *, degree: int = 3, gamma: float | None = None,
                    coef0: float = 1.0) -> float:
    """Unbiased MMD² with the polynomial kernel k(a, b) = (gamma·a·b + coef0)^degree, gamma = 1/d by default;
    x and y are [m, d] with the same m (SpecVQGAN ``polynomial_mmd``)."""
    m = x.shape[0]
    if y.shape[0] != m or m < 2:
        raise ValueError(f"polynomial MMD needs two subsets of equal size ≥ 2, got {x.shape[0]} and {y.shape[0]}")
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    k_xx = (x @ x.T * gamma + coef0) ** degree
    k_yy = (y @ y.T * gamma + coef0) ** degree
    k_xy = (x @ y.T * gamma + coef0) ** degree
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2.0 * k_xy.sum() / (m * m))


def kernel_inception_distance(reference: np.ndarray, generated: np.ndarray, *, subsets: int = 100,
                              subset_size: int = 1000, degree: int = 3, gamma: float | None = None,
                              coef0: float = 1.0, seed: int = 2020) -> tuple[float, float]:
    """KID as SpecVQGAN's ``calculate_kid`` (EVALUATION.md §3.3): the unbiased polynomial-kernel MMD² averaged over
    ``subsets`` random subsets (drawn without replacement) of ``subset_size`` from each set.

    ``subset_size`` is lowered to the smaller set's size when larger (SpecVQGAN prints a warning; so do we). Subsets are
    drawn from ``np.random.RandomState(seed)`` in SpecVQGAN's order, so numbers match it for the same features.

    Returns:
        (mean, std) over subsets; lower is better, about 0 for two draws of one distribution (it can be negative).
    """
    x, y = as_matrix(reference, "reference"), as_matrix(generated, "generated")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"embedding sizes differ: reference {x.shape[1]}, generated {y.shape[1]}")
    size = min(subset_size, x.shape[0], y.shape[0])
    if size < subset_size:
        log.info("KID subset size %d is larger than a set (%d reference, %d generated); using %d",
                    subset_size, x.shape[0], y.shape[0], size)
    if size < 2:
        raise ValueError(f"KID needs at least 2 embeddings in each set, got {x.shape[0]} and {y.shape[0]}")
    rng = np.random.RandomState(seed)
    mmds = np.zeros(subsets)
    for i in range(subsets):
        a = x[rng.choice(len(x), size, replace=False)]
        b = y[rng.choice(len(y), size, replace=False)]
        mmds[i] = polynomial_mmd2(a, b, degree=degree, gamma=gamma, coef0=coef0)
    return float(np.mean(mmds)), float(np.std(mmds))


class _EmbeddingSets(Metric):
    """Accumulates a reference and a generated set of embeddings [n, d]."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._reference: list[np.ndarray] = []
        self._generated: list[np.ndarray] = []

    def update(self, *, reference: np.ndarray | None = None, generated: np.ndarray | None = None) -> None:
        """Add embeddings [b, d] (or one [d]) to either set; the two sets may differ in size."""
        if reference is None and generated is None:
            raise ValueError("update() needs reference and/or generated embeddings, got neither")
        for name, new, store in (("reference", reference, self._reference), ("generated", generated,
                                                                               self._generated)):
            if new is None:
                continue
            emb = as_matrix(np.atleast_2d(np.asarray(new)), name)
            dims = {e.shape[1] for e in self._reference + self._generated}
            if dims and emb.shape[1] not in dims:
                raise ValueError(f"{name} embeddings have dimension {emb.shape[1]}, earlier ones {sorted(dims)}")
            store.append(emb)

    def _sets(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._reference or not self._generated:
            raise ValueError(f"no embeddings yet: {sum(len(e) for e in self._reference)} reference, "
                             f"{sum(len(e) for e in self._generated)} generated")
        return np.concatenate(self._reference), np.concatenate(self._generated)


class FrechetDistance(_EmbeddingSets):
    """Fréchet distance between the accumulated reference and generated embeddings. Lower is better; 0 = same
    Gaussian statistics. ``compute()`` returns {"fd", "n_reference", "n_generated", "dim", "method"}.

    Args:
        method: "eigh" (default), "sqrtm" or "eigvals" (EVALUATION.md §2.4).
    """

    higher_is_better = False

    def __init__(self, *, method: SqrtMethod = "eigh") -> None:
        if method not in SQRT_METHODS:
            raise ValueError(f"unknown Fréchet method {method!r}; choose from {list(SQRT_METHODS)}")
        self.method = method
        super().__init__()

    def compute(self) -> dict[str, float | int | str]:
        ref, gen = self._sets()
        fd = frechet_distance_from_embeddings(ref, gen, method=self.method)
        if min(len(ref), len(gen)) <= ref.shape[1]:
            log.info("FD with n ≤ d (%d reference, %d generated, d=%d): covariances are rank-deficient; the value is "
                     "defined but comparable only at the same n", len(ref), len(gen), ref.shape[1])
        return {"fd": fd, "n_reference": len(ref), "n_generated": len(gen), "dim": ref.shape[1],
                "method": self.method}


class KernelInceptionDistance(_EmbeddingSets):
    """KID between the accumulated sets (EVALUATION.md §3.3). Lower is better; about 0 for one distribution.

    ``subset_size`` defaults to 100, i.e. min(N, 100) as the CI recipe says (§3.3, §7.2 ``kid_logmel``); SpecVQGAN's
    Melception protocol uses 1000. ``compute()`` returns {"kid_mean", "kid_std", "n_reference", "n_generated",
    "subsets", "subset_size"}.
    """

    higher_is_better = False

    def __init__(self, *, subsets: int = 100, subset_size: int = 100, degree: int = 3, gamma: float | None = None,
                 coef0: float = 1.0, seed: int = 2020) -> None:
        if subsets < 1 or subset_size < 2:
            raise ValueError(f"need subsets ≥ 1 and subset_size ≥ 2, got {subsets} and {subset_size}")
        self.subsets, self.subset_size, self.degree, self.gamma = subsets, subset_size, degree, gamma
        self.coef0, self.seed = coef0, seed
        super().__init__()

    def compute(self) -> dict[str, float | int]:
        ref, gen = self._sets()
        mean, std = kernel_inception_distance(ref, gen, subsets=self.subsets, subset_size=self.subset_size,
                                              degree=self.degree, gamma=self.gamma, coef0=self.coef0,
                                              seed=self.seed)
        return {"kid_mean": mean, "kid_std": std, "n_reference": len(ref), "n_generated": len(gen),
                "subsets": self.subsets, "subset_size": min(self.subset_size, len(ref), len(gen))}
