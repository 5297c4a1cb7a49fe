"""The model card's event classifier: shrinkage LDA (egosonics.evaluation.event_class)."""

from __future__ import annotations

import numpy as np
import pytest

from egosonics.evaluation.event_class import LinearDiscriminant, ledoit_wolf


def level_and_shape(n: int, seed: int, d: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Three classes [3n, d] as log-mel band means behave: each clip's level (spread 3) moves every feature together,
    the classes differ in their shape across the features (spread 0.3, the same in every call), plus noise of 0.3."""
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b", "c"], n)
    shapes = np.random.default_rng(99).standard_normal((3, d)) * 0.3
    x = 3.0 * rng.standard_normal((len(y), 1)) + shapes[np.searchsorted(["a", "b", "c"], y)]
    return x + 0.3 * rng.standard_normal((len(y), d)), y


def test_it_hears_the_shape_under_the_level():
    x, y = level_and_shape(10, seed=0)  # 30 samples, 30 features: the covariance is singular without shrinkage
    model = LinearDiscriminant().fit(x, y)
    x_test, y_test = level_and_shape(300, seed=1)
    assert model.classes == ["a", "b", "c"]
    assert np.mean(np.array(model.predict(x_test)) == y_test) >= 0.9
    # the nearest (standardised) centroid, which the card used before, is lost in the level
    centroids = np.stack([x[y == c].mean(axis=0) for c in model.classes])
    nearest = np.argmin((((x_test[:, None] - centroids[None]) / x.std(axis=0)) ** 2).sum(-1), axis=1)
    assert np.mean(np.array(model.classes)[nearest] == y_test) < 0.5


def test_it_equals_scikit_learns_shrinkage_lda():
    discriminant = pytest.importorskip("sklearn.discriminant_analysis")
    x, y = level_and_shape(12, seed=2)
    x[:, 5] = 3.0  # a constant feature: scaled by 1, as scikit-learn does
    steps = np.arange(len(x)) * 0.1
    x[:, 6] = (steps + 1 / 3) - steps  # constant up to round-off: scaled by 1 too, not by its 1e-17 spread
    assert x[:, 6].std() > 0
    y[:5] = "d"  # unequal priors
    ours = LinearDiscriminant().fit(x, y)
    theirs = discriminant.LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(x, y)
    np.testing.assert_allclose(ours.coef, theirs.coef_, rtol=1e-9, atol=1e-9 * np.abs(theirs.coef_).max())
    np.testing.assert_allclose(ours.intercept, theirs.intercept_, rtol=1e-9, atol=1e-9)
    x_test, _ = level_and_shape(50, seed=3)
    assert ours.predict(x_test) == theirs.predict(x_test).tolist()


def test_the_shrinkage_follows_the_sample_size():
    rng = np.random.default_rng(0)
    many = rng.standard_normal((20_000, 5)) * np.arange(1, 6)  # plenty of samples of a far-from-round covariance
    cov, shrink = ledoit_wolf(many - many.mean(axis=0))
    assert shrink < 0.01
    np.testing.assert_allclose(np.diag(cov), np.arange(1, 6) ** 2, rtol=0.05)
    few = rng.standard_normal((10, 100))  # fewer samples than features of a round one
    cov, shrink = ledoit_wolf(few - few.mean(axis=0))
    assert shrink > 0.5
    assert np.linalg.matrix_rank(cov) == 100


def test_bad_input_is_refused_clearly():
    x, y = level_and_shape(5, seed=0)
    with pytest.raises(ValueError, match="two samples of each of at least two classes"):
        LinearDiscriminant().fit(x[:5], y[:5])  # one class
    with pytest.raises(ValueError, match="two samples of each"):
        LinearDiscriminant().fit(x[:6], y[:6])  # class b once
    with pytest.raises(ValueError, match="15 feature rows but 14 labels"):
        LinearDiscriminant().fit(x, y[:-1])
    with pytest.raises(RuntimeError, match="fit it first"):
        LinearDiscriminant().predict(x)
    with pytest.raises(ValueError, match="features must be a matrix"):
        LinearDiscriminant().fit(x[0], y[:1])


def test_the_features_hear_attacks_and_their_rhythm():
    from egosonics.evaluation.embeddings import logmel_stats
    from egosonics.evaluation.event_class import event_features

    sr = 22_050
    t = np.arange(2 * sr) / sr
    rng = np.random.default_rng(0)
    hum = 0.1 * np.sin(2 * np.pi * 220 * t) + 1e-3 * rng.standard_normal(len(t))
    taps = hum.copy()
    for start in range(sr // 4, 2 * sr - sr // 4, sr // 4):  # four taps a second: a decaying 3 kHz ring each
        n = np.arange(sr // 8)
        taps[start:start + len(n)] += 0.5 * np.exp(-n / 400) * np.sin(2 * np.pi * 3000 * n / sr)
    f_hum, f_taps = event_features(hum.astype(np.float32)), event_features(taps.astype(np.float32))
    assert f_hum.shape == f_taps.shape == (269,)
    np.testing.assert_allclose(f_taps[:128], logmel_stats(taps.astype(np.float32)), rtol=1e-12)  # logmel_stats first
    rate = 128 + 64 + 64  # attacks per second
    assert f_taps[rate] == pytest.approx(3.5, abs=0.5) and f_hum[rate] < 1.0  # seven taps in 2 s
    band = 40  # the 64 Slaney bands' one around 3 kHz
    attack, ring = f_taps[128 + band], f_taps[192 + band]
    assert attack > f_taps[band] > ring  # the attack above the band's mean; 116 ms later the 18 ms ring has gone
    lag_05 = rate + 5 + 3  # the envelope's autocorrelation at 0.5 s, two of the taps' periods
    assert f_taps[lag_05] > 0.3 > abs(f_hum[lag_05])
    with pytest.raises(ValueError, match=r"one mono waveform \[n\], got shape \(2, 100\)"):
        event_features(np.zeros((2, 100), np.float32))
    with pytest.raises(ValueError, match=r"at least 3 frames \(512 samples\), got 300"):
        event_features(np.zeros(300, np.float32))
    assert np.isfinite(event_features(np.zeros(sr, np.float32))).all()  # silence: finite, no attack
