"""The shard format: written and read back by one module, and the prepare settings found from any name of the shards."""

from __future__ import annotations

import json

import numpy as np
import pytest

from egosonics.errors import EgoSonicsError
from egosonics.preprocess.shards import (
    PREPARE_CONFIG,
    ShardDataset,
    collate,
    encode_sample,
    prepare_settings,
    read_shard,
    write_shard,
)


@pytest.fixture
def prepared(tmp_path):
    """A prepare-like folder: OUT/config.json and OUT/shards/shard-0.tar with two samples."""
    out = tmp_path / "out"
    (out / "shards").mkdir(parents=True)
    samples = [(f"clip{i}", encode_sample({"spec": np.full((4, 3), i, np.float32), "ev": np.ones((2, 5), np.float16)},
                                          {"source": f"v{i}.mp4", "start_s": 0.0})) for i in range(2)]
    write_shard(out / "shards" / "shard-0.tar", samples)
    (out / PREPARE_CONFIG).write_text(json.dumps({"src": "/videos", "encoder": "pixels"}))
    return out


def test_written_shards_read_back_by_both_readers(prepared):
    shard = prepared / "shards" / "shard-0.tar"
    assert [key for key, _ in read_shard(shard)] == ["clip0", "clip1"]
    dataset = ShardDataset(prepared)
    batch = collate([dataset[0], dataset[1]])
    assert batch["keys"] == ["clip0", "clip1"] and batch["skipped"] == 0
    assert batch["spec"].shape == (2, 4, 3) and float(batch["spec"][1].mean()) == 1.0
    assert batch["meta"][1]["source"] == "v1.mp4"


def test_prepare_settings_found_from_any_name_of_the_shards(prepared):
    for name in (prepared, prepared / "shards", prepared / "shards" / "shard-0.tar", prepared / "shards" / "*.tar"):
        assert prepare_settings(name)["src"] == "/videos", name


def test_prepare_settings_absent_or_unreadable(prepared):
    (prepared / PREPARE_CONFIG).unlink()
    assert prepare_settings(prepared) == {}
    (prepared / PREPARE_CONFIG).write_text("{not json")
    with pytest.raises(EgoSonicsError, match=r"config\.json: not a readable prepare config"):
        prepare_settings(prepared)
