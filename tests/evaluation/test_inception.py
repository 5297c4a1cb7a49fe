"""Inception-v3 in plain torch: torchvision's layout and size, pytorch-fid's FID variant, SpecVQGAN's Melception, and
weight files that load strictly from a local path and are never downloaded (EVALUATION.md §2, §7.4 item 24).

The real weight files are not available here: the networks are built with random weights, saved, and loaded back.
"""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path

import pytest
import torch
from torch import nn

from egosonics.errors import EgoSonicsError
from egosonics.evaluation.inception import (
    FIDInceptionV3,
    Inception3,
    Melception,
    _pool3x3,
    load_fid_inception,
    load_melception,
)


def calibrate(net: nn.Module, run, *inputs) -> nn.Module:
    """Set BatchNorm running statistics from one batch, so a random network's activations keep a sane scale."""
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average: one batch sets the statistics exactly
    net.train()
    run(*inputs)
    return net.eval()


@pytest.fixture
def no_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to fetch weights fails the test (on top of the autouse socket guard)."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"tried to download: {args!r}")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_torchvision_layout_and_size() -> None:
    # torchvision's inception_v3 (aux head, 1000 classes) has 27,161,264 parameters (its documented num_params).
    assert sum(p.numel() for p in Inception3(1000, aux_logits=True).parameters()) == 27_161_264
    fid = FIDInceptionV3()
    keys = fid.state_dict()
    # pytorch-fid: no auxiliary head, 1008 classes; 23,850,960 = 27,161,264 − AuxLogits (3,326,696) + 8 × 2049.
    assert sum(p.numel() for p in fid.parameters()) == 23_850_960
    assert not any(k.startswith("AuxLogits") for k in keys)
    assert keys["fc.weight"].shape == (1008, 2048)
    for name in ("Conv2d_1a_3x3.conv.weight", "Conv2d_1a_3x3.bn.running_var", "Mixed_5b.branch5x5_2.conv.weight",
                 "Mixed_6e.branch7x7dbl_5.bn.num_batches_tracked", "Mixed_7c.branch3x3dbl_3b.bn.bias"):
        assert name in keys, name
    assert keys["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert "Conv2d_1a_3x3.conv.bias" not in keys  # BasicConv2d convolutions have no bias


def test_fid_patches_are_tensorflow_pools() -> None:
    """TF's average pool ignores the zero padding; the last block max-pools (pytorch-fid's FIDInceptionE_2)."""
    ones = torch.ones(1, 1, 4, 4)
    assert torch.allclose(_pool3x3(ones, "avg_tf"), ones)
    assert _pool3x3(ones, "avg")[0, 0, 0, 0].item() == pytest.approx(4 / 9)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert _pool3x3(x, "max")[0, 0, 0, 0].item() == 5.0
    fid = FIDInceptionV3()
    assert {fid.Mixed_5b.pool, fid.Mixed_6e.pool, fid.Mixed_7b.pool, fid.Mixed_7c.pool} == {"avg_tf", "max"}
    assert fid.Mixed_7c.pool == "max" and Inception3().Mixed_7c.pool == "avg"


def test_fid_weights_round_trip_strictly(tmp_path: Path, no_downloads: None) -> None:
    torch.manual_seed(0)
    source = FIDInceptionV3()
    calibrate(source, source.features, torch.rand(2, 3, 40, 40))
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(source.state_dict(), path)
    net, digest = load_fid_inception(path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    for key, value in source.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key
    grey = torch.rand(2, 1, 64, 80)
    feats = net.features(grey)
    assert feats.shape == (2, 2048) and feats.dtype == torch.float32
    # A grey image is its replication to RGB, as PIL's convert('RGB') gives it.
    assert torch.allclose(feats, net.features(grey.expand(-1, 3, -1, -1)))
    # The loaded network computes what the saved one did, and tells the two images apart.
    torch.testing.assert_close(feats, source.eval().features(grey), rtol=0, atol=0)
    assert float((feats[0] - feats[1]).abs().max()) > 1e-3 * float(feats.abs().max())


def test_older_files_without_num_batches_tracked_load(tmp_path: Path, no_downloads: None) -> None:
    torch.manual_seed(1)
    state = {k: v for k, v in FIDInceptionV3().state_dict().items() if not k.endswith("num_batches_tracked")}
    assert len(state) < len(FIDInceptionV3().state_dict())  # the file really lacks the counters
    torch.save(state, tmp_path / "old.pth")
    net, digest = load_fid_inception(tmp_path / "old.pth")
    assert digest == hashlib.sha256((tmp_path / "old.pth").read_bytes()).hexdigest()
    loaded = net.state_dict()
    for key, value in state.items():  # every tensor of the file, not a fresh network's random one
        assert torch.equal(loaded[key], value), key
    counters = [v for k, v in loaded.items() if k.endswith("num_batches_tracked")]
    assert counters and all(int(c) == 0 for c in counters)  # filled in as torch does for files that predate them


def test_wrong_file_is_a_clear_error(tmp_path: Path, no_downloads: None) -> None:
    torch.save(Melception().state_dict(), tmp_path / "melception.pt")
    with pytest.raises(EgoSonicsError, match=r"pt_inception-2015-12-05-6726825d\.pth.*missing key"):
        load_fid_inception(tmp_path / "melception.pt")
    state = FIDInceptionV3().state_dict()
    state["fc.weight"] = torch.zeros(1000, 2048)
    torch.save(state, tmp_path / "imagenet_fc.pth")
    with pytest.raises(EgoSonicsError, match=r"fc\.weight: \(1000, 2048\) in the file, \(1008, 2048\) expected"):
        load_fid_inception(tmp_path / "imagenet_fc.pth")
    (tmp_path / "text.pth").write_text("not weights")
    with pytest.raises(EgoSonicsError, match="cannot read weights"):
        load_fid_inception(tmp_path / "text.pth")


@pytest.mark.parametrize("loader, expected", [(load_fid_inception, "pt_inception-2015-12-05-6726825d.pth"),
                                              (load_melception, "melception-21-05-10T09-28-40.pt")])
def test_missing_weight_file_names_path_and_file_without_network(loader, expected, tmp_path: Path,
                                                                 no_downloads: None) -> None:
    missing = tmp_path / "weights" / "nothing_here.pth"
    with pytest.raises(EgoSonicsError) as err:
        loader(missing)
    assert str(missing) in str(err.value) and expected in str(err.value) and "never downloads" in str(err.value)
    with pytest.raises(EgoSonicsError, match="none was given"):
        loader(None)


def test_melception_layout_outputs_and_checkpoint_formats(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = Melception()
    assert source.Conv2d_1a_3x3.conv.weight.shape == (32, 1, 3, 3)
    assert isinstance(source.maxpool1, nn.Identity) and isinstance(source.maxpool2, nn.Identity)
    assert source.fc.weight.shape == (309, 2048) and source.AuxLogits is not None
    mels = torch.randn(2, 80, 48)
    calibrate(source, source.outputs, mels)
    out = source.outputs(mels)
    assert out["2048"].shape == (2, 2048) and out["logits"].shape == (2, 309)
    assert torch.allclose(out["logits"], out["logits_unbiased"] + source.fc.bias)
    # SpecVQGAN saves {"model": state_dict, ...}; a DataParallel run adds "module." to every key.
    torch.save({"model": source.state_dict(), "epoch": 30}, tmp_path / "melception.pt")
    torch.save({"model": {f"module.{k}": v for k, v in source.state_dict().items()}}, tmp_path / "dp.pt")
    for name in ("melception.pt", "dp.pt"):
        net, _ = load_melception(tmp_path / name)
        assert torch.allclose(net.outputs(mels)["logits"], out["logits"], atol=1e-5), name
    # A checkpoint without the auxiliary head (or with another class count) builds to match.
    small = Melception(num_classes=12, aux_logits=False)
    torch.save(small.state_dict(), tmp_path / "small.pt")
    net, _ = load_melception(tmp_path / "small.pt")
    assert net.fc.out_features == 12 and net.AuxLogits is None
