"""The Alignment Score metric: update()/compute() at 30, 15 and 4 fps, loading a classifier folder, and a classifier
trained on an easy synthetic task that tells true pairs from pairs whose audio is shifted (paper Sec. H)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from egosonics.errors import EgoSonicsError
from egosonics.evaluation.alignment_score import AlignmentScore
from egosonics.models.alignment import HELDOUT_FILE, AudioVisualAlignmentClassifier, audio_image, video_image
from egosonics.training.alignment import PairPlan, draw_pair, make_pair

SIZE = (64, 64)


def tiny_classifier(**overrides) -> AudioVisualAlignmentClassifier:
    """A frozen random ViT small enough to train a head on a CPU in seconds (one 32 px patch per image)."""
    config = {"input_size": SIZE, "image_size": 32, "patch_size": 32, **overrides}
    return AudioVisualAlignmentClassifier.from_preset("tiny", **config)


def test_update_compute_and_checks(tmp_path: Path) -> None:
    torch.manual_seed(0)
    metric = AlignmentScore(tiny_classifier().eval())
    ev = torch.randn(3, 300, 32)
    new = metric.update(video_embedding=ev, waveform=np.random.default_rng(0).standard_normal((3, 22_050)))
    assert set(new) == {30, 15, 4} and all(len(v) == 3 for v in new.values())
    metric.update(video_embedding=ev[0].numpy(), audio_image=torch.rand(*SIZE))
    out = metric.compute()
    assert out["n"] == 4 and out["fps"] == [30, 15, 4] and out["classifier"] is None
    for tag in ("30fps", "15fps", "4fps"):
        assert 0 <= out[f"score_{tag}"] <= 1 and 0 <= out[f"mean_p_{tag}"] <= 1
    with pytest.raises(ValueError, match="exactly one of audio_image and waveform"):
        metric.update(video_embedding=ev)
    with pytest.raises(ValueError, match=r"matching, non-empty batches: E_V \(3, 300, 32\), E_A \(2, 64, 64\)"):
        metric.update(video_embedding=ev, audio_image=torch.rand(2, *SIZE))
    with pytest.raises(ValueError, match=r"fps \[60\] out of range"):
        AlignmentScore(metric.model, fps=(30, 60))
    metric.reset()
    with pytest.raises(ValueError, match="no pairs added"):
        metric.compute()


def test_load_from_a_folder_with_its_heldout_report(tmp_path: Path) -> None:
    model = tiny_classifier()
    model.save_pretrained(tmp_path / "model", safe_serialization=True)
    (tmp_path / "model" / HELDOUT_FILE).write_text(json.dumps({"accuracy": 0.9, "n_windows": 12}))
    metric = AlignmentScore.load(tmp_path / "model", fps=(30,))
    metric.update(video_embedding=torch.randn(300, 32), audio_image=torch.rand(*SIZE))
    assert metric.compute()["classifier"] == {"accuracy": 0.9, "n_windows": 12}
    with pytest.raises(EgoSonicsError, match=r"nowhere: not an alignment classifier folder"):
        AlignmentScore.load(tmp_path / "nowhere")


def synthetic_clip(rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One event: a loud spectrogram column band and a bright E_V burst at the same time (spec [1024, 430], E_V
    [300, 32])."""
    event = int(rng.integers(10, 290))
    ev = torch.zeros(300, 32)
    ev[max(0, event - 3):event + 3] = 1.0
    spec = torch.full((1024, 430), 0.1)
    column = round(event * 430 / 300)
    spec[:, max(0, column - 4):column + 4] = 0.9
    return spec, ev


def test_a_classifier_trained_on_an_easy_task_separates_true_from_shifted_pairs() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train = [synthetic_clip(rng) for _ in range(64)]
    test = [synthetic_clip(rng) for _ in range(24)]
    model = tiny_classifier()
    # The paper's recipe (MSE on p, Adam, the 50/25/25 pairs with circular shifts), at 1e-3 to be quick.
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(650):
        audio, video, labels = [], [], []
        for i in torch.randint(len(train), (16,), generator=g).tolist():
            plan = draw_pair(g)
            other = train[(i + 1) % len(train)][1] if plan.kind == "other" else None
            a, v = make_pair(*train[i], plan, other)
            audio.append(a)
            video.append(v)
            labels.append(plan.label)
        p = model(audio_image(torch.stack(audio), SIZE), video_image(torch.stack(video), SIZE))
        loss = F.mse_loss(p, torch.tensor(labels))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    true, shifted = AlignmentScore(model), AlignmentScore(model)
    for spec, ev in test:
        true.update(video_embedding=ev, audio_image=audio_image(spec, SIZE))
        moved, _ = make_pair(spec, ev, PairPlan("shifted", 0, 60))  # audio 2 s late
        shifted.update(video_embedding=ev, audio_image=audio_image(moved, SIZE))
    t, s = true.compute(), shifted.compute()
    assert t["score_30fps"] >= 0.75 and s["score_30fps"] <= 0.25, (t, s)
    assert t["mean_p_30fps"] - s["mean_p_30fps"] > 0.3, (t, s)
    # Holding frames at 15 fps moves a 6-frame burst by at most a frame: the verdicts stay.
    assert t["score_15fps"] >= 0.75 and s["score_15fps"] <= 0.25, (t, s)
