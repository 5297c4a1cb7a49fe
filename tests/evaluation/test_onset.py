"""Onset metrics: EVALUATION.md §7.4 item 16, CondFoleyGen's matching rules, AP against sklearn, and the onset F1's
matching against a brute-force maximum matching."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from egosonics.evaluation.sync.onset import (
    OnsetConfig,
    OnsetMetrics,
    average_precision,
    condfoley_scores,
    detect_onsets,
    match_events,
    onset_f1,
    onset_nms,
)
from tests.evaluation.synthetic import SR, click_track, delay, irregular_events

pytest.importorskip("librosa")


@pytest.fixture(scope="module")
def truth() -> np.ndarray:
    """Clicks at irregular times 0.4–1.3 s apart, 10 s."""
    return click_track([e / 30 for e in irregular_events(seed=7)])


@pytest.fixture(scope="module")
def truth_onsets(truth: np.ndarray) -> np.ndarray:
    return detect_onsets(truth, SR)


def test_detected_onsets_sit_on_the_clicks(truth_onsets: np.ndarray) -> None:
    clicks_s = np.array([e / 30 for e in irregular_events(seed=7)])
    found = truth_onsets / SR
    assert all(np.min(np.abs(found - c)) <= 0.035 for c in clicks_s)  # every click found within 1.5 hops


def test_detection_is_librosa_onset_detect(truth: np.ndarray) -> None:
    import librosa

    from egosonics.evaluation.sync.av_align import audio_peaks, onset_envelope

    y = truth + 0.02 * np.random.default_rng(0).standard_normal(len(truth)).astype(np.float32)
    expected = librosa.onset.onset_detect(y=y, sr=SR, units="samples", delta=0.3)
    np.testing.assert_array_equal(detect_onsets(y, SR), expected)
    envelope = onset_envelope(y, SR)
    np.testing.assert_array_equal(detect_onsets(None, envelope=envelope), expected)
    # AV-Align's peaks: the same envelope with librosa's default delta (0.07), in seconds.
    default = librosa.frames_to_time(librosa.onset.onset_detect(y=y, sr=SR), sr=SR)
    np.testing.assert_array_equal(audio_peaks(None, envelope=envelope), default)
    np.testing.assert_array_equal(audio_peaks(y, SR), default)


def test_generated_equal_to_truth_is_perfect(truth: np.ndarray) -> None:  # item 16
    row = OnsetMetrics().update(truth, truth, SR)
    assert row.condfoley.count_match and row.condfoley.hit_accuracy == 1.0 and row.condfoley.ap == 1.0
    assert row.f1.f1 == 1.0


@pytest.mark.parametrize(("shift_s", "hit_accuracy"), [(0.05, 1.0), (0.2, 0.0)])
def test_hit_accuracy_follows_the_window(truth: np.ndarray, truth_onsets: np.ndarray, shift_s: float,
                                         hit_accuracy: float) -> None:  # item 16
    row = OnsetMetrics().update(delay(truth, round(shift_s * SR)), truth, SR, reference_onsets=truth_onsets)
    assert row.condfoley.hit_accuracy == hit_accuracy
    # ±50 ms F1: a 0.05 s shift sits on the edge of the window (onsets are quantised to 23.2 ms); 0.2 s misses all.
    if shift_s == 0.2:
        assert row.f1.f1 == 0.0 and row.condfoley.ap < 1.0


def test_metric_summary_and_guards(truth: np.ndarray) -> None:
    metric = OnsetMetrics()
    with pytest.raises(ValueError, match="no clips added"):
        metric.compute()
    metric.update(truth, truth, SR)
    metric.update(np.zeros_like(truth), truth, SR)  # silent generation: no onsets, no hits
    metric.update(truth, np.zeros_like(truth), SR)  # no ground-truth onsets: AP undefined, skipped
    out = metric.compute()
    assert out["n"] == 3 and out["n_no_reference_onsets"] == 1
    assert out["hit_acc"] == pytest.approx(1 / 3) and out["f1"] == pytest.approx(1 / 3)
    # AP: 1 for the first clip, and 1 for the silent one too, a quirk of the reference (without generated onsets every
    # GT onset gets y_score 0 and there are no negatives); the third has no positives: NaN, skipped.
    assert out["ap"] == pytest.approx(1.0)
    assert [row.condfoley.ap for row in metric.rows][:2] == [1.0, 1.0] and math.isnan(metric.rows[2].condfoley.ap)
    with pytest.raises(ValueError, match=r"hit_window_s must be finite and ≥ 0, got -0\.1"):
        OnsetConfig(hit_window_s=-0.1)


def test_resampled_input_gives_the_same_onsets(truth: np.ndarray, truth_onsets: np.ndarray) -> None:
    import librosa

    at_16k = librosa.resample(truth, orig_sr=SR, target_sr=16_000)
    found = detect_onsets(at_16k, 16_000)
    assert len(found) == len(truth_onsets) and np.max(np.abs(found - truth_onsets)) <= 512


def test_condfoley_matching_rules() -> None:
    wav = np.zeros(SR)
    for o, a in ((1000, 0.5), (5000, 0.9), (5600, 0.4), (15000, 0.8)):
        wav[o] = a
    ref = np.array([1100, 5300, 12000])
    # 5000 and 5600 are 27 ms apart: NMS keeps the louder 5000; 15000 is left over (a false positive).
    scores = condfoley_scores(ref, np.array([1000, 5000, 5600, 15000]), wav)
    assert (scores.hits, scores.num_generated_nms, scores.count_match) == (2, 3, False)
    assert scores.hit_accuracy == pytest.approx(2 / 3)
    # y_true [1, 1, 1, 0], y_score [0.5..., 1.0, 0, 0.8...]: AP by hand.
    assert scores.ap == pytest.approx(average_precision(np.array([1, 1, 1, 0]), np.array([0.5 / 0.9, 1.0, 0.0,
                                                                                           0.8 / 0.9])))
    # When the generated onsets run out the loop stops: later GT onsets add nothing to the AP list.
    alone = condfoley_scores(np.array([1000, 8000, 12000]), np.array([1000]), wav)
    assert alone.hit_accuracy == pytest.approx(1 / 3) and alone.ap == 1.0
    # An onset within 50 ms of the start: the reference's slice would be empty; we clip the window.
    assert condfoley_scores(np.array([10]), np.array([10]), wav).hits == 1


def test_nms_reproduces_the_reference_list_iteration() -> None:
    onsets = np.array([0, 500, 1000, 1500])
    # The most confident onset, 500, is within the window of all three others. Removing 0 shifts 1000 under the
    # reference's iterator, which skips it and removes 1500 instead; 1000 survives to be kept next.
    kept = onset_nms(onsets, np.array([0.1, 1.0, 0.5, 0.2]), window=1102)
    assert kept.tolist() == [500, 1000]  # a loop without the skip would keep only [500]


def test_average_precision_matches_sklearn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(2, 30))
        y_true = rng.integers(0, 2, n)
        y_true[0] = 1
        y_score = np.round(rng.random(n), 1)  # ties included
        assert average_precision(y_true, y_score) == pytest.approx(metrics.average_precision_score(y_true, y_score))
    assert math.isnan(average_precision(np.zeros(3), np.ones(3)))


def test_event_matching_is_maximum() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        ref = np.sort(rng.uniform(0, 2, int(rng.integers(0, 12))))
        est = np.sort(rng.uniform(0, 2, int(rng.integers(0, 12))))
        pairs = match_events(ref, est, 0.05)
        assert len({i for i, _ in pairs}) == len(pairs) == len({j for _, j in pairs})
        assert all(abs(ref[i] - est[j]) <= 0.05 for i, j in pairs)
        if len(ref) and len(est):
            cost = -(np.abs(ref[:, None] - est[None, :]) <= 0.05).astype(float)
            rows, cols = linear_sum_assignment(cost)
            assert len(pairs) == int(-cost[rows, cols].sum())


def test_onset_f1_values() -> None:
    result = onset_f1(np.array([1.0, 2.0, 3.0]), np.array([1.04, 2.2]))
    assert (result.matches, result.precision, result.recall) == (1, 0.5, pytest.approx(1 / 3))
    assert result.f1 == pytest.approx(0.4)
    assert onset_f1(np.array([1.0]), np.array([1.05])).matches == 1  # |Δ| ≤ window counts
    assert onset_f1(np.zeros(0), np.array([1.0])).f1 == 0.0


def test_missing_librosa_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import egosonics.evaluation._deps as deps

    real_import = deps.importlib.import_module

    def no_librosa(name: str, *args: object) -> object:
        if name == "librosa":
            raise ImportError("No module named 'librosa'")
        return real_import(name, *args)

    monkeypatch.setattr(deps.importlib, "import_module", no_librosa)
    with pytest.raises(ImportError, match=r"pip install 'egosonics\[eval\]'"):
        detect_onsets(np.zeros(SR), SR)
    assert deps.library_versions()["librosa"] == "not installed"
