"""``egosonics train alignment``: pair construction (50 % true, 25 % another video, 25 % shifted 1–5 s), the held-out
split by shard, and a few steps of training on prepared shards with the shared trainer."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from egosonics.cli import main
from egosonics.errors import EgoSonicsError
from egosonics.models.alignment import AudioVisualAlignmentClassifier
from egosonics.training.alignment import (
    PAIR_SHARES,
    AlignmentTask,
    PairPlan,
    audio_columns,
    draw_pair,
    make_pair,
    split_shards,
)
from egosonics.training.config import load_config
from egosonics.training.tasks import sample_generators


def test_pair_proportions_and_shift_range() -> None:
    plans = [draw_pair(g) for step in range(100) for g in sample_generators(0, step, list(range(40)))]
    counts = Counter(p.kind for p in plans)
    for kind, share in PAIR_SHARES.items():
        assert abs(counts[kind] / len(plans) - share) < 0.03, (kind, counts)
    shifts = [p.shift_frames for p in plans if p.kind == "shifted"]
    assert min(abs(s) for s in shifts) == 30 and max(abs(s) for s in shifts) == 150  # 1 s and 5 s at 30 fps
    assert 0.4 < sum(s > 0 for s in shifts) / len(shifts) < 0.6  # both directions
    assert all(p.shift_frames == 0 for p in plans if p.kind != "shifted")
    assert all(0 <= p.roll_frames < 300 for p in plans) and len({p.roll_frames for p in plans}) > 250
    assert {p.label for p in plans if p.kind == "true"} == {1.0}
    assert {p.label for p in plans if p.kind != "true"} == {0.0}
    # The same generator seed gives the same plan (a resumed run sees the same pairs).
    again = [draw_pair(g) for g in sample_generators(0, 7, list(range(40)))]
    assert again == plans[7 * 40:8 * 40]
    assert draw_pair(torch.Generator().manual_seed(1), roll=False).roll_frames == 0


def test_make_pair_rolls_exactly() -> None:
    spec = torch.arange(430.0).expand(4, 430)  # column j holds j
    ev = torch.arange(300.0)[:, None].expand(300, 3)  # frame i holds i
    audio, video = make_pair(spec, ev, PairPlan("true", 30, 0))
    assert torch.equal(video[:, 0], torch.roll(torch.arange(300.0), 30))
    assert audio_columns(30, 430, 300) == 43 and torch.equal(audio[0], torch.roll(torch.arange(430.0), 43))
    audio, video = make_pair(spec, ev, PairPlan("shifted", 30, -60))
    assert torch.equal(video, torch.roll(ev, 30, dims=0))  # the video keeps the common roll only
    assert torch.equal(audio[0], torch.roll(torch.arange(430.0), audio_columns(-30, 430, 300)))  # 1 s earlier
    other = torch.full((300, 3), 7.0)
    _, video = make_pair(spec, ev, PairPlan("other", 5, 0), other)
    assert torch.equal(video, other)
    with pytest.raises(ValueError, match=r"needs another E_V of shape \(300, 3\), got None"):
        make_pair(spec, ev, PairPlan("other", 0, 0))


def test_heldout_split_is_by_shard() -> None:
    shards = [Path(f"shard-{i:06d}.tar") for i in range(10)]
    train, held = split_shards(list(reversed(shards)))
    assert held == shards[8:] and train == shards[:8]
    assert split_shards(shards[:2]) == (shards[:1], shards[1:2])
    assert split_shards(shards[:1]) == (shards[:1], [])


def write_config(path: Path, **settings) -> Path:
    base = {"component": "alignment", "preset": "tiny", "batch_size": 2, "max_steps": 4, "checkpointing_steps": 2,
            "checkpoints_total_limit": 2, "log_every": 1, "deterministic": True}
    path.write_text(yaml.safe_dump({**base, **settings}))
    return path


def test_train_alignment_on_prepared_shards(prepared: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    config = write_config(tmp_path / "alignment.yaml", data=str(prepared), output_dir=str(run))
    assert main(["-q", "train", "alignment", "--config", str(config)]) == 0
    final = run / "model"
    assert (final / "config.json").is_file() and (final / "diffusion_pytorch_model.safetensors").is_file()
    model = AudioVisualAlignmentClassifier.from_pretrained(final)
    assert model.config.frame_encoder == "pixels"  # read from the shards
    assert [p.name for p in sorted(run.glob("checkpoint-*"))] == ["checkpoint-2", "checkpoint-4"]
    with open(run / "metrics.csv") as f:
        assert len(list(csv.DictReader(f))) == 4
    # Only the head learns: the backbone is the same at every checkpoint; the head moved between steps 2 and 4.
    early = load_file(run / "checkpoint-2" / "alignment" / "diffusion_pytorch_model.safetensors")
    last = load_file(final / "diffusion_pytorch_model.safetensors")
    backbone = [k for k in early if k.startswith("backbone.")]
    assert backbone and all(torch.equal(early[k], last[k]) for k in backbone)  # not vacuous: the keys exist
    assert any(not torch.equal(early[k], last[k]) for k in early if k.startswith("head."))
    # The held-out shard (the last one: one video, two windows) is scored three ways.
    report = json.loads((final / "heldout_accuracy.json").read_text())
    assert report == json.loads((run / "heldout_accuracy.json").read_text())
    assert report["heldout_shards"] == [sorted((prepared / "shards").glob("*.tar"))[-1].name]
    assert report["n_windows"] == 2 and report["n_pairs"] == 6
    assert 0 <= report["accuracy"] <= 1 and report["accuracy_other"] is not None


def test_alignment_configuration_errors(prepared: Path, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "a.yaml", data=str(prepared), output_dir=str(tmp_path / "r"),
                                      preset="sd21"))
    with pytest.raises(EgoSonicsError, match="needs vit_weights"):
        AlignmentTask.build(config)
    config = load_config(write_config(tmp_path / "b.yaml", data=str(prepared), output_dir=str(tmp_path / "r"),
                                      preset="sd21", vit_weights=str(tmp_path / "vit_b_32-d86f8d99.pth")))
    with pytest.raises(EgoSonicsError, match=r"vit_b_32-d86f8d99\.pth: weight file not found"):
        AlignmentTask.build(config)
    config = load_config(write_config(tmp_path / "c.yaml", data=str(prepared), output_dir=str(tmp_path / "r"),
                                      preset="medium"))
    with pytest.raises(EgoSonicsError, match=r"unknown preset 'medium' for alignment; choose from \['sd21', 'tiny'\]"):
        AlignmentTask.build(config)


def test_other_video_pairs_take_another_source(prepared: Path, tmp_path: Path) -> None:
    task = AlignmentTask.build(load_config(write_config(tmp_path / "a.yaml", data=str(prepared),
                                                       output_dir=str(tmp_path / "r"))))
    dataset = task.train_dataset()
    samples = [dataset[i] for i in range(len(dataset))]
    assert len({s["meta"]["source"] for s in samples}) == 2  # the training shard holds two videos
    g = torch.Generator().manual_seed(0)
    for own in samples:
        for _ in range(5):
            ev = task._other_video(own["key"], g)
            match = [s for s in samples if torch.equal(s["ev"], ev)]
            assert match and all(s["meta"]["source"] != own["meta"]["source"] for s in match)
