"""The Alignment Score classifier (paper Sec. H): a plain-torch ViT in torchvision's layout that loads a torchvision
``vit_b_32``-style state dict strictly, the 5-layer head, save/load, and the frame-rate reduction."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from egosonics.errors import EgoSonicsError
from egosonics.models.alignment import (
    AudioVisualAlignmentClassifier,
    VisionTransformer,
    audio_image,
    held_frame_indices,
    hold_frames,
    load_vit_state_dict,
    video_image,
)

SMALL_VIT = {"image_size": 32, "patch_size": 16, "num_layers": 2, "num_heads": 2, "hidden_dim": 16, "mlp_dim": 24,
             "num_classes": 5}


def torchvision_keys(num_layers: int) -> list[str]:
    """The state-dict keys of torchvision's ``VisionTransformer`` (torchvision ≥ 0.13 names), written out."""
    keys = ["class_token", "conv_proj.weight", "conv_proj.bias", "encoder.pos_embedding"]
    for i in range(num_layers):
        p = f"encoder.layers.encoder_layer_{i}."
        keys += [p + k for k in ("ln_1.weight", "ln_1.bias", "self_attention.in_proj_weight",
                                 "self_attention.in_proj_bias", "self_attention.out_proj.weight",
                                 "self_attention.out_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.0.weight",
                                 "mlp.0.bias", "mlp.3.weight", "mlp.3.bias")]
    return [*keys, "encoder.ln.weight", "encoder.ln.bias", "heads.head.weight", "heads.head.bias"]


def test_vit_b_32_layout_and_size() -> None:
    vit = VisionTransformer()  # ViT-B/32 defaults
    state = vit.state_dict()
    assert sorted(state) == sorted(torchvision_keys(12))
    assert sum(p.numel() for p in vit.parameters()) == 88_224_232  # torchvision's documented num_params
    assert state["encoder.pos_embedding"].shape == (1, 50, 768) and state["class_token"].shape == (1, 1, 768)
    assert state["conv_proj.weight"].shape == (768, 3, 32, 32) and state["heads.head.weight"].shape == (1000, 768)
    assert state["encoder.layers.encoder_layer_0.self_attention.in_proj_weight"].shape == (2304, 768)


@pytest.mark.parametrize("legacy", [False, True])
def test_strict_loading_of_a_torchvision_state_dict(legacy: bool, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", lambda *a, **k: pytest.fail("download"))
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("download"))
    torch.manual_seed(0)
    source = VisionTransformer(**SMALL_VIT)
    state = source.state_dict()
    if legacy:  # the published file predates torchvision's MLP rename (mlp.linear_1 / mlp.linear_2)
        state = {k.replace(".mlp.0.", ".mlp.linear_1.").replace(".mlp.3.", ".mlp.linear_2."): v
                 for k, v in state.items()}
    torch.save(state, tmp_path / "vit_b_32.pth")
    target = VisionTransformer(**SMALL_VIT)
    digest = load_vit_state_dict(target, tmp_path / "vit_b_32.pth")
    assert len(digest) == 64
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(target(x), source(x))
    assert target.features(x).shape == (2, 16)


def test_mismatched_vit_files_are_clear_errors(tmp_path: Path) -> None:
    state = VisionTransformer(**SMALL_VIT).state_dict()
    torch.save({**state, "heads.pre_logits.weight": torch.zeros(3, 3)}, tmp_path / "extra.pth")
    with pytest.raises(EgoSonicsError, match=r"1 unexpected key\(s\) \['heads.pre_logits.weight'\]"):
        load_vit_state_dict(VisionTransformer(**SMALL_VIT), tmp_path / "extra.pth")
    torch.save({k: v for k, v in state.items() if k != "class_token"}, tmp_path / "missing.pth")
    with pytest.raises(EgoSonicsError, match=r"1 missing key\(s\) \['class_token'\]"):
        load_vit_state_dict(VisionTransformer(**SMALL_VIT), tmp_path / "missing.pth")
    with pytest.raises(EgoSonicsError, match=r"vit_b_32 IMAGENET1K_V1"):
        AudioVisualAlignmentClassifier.from_vit_b_32(tmp_path / "nope" / "vit_b_32-d86f8d99.pth")


def test_classifier_shapes_head_and_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = AudioVisualAlignmentClassifier.from_preset("tiny", input_size=(64, 64))
    linears = [m for m in model.head if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 5 and linears[0].in_features == 2 * model.config.hidden_dim and linears[-1].out_features == 1
    assert sum(isinstance(m, torch.nn.ReLU) for m in model.head) == 4
    assert not any(p.requires_grad for p in model.backbone.parameters())  # the paper trains the linear layers only
    model.eval()
    e_a, e_v = torch.rand(3, 64, 64), torch.rand(3, 64, 64)
    p = model(e_a, e_v)
    assert p.shape == (3,) and bool(((p >= 0) & (p <= 1)).all())
    model.save_pretrained(tmp_path / "clf", safe_serialization=True)
    assert (tmp_path / "clf" / "diffusion_pytorch_model.safetensors").is_file()
    loaded = AudioVisualAlignmentClassifier.from_pretrained(tmp_path / "clf").eval()
    assert torch.allclose(loaded(e_a, e_v), p)
    assert tuple(loaded.config.input_size) == (64, 64) and loaded.config.frame_encoder == "pixels"
    with pytest.raises(ValueError, match="batch sizes differ: 3 audio and 2 video"):
        model(e_a, e_v[:2])
    with pytest.raises(ValueError, match="unknown alignment preset 'huge'"):
        AudioVisualAlignmentClassifier.from_preset("huge")


def test_input_images() -> None:
    ev = torch.randn(2, 300, 512)
    image = video_image(ev, (64, 64))
    assert image.shape == (2, 64, 64)
    assert torch.allclose(image.amin(dim=(1, 2)), torch.zeros(2)) and torch.allclose(image.amax(dim=(1, 2)),
                                                                                     torch.ones(2))
    assert torch.all(video_image(torch.zeros(1, 300, 512), (8, 8)) == 0.5)
    spec = torch.rand(2, 1024, 430)
    assert audio_image(spec).shape == (2, 512, 512) and audio_image(spec, (128, 128)).shape == (2, 128, 128)


def test_frame_rate_reduction_is_exact() -> None:
    ev = torch.arange(300, dtype=torch.float32)[:, None].expand(300, 4)  # frame i holds the value i
    assert torch.equal(hold_frames(ev, 30), ev)
    half = hold_frames(ev, 15)[:, 0].long()
    # 15 fps: E_V^i replaced by E_V^{i-1} for alternate frames (paper Sec. H).
    assert torch.equal(half, torch.arange(300) - torch.arange(300) % 2)
    four = held_frame_indices(300, 4)
    i = np.arange(300)
    assert np.all(four <= i) and np.all(np.diff(four) >= 0)
    assert len(np.unique(four)) == 40  # 10 s at 4 fps
    changes = np.flatnonzero(np.diff(four)) + 1  # the frames where a new 4 fps frame appears
    assert np.array_equal(changes, np.floor(np.arange(1, 40) * 7.5 + 1 - 1e-9).astype(int))
    assert set(np.diff(np.r_[0, changes, 300])) == {7, 8}
    assert np.array_equal(four[changes], np.floor(np.arange(1, 40) * 7.5).astype(int))
    batched = hold_frames(torch.randn(2, 300, 8), 4)
    assert batched.shape == (2, 300, 8)
    with pytest.raises(ValueError, match=r"fps must be in \(0, 30\], got 60"):
        held_frame_indices(300, 60)
