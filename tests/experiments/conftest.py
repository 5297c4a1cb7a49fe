"""Fixtures for the summarization experiment: synthesized pairs prepared into shards, and Ego4D-style shards.

The pairs (``egosonics synth --mode pair``): one hand motion striking a neutral box, heard once as wood and once as
metal, identical frames. Half the pairs are filmed with a steady camera, half with a shaking one (camera shake moves
the picture only; the sound does not depend on it). So the same clips serve two questions:

* narrations as synthesized ("I knock on a wooden/metal box twice with a mallet."): the material is only heard;
* narrations rewritten to say only what is seen ("The camera shakes as I work." / "The camera is steady ..."):
  the sound adds nothing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import pytest
import torch

from egosonics.clip_spec import ClipSpec
from egosonics.preprocess.prepare import PrepareConfig, prepare
from egosonics.preprocess.shards import encode_sample, read_shard, write_shard
from egosonics.synth.dataset import synthesize
from egosonics.synth.settings import settings_for

CLIP = ClipSpec(duration_s=3.0)  # 3 s windows keep the tests fast; the experiment reads any window length
PAIRS = 32  # 64 clips: 16 steady pairs (seed 0), 16 shaking pairs (seed 1)
SHAKING_SEED = 1


@pytest.fixture(autouse=True)
def restore_process_state():
    """Put back what is process-wide: torch's thread count (the experiment's ``threads``) and the root logger's
    handlers (``cli.main`` points them at the test's captured stderr, which is closed after the test)."""
    threads = torch.get_num_threads()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    torch.set_num_threads(threads)
    root.handlers[:] = handlers
    root.setLevel(level)


def rewrite_narrations(src: Path, dst: Path, narrate) -> Path:
    """A copy of prepared shards ``src`` with each sample's narration replaced by ``narrate(meta)``."""
    (dst / "shards").mkdir(parents=True)
    shutil.copy(src / "config.json", dst / "config.json")  # keeps the source folder (ground-truth audio, groups)
    for tar in sorted((src / "shards").glob("*.tar")):
        samples = []
        for key, members in read_shard(tar):
            meta = members.pop("json")
            samples.append((key, encode_sample(members, {**meta, "narration": narrate(meta)})))
        write_shard(dst / "shards" / tar.name, samples)
    return dst


@pytest.fixture(scope="session")
def pair_data(tmp_path_factory) -> dict[str, Path]:
    """{"src": the synthesized clips, "heard": their shards, "seen": the same shards with what-is-seen narrations}."""
    root = tmp_path_factory.mktemp("pairs")
    for seed, shake in ((0, 0.0), (SHAKING_SEED, 2.0)):
        settings = settings_for("easy", clip=CLIP, height=64, width=64, mode="pair", camera_shake=shake)
        synthesize(root / "src", n=PAIRS // 2, seed=seed, settings=settings)
    prepare(PrepareConfig(src=str(root / "src"), out=str(root / "heard"), rms_threshold_dbfs=-70.0,
                          videos_per_shard=2 * PAIRS, clip=dataclasses.asdict(CLIP)))

    def seen(meta: dict) -> str:
        shaking = meta["source"].startswith(f"pair-{SHAKING_SEED}-")
        return "The camera shakes as I work." if shaking else "The camera is steady as I work."

    rewrite_narrations(root / "heard", root / "seen", seen)
    return {"src": root / "src", "heard": root / "heard", "seen": root / "seen"}


@pytest.fixture(scope="session")
def ego4d_data(tmp_path_factory) -> dict[str, Path]:
    """Ego4D-style shards: 2 videos × 2 windows of 3 s, narrations from a narration.json, kept by prepare."""
    from tests.training.conftest import make_sources

    root = tmp_path_factory.mktemp("ego4d")
    src = make_sources(root / "src", good=2, seconds=7.0)
    narrations = {f"good{v}": {"narration_pass_1": {"narrations": [
        {"timestamp_sec": t + 0.5, "narration_text": f"#C C {verb} the ball"} for t, verb in
        enumerate(["drops", "catches", "throws", "kicks", "holds", "rolls", "bounces"])]}} for v in range(2)}
    (root / "narration.json").write_text(json.dumps(narrations))
    prepare(PrepareConfig(src=str(src), out=str(root / "data"), rms_threshold_dbfs=-70.0, max_windows_per_video=2,
                          narrations=str(root / "narration.json"), clip=dataclasses.asdict(CLIP)))
    return {"src": src, "data": root / "data"}
