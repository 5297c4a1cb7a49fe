"""``egosonics evaluate`` reports the pooled onset F1, best lag, paired bootstrap and per-clip table, with the
other-clip (chance) and click-stops reference rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from egosonics.evaluation.evaluate import evaluate
from egosonics.media.audio import write_audio
from egosonics.media.video import write_video
from tests.evaluation.synthetic import FPS, SR, click_track, irregular_events, jumping_square

pytest.importorskip("librosa")

SECONDS = 3


def test_evaluate_reports_pooled_sync_against_chance(tmp_path: Path) -> None:
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    for seed in range(3):
        events = irregular_events(seed, num_frames=SECONDS * FPS)
        frames = jumping_square(events, num_frames=SECONDS * FPS, height=48, width=64, size=12, jump=10, seed=seed)
        audio = click_track([e / FPS for e in events], SECONDS * SR, seed=seed)
        write_video(tmp_path / "gt" / f"clip{seed}.mp4", frames, FPS, audio=audio, sample_rate=SR)
        write_audio(tmp_path / "pred" / f"clip{seed}.wav", audio, SR)  # "ours" is the recorded audio itself
    references = ("ground-truth", "silence", "other-clip", "shifted-0.5s", "click-stops")
    report = evaluate(tmp_path / "pred", tmp_path / "gt", tmp_path / "report", references=references)
    pooled = report["pooled_sync"]
    systems = pooled["systems"]
    assert set(systems) == {"ours", *references}
    assert systems["ours"]["f1"] == systems["ground-truth"]["f1"] == 1.0
    assert systems["ours"]["lag_share"] == 1.0 and systems["ours"]["n_clips"] == 3
    assert systems["silence"]["f1"] == 0.0 and systems["silence"]["lag_share"] == 0.0
    assert systems["shifted-0.5s"]["f1"] < 0.5
    assert systems["other-clip"]["f1"] < 1.0
    diff = pooled["differences"]["ours - other-clip"]
    assert diff["f1"] == pytest.approx(1.0 - systems["other-clip"]["f1"])
    assert diff["f1_ci95"][0] <= diff["f1"] <= diff["f1_ci95"][1]
    assert "click-stops - other-clip" in pooled["differences"]
    assert [row["clip_id"] for row in pooled["clips"]] == ["clip0", "clip1", "clip2"]
    assert np.isfinite(pooled["clips"][0]["ours"]["lag_s"])
    md = (tmp_path / "report" / "report.md").read_text()
    assert "Pooled onsets and lag" in md and "ours - other-clip" in md and "| clip2 |" in md
    saved = json.loads((tmp_path / "report" / "report.json").read_text())
    assert saved["pooled_sync"]["systems"]["ours"]["f1"] == 1.0
