"""Fréchet distance, FAD∞ and KID: the closed-form oracles of EVALUATION.md §7.4 items 1–9."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ortho_group

from egosonics.evaluation.frechet import (
    SQRT_METHODS,
    FrechetDistance,
    GaussianStats,
    KernelInceptionDistance,
    fad_infinity,
    frechet_distance,
    frechet_distance_from_embeddings,
    kernel_inception_distance,
)


def samples(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Correlated Gaussian samples [n, d] with a well-conditioned covariance."""
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((d, d)) / math.sqrt(d) + np.eye(d)
    return rng.standard_normal((n, d)) @ mix.T + rng.standard_normal(d)


@pytest.mark.parametrize("method", SQRT_METHODS)
def test_fd_of_a_set_with_itself_is_zero(method: str) -> None:  # item 1
    x = samples(500, 16)
    assert abs(frechet_distance_from_embeddings(x, x, method=method)) < 1e-8


@pytest.mark.parametrize("method", SQRT_METHODS)
def test_one_dimensional_closed_form(method: str) -> None:  # item 2
    m1, s1, m2, s2 = 0.3, 1.7, -1.2, 0.4
    fd = frechet_distance(np.array([m1]), np.array([[s1 ** 2]]), np.array([m2]), np.array([[s2 ** 2]]), method=method)
    assert fd == pytest.approx((m1 - m2) ** 2 + (s1 - s2) ** 2, rel=1e-12)


@pytest.mark.parametrize("method", SQRT_METHODS)
def test_diagonal_covariances(method: str) -> None:  # item 3
    rng = np.random.default_rng(3)
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    v1, v2 = rng.uniform(0.1, 3, 8), rng.uniform(0.1, 3, 8)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2), method=method) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("method", SQRT_METHODS)
def test_commuting_covariances(method: str) -> None:  # item 4
    d = 6
    u = ortho_group.rvs(d, random_state=4)
    rng = np.random.default_rng(4)
    l1, l2 = rng.uniform(0.2, 4, d), rng.uniform(0.2, 4, d)
    s1, s2 = (u * l1) @ u.T, (u * l2) @ u.T
    half1, half2 = (u * np.sqrt(l1)) @ u.T, (u * np.sqrt(l2)) @ u.T
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((half1 - half2) ** 2)
    assert frechet_distance(mu1, s1, mu2, s2, method=method) == pytest.approx(expected, rel=1e-8)


def test_mean_shift_on_samples() -> None:  # item 5
    x = samples(300, 10, seed=5)
    c = np.linspace(-1, 2, 10)
    assert frechet_distance_from_embeddings(x, x + c) == pytest.approx(float(c @ c), rel=1e-9)


def test_scale_on_centred_samples() -> None:  # item 6
    x = samples(400, 7, seed=6)
    x = x - x.mean(axis=0)
    a = 0.35
    expected = (1 - a) ** 2 * np.trace(np.cov(x, rowvar=False))
    assert frechet_distance_from_embeddings(x, a * x) == pytest.approx(expected, rel=1e-9)


def test_symmetry_rank_deficiency_and_agreement_of_methods() -> None:  # item 7
    p, q = samples(300, 12, seed=7), samples(250, 12, seed=8) * 1.3 + 0.2
    values = {m: frechet_distance_from_embeddings(p, q, method=m) for m in SQRT_METHODS}
    for m in SQRT_METHODS:
        assert values[m] == pytest.approx(frechet_distance_from_embeddings(q, p, method=m), rel=1e-9)
        assert values[m] == pytest.approx(values["eigh"], rel=1e-6)
    # n < d: rank-deficient covariances; the eigh form stays real and equals the value itself, not its clamp at 0
    # (asserting FD ≥ 0 would hold whatever the eigh form computed).
    small_p, small_q = samples(5, 20, seed=9), samples(6, 20, seed=10)
    pairs = [(small_p, small_q)]
    for seed in range(5):
        rng = np.random.default_rng(seed)
        pairs.append((rng.standard_normal((4, 20)), rng.standard_normal((3, 20))))
    for a, b in pairs:
        expected = unclamped_fd(a, b)
        assert expected > 1.0
        assert frechet_distance_from_embeddings(a, b) == pytest.approx(expected, rel=1e-6)


def unclamped_fd(a: np.ndarray, b: np.ndarray) -> float:
    """FD from its definition, with nothing clamped: Tr((S1 S2)^½) as the sum of the square roots of the eigenvalues
    of S1 S2 (real and ≥ 0 for PSD S1, S2; only their round-off parts, |x| < 1e-9, are taken as 0)."""
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eig = np.linalg.eigvals(s1 @ s2)
    assert np.abs(eig.imag).max() < 1e-9 and eig.real.min() > -1e-9, eig
    diff = a.mean(axis=0) - b.mean(axis=0)
    tr_covmean = np.sqrt(np.where(np.abs(eig.real) < 1e-9, 0.0, eig.real)).sum()
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def test_consistency_with_the_analytic_value() -> None:  # item 8
    d = 4
    rng = np.random.default_rng(11)
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    s1, s2 = np.diag([1.0, 2.0, 0.5, 1.5]), np.diag([1.5, 1.0, 1.0, 0.5])
    analytic = frechet_distance(mu1, s1, mu2, s2)
    x = rng.multivariate_normal(mu1, s1, 20_000)
    y = rng.multivariate_normal(mu2, s2, 20_000)
    assert frechet_distance_from_embeddings(x, y) == pytest.approx(analytic, rel=0.05)


def draw(n: int, seed: int, d: int = 8) -> np.ndarray:
    """n samples [n, d] of one fixed correlated Gaussian (the mixing matrix does not depend on ``seed``)."""
    mix = np.random.default_rng(0).standard_normal((d, d)) / math.sqrt(d) + np.eye(d)
    return np.random.default_rng(seed).standard_normal((n, d)) @ mix.T + 1.0


def test_fd_shrinks_with_n_and_fad_infinity_is_about_zero_for_equal_distributions() -> None:  # item 8
    ref = draw(20_000, seed=1)
    means = {n: np.mean([frechet_distance_from_embeddings(ref, draw(n, seed=100 + s)) for s in range(5)])
             for n in (50, 500, 5000)}
    assert means[50] > means[500] > means[5000]
    inf = fad_infinity(ref, draw(5000, seed=2), steps=10, min_n=200)
    assert abs(inf.score) < 0.05 * inf.points[0][1]
    assert inf.slope > 0 and inf.r2 > 0.5
    assert len(inf.points) == 10 and inf.points[0][0] == 200 and inf.points[-1][0] == 5000


def spec_vqgan_kid(f1: np.ndarray, f2: np.ndarray, subsets: int, subset_size: int) -> float:
    """SpecVQGAN's calculate_kid/polynomial_mmd, written out as a reference (degree 3, gamma 1/d, coef0 1)."""
    rng = np.random.RandomState(2020)
    mmds = []
    for _ in range(subsets):
        a = f1[rng.choice(len(f1), subset_size, replace=False)]
        b = f2[rng.choice(len(f2), subset_size, replace=False)]
        d = a.shape[1]
        kxx, kyy, kxy = ((p @ q.T / d + 1) ** 3 for p, q in ((a, a), (b, b), (a, b)))
        m = subset_size
        mmds.append((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / m ** 2)
    return float(np.mean(mmds))


def test_kid_is_unbiased_and_positive_under_a_shift() -> None:  # item 9
    x, y = draw(400, seed=13), draw(400, seed=14)
    mean, std = kernel_inception_distance(x, y, subsets=100, subset_size=100)
    assert abs(mean) < 3 * std / math.sqrt(100)
    shifted, _ = kernel_inception_distance(x, y + 0.5, subsets=100, subset_size=100)
    assert shifted > 0 and shifted > 10 * abs(mean)
    assert mean == pytest.approx(spec_vqgan_kid(x, y, 100, 100), rel=1e-9)


def test_metric_objects_accumulate_guard_and_reset() -> None:
    x, y = samples(60, 5, seed=16), samples(40, 5, seed=17)
    fd = FrechetDistance()
    with pytest.raises(ValueError, match="no embeddings yet"):
        fd.compute()
    fd.update(reference=x[:30], generated=y[:10])
    fd.update(reference=x[30:], generated=y[10:])
    out = fd.compute()
    assert out["fd"] == pytest.approx(frechet_distance_from_embeddings(x, y))
    assert (out["n_reference"], out["n_generated"], out["dim"], out["method"]) == (60, 40, 5, "eigh")
    with pytest.raises(ValueError, match="dimension 4"):
        fd.update(generated=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        fd.update(generated=np.full((3, 5), np.nan))
    with pytest.raises(ValueError, match="neither"):
        fd.update()
    fd.reset()
    with pytest.raises(ValueError, match="no embeddings"):
        fd.compute()
    with pytest.raises(ValueError, match="unknown Fréchet method 'svd'"):
        FrechetDistance(method="svd")  # type: ignore[arg-type]
    assert FrechetDistance.higher_is_better is False and KernelInceptionDistance.higher_is_better is False

    kid = KernelInceptionDistance(subsets=10, subset_size=100)
    kid.update(reference=x, generated=y)
    result = kid.compute()
    assert result["subset_size"] == 40 and result["n_reference"] == 60
    assert (result["kid_mean"], result["kid_std"]) == kernel_inception_distance(x, y, subsets=10, subset_size=40)
    assert result["kid_std"] > 0  # the 10 reference subsets differ (a std is ≥ 0 whatever it measures)


def test_bad_statistics_are_rejected() -> None:
    with pytest.raises(ValueError, match="at least 2 embeddings"):
        GaussianStats.from_embeddings(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"matrix \[n, d\]"):
        frechet_distance_from_embeddings(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="min_n=500"):
        fad_infinity(samples(100, 3), samples(100, 3))
