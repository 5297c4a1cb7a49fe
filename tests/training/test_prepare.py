"""``egosonics prepare``: windows, the RMS filter, shards, the manifest, bad files, resuming, ranks."""

from __future__ import annotations

import errno
import itertools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from egosonics.errors import EgoSonicsError
from egosonics.preprocess.metadata import load_metadata
from egosonics.preprocess.prepare import PrepareConfig, prepare
from egosonics.preprocess.segment import choose_windows, percentile_threshold, rms_decision
from egosonics.preprocess.shards import read_shard
from tests.training.conftest import REPO, make_sources, run_cli


def manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def tree_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "summary.json"}


def test_windows_are_seeded_non_overlapping_and_inside():
    starts = choose_windows(95.0, window_s=10.0, seed=3, key="a.mp4")
    assert len(starts) == 9
    assert all(b - a >= 10.0 - 1e-9 for a, b in itertools.pairwise(starts))
    assert starts[-1] + 10.0 <= 95.0 + 1e-9
    assert starts == choose_windows(95.0, window_s=10.0, seed=3, key="a.mp4")
    assert starts != choose_windows(95.0, window_s=10.0, seed=4, key="a.mp4")
    assert choose_windows(9.9, window_s=10.0, seed=0, key="x") == []
    assert len(choose_windows(95.0, window_s=10.0, seed=0, key="x", max_windows=2)) == 2


def test_rms_decision_and_percentile():
    assert rms_decision(-30.0, -40.0).keep and not rms_decision(-50.0, -40.0).keep
    assert "too quiet" in rms_decision(-50.0, -40.0).reason
    assert rms_decision(-120.0, None).keep
    assert percentile_threshold([-50.0, -40.0, -30.0, -20.0], 50) == -40.0


def test_mixed_source_folder(tmp_path, capsys):
    src = make_sources(tmp_path / "src", good=2, seconds=12.0, extras=True)
    out = tmp_path / "out"
    assert run_cli("prepare", str(src), str(out), "--rms-threshold", "-60", "--videos-per-shard", "2").returncode == 0
    rows = manifest(out)
    by_video = {}
    for row in rows:
        by_video.setdefault(row["video"], []).append(row)
    assert {r["status"] for v in ("good0.mp4", "good1.mp4") for r in by_video[v]} == {"kept"}
    assert "has no audio stream" in by_video["no_audio.mp4"][0]["reason"]
    assert "too quiet" in by_video["silent.mp4"][0]["reason"]
    assert "not a media file" in by_video["corrupt.mp4"][0]["reason"]
    assert "not a media file" in by_video["readme.txt"][0]["reason"]
    kept = [r for r in rows if r["status"] == "kept"]
    samples = [s for shard in sorted((out / "shards").glob("*.tar")) for s in read_shard(shard)]
    assert [k for k, _ in samples] == [r["key"] for r in kept]
    _, sample = samples[0]
    assert sample["spec"].shape == (1024, 430) and sample["spec"].dtype == np.float32
    assert sample["ev"].shape == (300, 512) and sample["ev"].dtype == np.float16
    assert sample["json"]["source"] == "good0.mp4" and "start_s" in sample["json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kept"] == len(kept) == 2 and summary["rejected"] == 4


def test_spectrogram_in_a_shard_is_exactly_the_model_input(prepared):
    """Lossless: the stored spectrogram equals the transform of the decoded window, bit for bit."""
    import torch

    from egosonics.media.audio import read_audio
    from egosonics.spectrogram.transform import waveform_to_unit

    row = next(r for r in manifest(prepared) if r["status"] == "kept")
    src = Path(json.loads((prepared / "config.json").read_text())["src"])
    _, sample = next(s for s in read_shard(prepared / "shards" / row["shard"]) if s[0] == row["key"])
    audio = read_audio(src / row["video"], start_s=row["start_s"], duration_s=10.0)
    assert np.array_equal(sample["spec"], waveform_to_unit(torch.from_numpy(audio)).numpy())


def finished_units(out: Path) -> dict[Path, tuple[int, int]]:
    """(inode, mtime_ns) of every finished unit: scan files, manifest parts (a shard's done marker) and their shards."""
    parts = sorted((out / "parts").glob("shard-*.jsonl"))
    files = [*sorted((out / "scan").glob("shard-*.jsonl")), *parts,
             *[out / "shards" / p.with_suffix(".tar").name for p in parts]]
    return {f: (f.stat().st_ino, f.stat().st_mtime_ns) for f in files if f.exists()}


def test_interrupted_prepare_resumes_to_identical_output(tmp_path):
    """Killed after its first finished shard, the rerun leaves every finished file as it is (same inode and mtime:
    not rewritten) and ends byte-identical to an uninterrupted run."""
    src = make_sources(tmp_path / "src", good=4, seconds=12.0)
    args = ["prepare", str(src), "", "--rms-percentile", "10", "--videos-per-shard", "1"]
    whole = tmp_path / "whole"
    assert run_cli(*[a or str(whole) for a in args]).returncode == 0
    broken = tmp_path / "broken"
    proc = subprocess.Popen([sys.executable, "-m", "egosonics.cli", *[a or str(broken) for a in args]], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list((broken / "parts").glob("shard-*.jsonl")):
            if proc.poll() is not None:
                pytest.fail(f"prepare ended (status {proc.returncode}) before a shard was finished")
            if time.monotonic() > deadline:
                pytest.fail("no finished shard (parts/shard-*.jsonl) within 120 s; nothing to kill it after")
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert not (broken / "manifest.jsonl").exists(), "the run finished before it could be killed"
    before = finished_units(broken)
    parts = [p for p in before if p.parent.name == "parts"]
    assert 1 <= len(parts) < 4, f"{len(parts)} of 4 shards finished before the kill: nothing left to resume"
    assert run_cli(*[a or str(broken) for a in args]).returncode == 0
    rewritten = [str(f.relative_to(broken)) for f, stat in before.items()
                 if (f.stat().st_ino, f.stat().st_mtime_ns) != stat]
    assert not rewritten, f"the rerun rewrote finished files: {rewritten}"
    assert len(list((broken / "parts").glob("shard-*.jsonl"))) == 4
    assert tree_bytes(broken) == tree_bytes(whole)
    keys = [r["key"] for r in manifest(broken) if r["status"] == "kept"]
    assert len(keys) == len(set(keys)) == 3  # 4 windows; the quietest is at the 10th percentile and is dropped


def test_full_disk_leaves_no_complete_looking_shard(tmp_path, monkeypatch):
    import tarfile

    src = make_sources(tmp_path / "src", good=3, seconds=11.0)
    out = tmp_path / "out"
    real_addfile = tarfile.TarFile.addfile
    calls = {"n": 0}

    def failing_addfile(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:  # the second shard runs out of space
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_addfile(self, *args, **kwargs)

    monkeypatch.setattr(tarfile.TarFile, "addfile", failing_addfile)
    with pytest.raises(EgoSonicsError, match="No space left on device"):
        prepare(PrepareConfig(src=str(src), out=str(out), videos_per_shard=1))
    shards = sorted(p.name for p in (out / "shards").iterdir())
    parts = sorted(p.name.replace(".jsonl", ".tar") for p in (out / "parts").iterdir())
    assert shards == parts == ["shard-000000.tar"], (shards, parts)


def test_unwritable_output_is_a_clear_error(tmp_path):
    src = make_sources(tmp_path / "src", good=1, seconds=11.0)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("prepare", str(src), str(blocker / "out"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("egosonics: error:") and "Traceback" not in result.stderr


def test_metadata_filters_scenarios_and_attaches_narrations(tmp_path):
    src = make_sources(tmp_path / "src", good=2, seconds=12.0)
    meta = tmp_path / "ego4d.json"
    meta.write_text(json.dumps({"videos": [{"video_uid": "good0", "scenarios": ["Cooking"]},
                                           {"video_uid": "good1", "scenarios": ["Talking with friends"]}]}))
    narr = tmp_path / "narration.json"
    narr.write_text(json.dumps({"good0": {"narration_pass_1": {"narrations": [
        {"timestamp_sec": t, "narration_text": f"#C C drops the ball {i}"} for i, t in enumerate(range(12))]}}}))
    assert load_metadata(meta, narr)["good0"].narration_between(0, 2) == ("The camera wearer drops the ball 0; "
                                                                          "The camera wearer drops the ball 1")
    out = tmp_path / "out"
    assert run_cli("prepare", str(src), str(out), "--metadata", str(meta), "--narrations", str(narr)).returncode == 0
    rows = {r["video"]: r for r in manifest(out)}
    assert rows["good1.mp4"]["reason"] == "scenario not selected"
    assert rows["good0.mp4"]["status"] == "kept" and "drops the ball" in rows["good0.mp4"]["narration"]


def test_two_ranks_under_accelerate_give_the_single_rank_output(tmp_path, prepared):
    src = Path(json.loads((prepared / "config.json").read_text())["src"])
    out = tmp_path / "two"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "egosonics.cli", "-v",
           "prepare", str(src), str(out), "--rms-threshold", "-60", "--videos-per-shard", "2"]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300,
                            env={**__import__("os").environ, "ACCELERATE_USE_CPU": "true", "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rank 0/2" in result.stderr and "rank 1/2" in result.stderr, "two ranks must really run"
    assert tree_bytes(out) == tree_bytes(prepared)
