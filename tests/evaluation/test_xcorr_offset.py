"""Cross-correlation offset: EVALUATION.md §7.4 item 17, the sign convention, and the time-resolved track."""

from __future__ import annotations

import math

import numpy as np
import pytest

from egosonics.evaluation.sync.motion import frame_difference
from egosonics.evaluation.sync.xcorr_offset import (
    XCorrOffset,
    audio_novelty,
    cross_correlation,
    estimate_audio_offset,
    estimate_offset,
    offset_track,
    video_novelty,
    xcorr_offset,
)
from tests.evaluation.synthetic import FPS, HOP, SR, click_track, delay, irregular_events, jumping_square

EVENTS = irregular_events(seed=5)


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return jumping_square(EVENTS, height=48, width=64, size=12, jump=10)


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return click_track([e / FPS for e in EVENTS])


@pytest.mark.parametrize("k", [-10, -3, 0, 3, 10])
@pytest.mark.parametrize("motion_kind", ["absdiff", "flow"])
def test_an_injected_delay_is_found_exactly(frames: np.ndarray, audio: np.ndarray, k: int,
                                            motion_kind: str) -> None:  # item 17
    est = estimate_offset(delay(audio, k * HOP), SR, FPS, frames=frames, motion_kind=motion_kind)
    assert est.offset_frames == k
    assert est.offset_s == pytest.approx(k / FPS)
    assert est.peak > 0.5 and len(est.lags) == 121  # ±60 frames


def test_silence_or_a_static_video_gives_nan(frames: np.ndarray, audio: np.ndarray) -> None:  # item 17
    assert math.isnan(estimate_offset(np.zeros_like(audio), SR, FPS, frames=frames).offset_frames)
    still = np.repeat(frames[:1], len(frames), axis=0)
    assert math.isnan(estimate_offset(audio, SR, FPS, frames=still).offset_s)


def test_novelty_signals() -> None:
    x = np.zeros(10 * HOP, np.float32)
    x[4 * HOP:] = 0.5  # a step up at frame 4
    a = audio_novelty(x, SR, FPS)
    assert a.shape == (10,) and np.argmax(a) == 4 and np.count_nonzero(a) == 1
    m = np.array([0.0, 0.0, 3.0, 1.0, 1.0])
    np.testing.assert_array_equal(video_novelty(m, "diff"), [0, 0, 3, 0, 0])
    np.testing.assert_array_equal(video_novelty(m, "level"), m)
    with pytest.raises(ValueError, match="unknown novelty 'abs'"):
        video_novelty(m, "abs")  # type: ignore[arg-type]


def test_cross_correlation_definition_and_ties() -> None:
    a = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    v = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    lags, corr = cross_correlation(a, v, 3)
    np.testing.assert_allclose(corr, [0, 0, 0, 0, 0, 1 / 4, 0])  # c[2] = a[2]·v[0] / (6 − 2)
    assert lags.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    # Exact ties go to the smallest |lag|; the search range is at most half the clip.
    symmetric = xcorr_offset(np.array([0, 1, 0, 1, 0.0]), np.array([0, 0, 1, 0, 0.0]), max_lag=60)
    assert symmetric.offset_frames in (-1, 1) and len(symmetric.lags) == 5
    with pytest.raises(ValueError, match=r"max_lag must be in 0\.\.5"):
        cross_correlation(a, v, 6)


def test_track_follows_a_drift(frames: np.ndarray, audio: np.ndarray) -> None:
    # In sync for the first 5 s, then 6 frames late.
    drifting = np.concatenate([audio[:5 * SR], delay(audio, 6 * HOP)[5 * SR:]])
    track = offset_track(drifting, SR, FPS, frames=frames)
    assert track.times_s.tolist() == pytest.approx(np.arange(1, 10).tolist())
    cued = np.isfinite(track.offsets_frames)
    early, late = track.times_s < 4, track.times_s > 6.5
    assert np.all(track.offsets_frames[early & cued] == 0) and (early & cued).sum() >= 2
    assert np.all(track.offsets_frames[late & cued] == 6) and (late & cued).sum() >= 2
    assert track.offsets_s[late & cued] == pytest.approx(6 / FPS)
    short = offset_track(audio[: SR], SR, FPS, frames=frames[:30])
    assert len(short.times_s) == 1


def test_metric_object(frames: np.ndarray, audio: np.ndarray) -> None:
    motion = frame_difference(frames)
    metric = XCorrOffset()
    with pytest.raises(ValueError, match="no clips added"):
        metric.compute()
    metric.update(audio, SR, FPS, motion=motion)
    metric.update(delay(audio, 3 * HOP), SR, FPS, motion=motion)
    metric.update(np.zeros_like(audio), SR, FPS, motion=motion)
    out = metric.compute()
    assert out["n"] == 3 and out["n_no_cue"] == 1
    assert out["mean_abs_offset_s"] == pytest.approx(1.5 / FPS) and out["frac_within_1_frame"] == 0.5
    with pytest.raises(ValueError, match="exactly one of frames and motion"):
        metric.update(audio, SR, FPS)
    with pytest.raises(ValueError, match="got fps=0"):
        estimate_offset(audio, SR, 0, motion=motion)


@pytest.mark.parametrize("k", [-10, -1, 0, 1, 4, 10])
def test_offset_against_reference_audio_finds_an_injected_delay(audio: np.ndarray, k: int) -> None:
    est = estimate_audio_offset(delay(audio, k * HOP), audio, SR, FPS)
    assert est.offset_frames == k
    assert est.peak > 0.9  # the same clicks, moved: an unambiguous match


def test_offset_against_reference_audio_in_the_metric_object(audio: np.ndarray) -> None:
    metric = XCorrOffset()
    metric.update(audio, SR, FPS, reference=audio)
    metric.update(delay(audio, 2 * HOP), SR, FPS, reference=audio)
    metric.update(np.zeros_like(audio), SR, FPS, reference=audio)  # silence: no cue
    out = metric.compute()
    assert (out["n"], out["n_no_cue"]) == (3, 1)
    assert out["mean_abs_offset_frames"] == 1.0 and out["frac_within_1_frame"] == 0.5
