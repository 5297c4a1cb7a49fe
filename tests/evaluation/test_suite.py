"""The weight-free suite end to end: ground truth against itself is perfect, runs are deterministic (EVALUATION.md
§7.4 items 22–23), and clips load from files at their own frame rate."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from egosonics.evaluation.suite import SuiteConfig, WeightFreeSuite
from egosonics.evaluation.sync.av_align import av_align
from egosonics.evaluation.sync.clip import load_sync_clip
from egosonics.media.video import write_video
from tests.conftest import click_onsets
from tests.evaluation.synthetic import FPS, HOP, SR, click_track, delay, irregular_events, jumping_square

pytest.importorskip("librosa")

SECONDS = 3


@pytest.fixture(scope="module")
def clips() -> list[tuple[np.ndarray, np.ndarray]]:
    """Three 3 s clips: (frames [90, 48, 64, 3], clicks at the jumps [66150])."""
    out = []
    for seed in range(3):
        events = irregular_events(seed, num_frames=SECONDS * FPS)
        frames = jumping_square(events, num_frames=SECONDS * FPS, height=48, width=64, size=12, jump=10, seed=seed)
        out.append((frames, click_track([e / FPS for e in events], SECONDS * SR, seed=seed)))
    return out


def run_suite(clips: list[tuple[np.ndarray, np.ndarray]], *, lag_frames: int = 0) -> dict:
    suite = WeightFreeSuite(SuiteConfig(kid_subsets=10))
    for i, (frames, truth) in enumerate(clips):
        suite.update(clip_id=f"clip{i}", generated=delay(truth, lag_frames * HOP), reference=truth, frames=frames,
                     fps=FPS)
    return suite.compute()


def test_ground_truth_against_itself_is_perfect(clips: list[tuple[np.ndarray, np.ndarray]]) -> None:  # item 22
    report = run_suite(clips)
    assert report["fd_logmel"]["fd"] < 1e-6 and report["fd_mfcc"]["fd"] < 1e-6
    spec = report["spec_paired"]
    for name in ("sc", "log_mag", "mr_stft", "lsd", "mel_l1", "mcd_mfcc"):
        assert spec[name] == 0, name
    assert spec["rms_env_r"] == pytest.approx(1.0) and spec["si_sdr"] > 100
    assert report["onset"]["hit_acc"] == 1.0 and report["onset"]["count_acc"] == 1.0 and report["onset"]["f1"] == 1.0
    assert report["xcorr_offset"]["mean_abs_offset_s"] == 0 and report["xcorr_offset"]["frac_within_1_frame"] == 1
    assert report["xcorr_offset_gt"]["mean_abs_offset_frames"] == 0
    # AV-Align of ground truth is its own value (a few short clips: the onset librosa finds at t≈0 costs some IoU).
    own = np.mean([av_align(truth, SR, FPS, frames=frames).iou for frames, truth in clips])
    assert report["av_align"]["av_align"] == pytest.approx(own) and own > 0.6
    assert [row["offset_frames"] for row in report["rows"]] == [0, 0, 0]
    meta = report["meta"]
    assert meta["n"] == 3 and meta["clip_duration_s"] == [3.0] and meta["sample_rate"] == SR and meta["fps"] == [30]
    assert meta["config"]["fd_method"] == "eigh" and "librosa" in meta["versions"]
    # A 3-frame delay is seen by every sync metric.
    late = run_suite(clips, lag_frames=3)
    assert late["av_align"]["av_align"] < report["av_align"]["av_align"]
    assert late["xcorr_offset"]["mean_abs_offset_s"] == pytest.approx(3 / FPS)
    assert [row["offset_gt_frames"] for row in late["rows"]] == [3, 3, 3]
    assert late["onset"]["f1"] < 1.0 and late["fd_logmel"]["fd"] > 0
    assert all(np.nanmedian(row["offset_track"]["offsets_frames"]) == 3 for row in late["rows"])


def test_reports_are_deterministic_json(clips: list[tuple[np.ndarray, np.ndarray]]) -> None:  # item 23
    first, second = json.dumps(run_suite(clips[:2], lag_frames=1)), json.dumps(run_suite(clips[:2], lag_frames=1))
    assert first == second
    assert "NaN" not in first  # NaN is written as null


def test_suite_guards(clips: list[tuple[np.ndarray, np.ndarray]]) -> None:
    suite = WeightFreeSuite()
    frames, truth = clips[0]
    with pytest.raises(ValueError, match=r"clip 'a': generated \(66149,\) and reference \(66150,\)"):
        suite.update(clip_id="a", generated=truth[:-1], reference=truth)
    with pytest.raises(ValueError, match="fps must be given"):
        suite.update(clip_id="b", generated=truth, reference=truth, frames=frames)
    with pytest.raises(ValueError, match="no clips added"):
        suite.compute()
    suite.update(clip_id="audio only", generated=truth, reference=truth)
    report = suite.compute()
    assert "fd_logmel" not in report and "av_align" not in report and report["onset"]["n"] == 1
    assert report["rows"][0]["av_align"] is None and math.isclose(report["spec_paired"]["sc"], 0)


def test_load_sync_clip_reads_frames_at_the_file_rate(tmp_path: Path) -> None:
    events = [10, 25, 40]
    frames = jumping_square(events, num_frames=50, height=96, width=128)
    path = tmp_path / "square.mp4"
    audio = click_track([e / 25 for e in events], 2 * SR)
    write_video(path, frames, 25, audio=audio, sample_rate=SR)
    clip = load_sync_clip(path, short_side=48)
    assert clip.fps == 25 and clip.frames.shape == (50, 48, 64, 3) and clip.short_side == 48
    assert len(clip.audio) == 2 * SR and clip.duration_s == 2.0
    assert click_onsets(clip.audio, [0.4, 1.0, 1.6]) == pytest.approx([0.4, 1.0, 1.6], abs=0.002)
    full = load_sync_clip(path, short_side=None, fps=50, duration_s=1.0)
    assert full.frames.shape == (50, 96, 128, 3) and full.fps == 50
