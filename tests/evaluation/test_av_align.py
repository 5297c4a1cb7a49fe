"""AV-Align: the synthetic oracles of EVALUATION.md §7.4 items 12–15, and the reference's matching rules (§4.4)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from egosonics.evaluation.sync.av_align import (
    AVAlign,
    av_align,
    av_align_from_peaks,
    match_peaks,
    video_peaks,
)
from egosonics.evaluation.sync.motion import farneback_trajectory, frame_difference, resize_frames, to_gray
from tests.evaluation.synthetic import (
    FPS,
    HOP,
    REGULAR_EVENTS,
    SR,
    click_track,
    delay,
    irregular_events,
    jumping_square,
)

pytest.importorskip("librosa")


@pytest.fixture(scope="module")
def trajectory() -> np.ndarray:
    """Farneback trajectory of the jumping square (events every 20 frames from frame 10)."""
    return farneback_trajectory(jumping_square(REGULAR_EVENTS))


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return click_track([e / FPS for e in REGULAR_EVENTS])


def test_flow_peaks_sit_on_the_jumps(trajectory: np.ndarray) -> None:
    assert trajectory.shape == (300,)
    np.testing.assert_allclose(video_peaks(trajectory, FPS) * FPS, REGULAR_EVENTS)
    assert trajectory[0] == trajectory[1]  # the reference duplicates the first pair's flow


def test_jumping_square_with_clicks_scores_high(trajectory: np.ndarray, audio: np.ndarray) -> None:  # item 12
    result = av_align(audio, SR, FPS, trajectory=trajectory)
    assert result.iou >= 0.8
    assert result.num_video_peaks == len(REGULAR_EVENTS) and result.matches == len(REGULAR_EVENTS)


def test_shifting_the_audio_lowers_the_score(trajectory: np.ndarray, audio: np.ndarray) -> None:  # item 13
    scores = {k: av_align(delay(audio, k * HOP), SR, FPS, trajectory=trajectory).iou for k in (0, 1, 2, 5)}
    assert scores[0] >= scores[1] >= scores[2] >= scores[5]
    assert scores[2] < scores[0] and scores[5] < scores[0]
    assert scores[2] <= 0.1 and scores[5] <= 0.1  # isolated events: nothing left to match


def test_audio_of_another_clip_scores_lower(trajectory: np.ndarray, audio: np.ndarray) -> None:  # item 14
    other = click_track([e / FPS for e in irregular_events(seed=3)])
    assert av_align(other, SR, FPS, trajectory=trajectory).iou < av_align(audio, SR, FPS, trajectory=trajectory).iou


def test_static_video_and_silence_are_skipped_not_divided_by_zero() -> None:  # item 15
    frames = np.full((30, 48, 64, 3), 90, np.uint8)
    result = av_align(np.zeros(SR), SR, FPS, frames=frames)
    assert math.isnan(result.iou) and result.num_audio_peaks == result.num_video_peaks == 0
    metric = AVAlign()
    metric.update(np.zeros(SR), SR, FPS, frames=frames)
    metric.update(click_track([0.5], SR), SR, FPS, trajectory=np.zeros(30))  # audio peaks only: IoU 0
    out = metric.compute()
    assert out["n"] == 2 and out["n_skipped"] == 1 and out["av_align"] == 0.0
    with pytest.raises(ValueError, match="at least 2 frames"):
        av_align(np.zeros(SR), SR, FPS, frames=frames[:1])
    with pytest.raises(ValueError, match="exactly one of frames and trajectory"):
        av_align(np.zeros(SR), SR, FPS)
    with pytest.raises(ValueError, match="no clips added"):
        AVAlign().compute()


def test_matching_is_strictly_within_one_frame_and_one_to_one() -> None:
    fps = 30.0
    assert match_peaks(np.array([1.0]), np.array([1.0 + 1 / fps]), fps) == 0  # exactly one frame: strict, no match
    assert match_peaks(np.array([1.0]), np.array([1.0 + 0.9 / fps]), fps) == 1
    assert match_peaks(np.array([1.0, 1.01]), np.array([1.0]), fps) == 1  # a video peak is used at most once
    result = av_align_from_peaks(np.array([0.5, 1.0, 2.0]), np.array([1.0, 3.0]), fps)
    assert (result.matches, result.iou) == (1, pytest.approx(1 / 4))


def test_video_peaks_need_a_strict_maximum_of_at_least_a_tenth_of_a_pixel() -> None:
    traj = np.array([0.0, 0.5, 0.0, 0.09, 0.0, 0.3, 0.3, 0.0, 0.2, 0.1])
    np.testing.assert_allclose(video_peaks(traj, 10.0), [0.1, 0.8])  # 0.09 too small; the 0.3 plateau never peaks
    np.testing.assert_allclose(video_peaks(traj, 10.0, min_magnitude=0.0), [0.1, 0.3, 0.8])
    assert len(video_peaks(np.array([0.0, 1.0]), 30)) == 0


def test_motion_helpers() -> None:
    frames = jumping_square([5], num_frames=8)
    diff = frame_difference(frames)
    assert diff.shape == (8,) and diff[0] == 0 and np.argmax(diff) == 5 and np.count_nonzero(diff) == 1
    assert to_gray(frames).shape == frames.shape[:3]
    small = resize_frames(frames, 48)
    assert small.shape == (8, 48, 64, 3)
    assert resize_frames(frames, None) is frames
    with pytest.raises(ValueError, match="uint8 RGB"):
        farneback_trajectory(frames.astype(np.float32))
