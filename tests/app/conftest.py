"""A tiny random-weight model, test videos, and the demo served on a free loopback port for the module's tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.media.video import write_video
from tests.study.browser import browser, page  # noqa: F401 (fixtures)

LIMITS = {"max_upload_mb": 0.25, "max_duration_s": 5.0}  # 256 KiB: small enough to exceed in a test


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CountingPipe:
    """The pipeline, counting how many generations run at the same time (the queue must keep it at one)."""

    def __init__(self, pipe: Any) -> None:
        self._pipe, self._lock = pipe, threading.Lock()
        self.active = self.most_active = self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.active += 1
            self.calls += 1
            self.most_active = max(self.most_active, self.active)
        try:
            return self._pipe(*args, **kwargs)
        finally:
            with self._lock:
                self.active -= 1


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from egosonics.pipeline import EgoSonicsPipeline

    folder = tmp_path_factory.mktemp("model") / "tiny"
    EgoSonicsPipeline.from_preset("tiny").save_pretrained(folder)
    return folder


def _video(path: Path, seconds: float, size: tuple[int, int] = (64, 80)) -> Path:
    n = round(seconds * 30)
    frames = np.random.default_rng(0).integers(0, 255, (n, *size, 3), dtype=np.uint8)
    audio = np.zeros(round(seconds * DEFAULT_CLIP.sample_rate), np.float32)
    write_video(path, frames, 30, audio=audio, sample_rate=DEFAULT_CLIP.sample_rate)
    return path


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """clip.mp4 (1.5 s, 80 × 64), long.mp4 (6 s: over the limit), and files that are not videos or too big."""
    root = tmp_path_factory.mktemp("uploads")
    out = {"clip": _video(root / "clip.mp4", 1.5), "long": _video(root / "long.mp4", 6.0, size=(16, 16))}
    out["big"] = root / "big.mp4"
    out["big"].write_bytes(np.random.default_rng(1).bytes(300_000))
    out["text"] = root / "notes.txt"
    out["text"].write_text("just some notes")
    out["fake"] = root / "fake.mp4"
    out["fake"].write_text("a text file with a video's name")
    return out


@pytest.fixture(scope="module")
def demo(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo on the tiny model (2 steps, 4 Griffin-Lim iterations), served on loopback; ``demo.pipe`` counts."""
    from egosonics.app.limits import Limits
    from egosonics.app.web import AppConfig, build_app
    from egosonics.loading import load_pipeline
    from egosonics.options import GenerateOptions

    pipe = CountingPipe(load_pipeline(tiny_model))
    config = AppConfig(limits=Limits(**LIMITS), options=GenerateOptions(steps=2, griffin_lim_iters=4), queue_size=8,
                       output_dir=tmp_path_factory.mktemp("app-out"), model_label=str(tiny_model))
    app = build_app(pipe, config)  # type: ignore[arg-type]
    app.launch(host="127.0.0.1", port=free_port())
    app.pipe = pipe
    yield app
    app.close()
