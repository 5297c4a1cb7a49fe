"""Fixtures for data preparation and training: a source folder of synthetic videos and its prepared shards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from egosonics.clip_spec import ClipSpec
from egosonics.media.video import write_video
from egosonics.preprocess.prepare import PrepareConfig, prepare
from egosonics.synth.bounce import render_bounce

REPO = Path(__file__).resolve().parents[2]


def make_sources(folder: Path, *, good: int = 3, seconds: float = 21.0, extras: bool = False) -> Path:
    """Bouncing-ball videos with sound; with ``extras`` also a corrupt file, a video without audio, a silent video
    and a text file."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(good):
        scene = render_bounce(i, clip=ClipSpec(duration_s=seconds), size=(48, 64))
        write_video(folder / f"good{i}.mp4", scene.frames, 30, audio=scene.audio)
    if extras:
        scene = render_bounce(50, clip=ClipSpec(duration_s=11.0), size=(48, 64))
        write_video(folder / "no_audio.mp4", scene.frames, 30)
        write_video(folder / "silent.mp4", scene.frames, 30, audio=np.zeros_like(scene.audio))
        (folder / "corrupt.mp4").write_bytes((folder / "good0.mp4").read_bytes()[:4000])
        (folder / "readme.txt").write_text("not a video")
    return folder


@pytest.fixture(scope="session")
def prepared(tmp_path_factory) -> Path:
    """Shards of 3 × 21 s videos (2 windows each) prepared with the pixels encoder."""
    root = tmp_path_factory.mktemp("prepared")
    src = make_sources(root / "src")
    prepare(PrepareConfig(src=str(src), out=str(root / "data"), seed=0, rms_threshold_dbfs=-60.0,
                          videos_per_shard=2))
    return root / "data"


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m egosonics.cli ARGS`` in a subprocess (the tests' network guard does not reach it; the code
    under test never opens a connection, and HF_HUB_OFFLINE is set)."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "egosonics.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=REPO)
