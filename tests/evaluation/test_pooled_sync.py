"""Pooled onset F1, best lag, lag share and the paired bootstrap on crafted inputs with known answers; the motion
click track."""

from __future__ import annotations

import math

import numpy as np
import pytest

from egosonics.evaluation.sync.click_track import click_track, pick_stops
from egosonics.evaluation.sync.pooled import (
    ENVELOPE_RATE,
    OnsetCounts,
    PooledConfig,
    PooledSync,
    after_start,
    best_lag,
    lag_share,
    markdown,
    onset_counts,
    paired_bootstrap,
    pooled_f1,
)


def test_onset_counts_leave_out_the_first_quarter_second():
    reference = np.array([0.0, 0.1, 0.24, 0.26, 1.0, 2.0])
    estimate = np.array([0.01, 0.11, 0.249, 0.27, 1.03, 3.0])
    counts = onset_counts(reference, estimate)
    # Left: reference 0.26, 1.0, 2.0; estimate 0.27, 1.03, 3.0 → 0.26↔0.27 and 1.0↔1.03 match.
    assert counts == OnsetCounts(hits=2, n_estimated=3, n_reference=3)
    assert list(after_start([0.1, 0.25, 0.3], 0.25)) == [0.25, 0.3]
    # Without the cut the three early pairs would match too.
    assert onset_counts(reference, estimate, config=PooledConfig(skip_start_s=0.0)).hits == 5


def test_pooled_f1_sums_before_dividing():
    clips = [OnsetCounts(hits=1, n_estimated=1, n_reference=8),  # per-clip F1 2/9
             OnsetCounts(hits=3, n_estimated=4, n_reference=4),  # 0.75
             OnsetCounts(hits=0, n_estimated=5, n_reference=0)]  # 0
    pooled = pooled_f1(clips)
    # Sums: hits 4, estimated 10, reference 12 → P 0.4, R 1/3, F1 = 2 · 0.4 · (1/3) / (0.4 + 1/3) = 4/11.
    assert pooled["hits"] == 4 and pooled["n_estimated"] == 10 and pooled["n_reference"] == 12
    assert pooled["precision"] == pytest.approx(0.4) and pooled["recall"] == pytest.approx(1 / 3)
    assert pooled["f1"] == pytest.approx(4 / 11)
    assert pooled["f1"] != pytest.approx(np.mean([c.f1 for c in clips]))  # not the mean of per-clip F1s
    assert pooled_f1([OnsetCounts(0, 0, 3)])["f1"] == 0.0 and pooled_f1([])["f1"] == 0.0


def test_matching_window_is_inclusive_at_50_ms():
    counts = onset_counts(np.array([1.0, 2.0]), np.array([1.05, 2.0501]))
    assert counts.hits == 1


@pytest.mark.parametrize("shift", [-40, -7, -1, 0, 3, 25, 86])
def test_best_lag_finds_an_envelope_shifted_by_k_frames(shift):
    rng = np.random.default_rng(5)
    n = 430  # 10 s of envelope frames
    reference = rng.random(n) ** 8  # sparse peaks
    estimate = np.zeros(n)
    if shift >= 0:
        estimate[shift:] = reference[:n - shift]
    else:
        estimate[:shift] = reference[-shift:]
    lag = best_lag(reference, estimate, skip_start_s=0.0)
    assert lag == pytest.approx(shift / ENVELOPE_RATE)
    assert round(lag * ENVELOPE_RATE) == shift


def test_best_lag_skips_the_start_and_stays_in_range():
    n = 430
    reference, estimate = np.zeros(n), np.zeros(n)
    reference[[5, 100, 250]] = 1.0
    estimate[[5, 110, 260]] = 1.0  # the shared peak at frame 5 lies in the first 0.25 s (10.8 frames)
    assert round(best_lag(reference, estimate) * ENVELOPE_RATE) == 10
    assert round(best_lag(reference, estimate, skip_start_s=0.0) * ENVELOPE_RATE) in (0, 10)
    far = np.zeros(n)
    far[[100 + 150, 250 + 150]] = 1.0  # 150 frames ≈ 3.5 s late: outside ±2 s
    assert abs(best_lag(reference, far)) <= 2.0 + 1e-9
    assert math.isnan(best_lag(reference, np.zeros(n)))  # silence: no cue


def test_lag_share_counts_nan_as_a_miss():
    assert lag_share(np.array([0.0, 0.1, -0.1, 0.2, math.nan])) == pytest.approx(3 / 5)
    assert math.isnan(lag_share(np.array([])))


def test_paired_bootstrap_contains_the_estimate_and_is_seeded():
    rng = np.random.default_rng(0)
    n_ref = rng.integers(1, 9, 40)
    a = np.stack([np.minimum(n_ref, rng.integers(0, 6, 40)), np.full(40, 6), n_ref], 1)
    b = np.stack([np.minimum(n_ref, rng.integers(0, 3, 40)), np.full(40, 6), n_ref], 1)
    lags_a, lags_b = rng.normal(0, 0.1, 40), rng.uniform(-2, 2, 40)
    out = paired_bootstrap(a, b, lags_a=lags_a, lags_b=lags_b, config=PooledConfig(bootstrap=500, seed=3))
    assert out["f1"] == pytest.approx(pooled_f1(a)["f1"] - pooled_f1(b)["f1"])
    low, high = out["f1_ci95"]
    assert low <= out["f1"] <= high and low < high
    assert out["lag_share_ci95"][0] <= out["lag_share"] <= out["lag_share_ci95"][1]
    again = paired_bootstrap(a, b, lags_a=lags_a, lags_b=lags_b, config=PooledConfig(bootstrap=500, seed=3))
    assert again == out
    other = paired_bootstrap(a, b, config=PooledConfig(bootstrap=500, seed=4))
    assert other["f1_ci95"] != out["f1_ci95"]
    same = paired_bootstrap(a, a)
    assert same["f1"] == 0.0 and same["f1_ci95"] == [0.0, 0.0]  # paired: identical systems never differ
    with pytest.raises(ValueError, match="same clips"):
        paired_bootstrap(a, b[:-1])


def _clicks(times: list[float], n: int = 22_050 * 4) -> np.ndarray:
    return click_track(np.array(times), n, 22_050)


def test_pooled_sync_end_to_end_on_click_tracks():
    """Recorded = clicks; an exact copy scores 1 with lag 0, a copy 0.5 s late finds lag 0.5 and no hits."""
    times = [0.1, 0.7, 1.3, 2.0, 2.9, 3.5]
    reference = _clicks(times)
    pooled = PooledSync(PooledConfig(bootstrap=200))
    for clip in ("a", "b"):
        pooled.update("copy", clip, reference, reference, 22_050)
        pooled.update("late", clip, _clicks([t + 0.5 for t in times]), reference, 22_050)
        pooled.update("other-clip", clip, _clicks([0.35, 1.7, 3.1]), reference, 22_050)
        pooled.update("silence", clip, np.zeros_like(reference), reference, 22_050)
    section = pooled.compute()
    systems = section["systems"]
    assert systems["copy"]["f1"] == 1.0 and systems["copy"]["lag_share"] == 1.0
    assert systems["copy"]["n_reference"] == 2 * 5  # the click at 0.1 s is left out
    assert systems["late"]["f1"] == 0.0
    assert abs(section["clips"][0]["late"]["lag_s"] - 0.5) <= 1 / ENVELOPE_RATE + 1e-9
    assert systems["silence"]["f1"] == 0.0 and systems["silence"]["n_no_lag"] == 2
    diff = section["differences"]["copy - other-clip"]
    assert diff["f1"] == pytest.approx(1.0 - systems["other-clip"]["f1"])
    text = markdown(section)
    assert "copy - other-clip" in text and "| a |" in text


def test_click_track_stops_are_local_maxima_above_threshold():
    strength = np.zeros(60)
    strength[:] = 0.005
    strength[[10, 12, 30, 50]] = [0.05, 0.04, 0.09, 0.012]  # 12 is within 0.1 s of 10; 50 is below 3 × the median
    assert list(pick_stops(strength)) == pytest.approx([10 / 30, 30 / 30])
    wave = click_track(np.array([0.5]), 22_050, 22_050)
    assert np.abs(wave[:11_025]).max() == 0 and np.abs(wave[11_025:11_025 + 600]).max() > 0.1
    assert np.array_equal(wave, click_track(np.array([0.5]), 22_050, 22_050))
