"""Inception-v3 in plain torch, in torchvision's parameter layout, for the two weight-based spectrogram metrics.

Two variants of one network (EVALUATION.md §2):

    FIDInceptionV3  pytorch-fid's "FID Inception": the TensorFlow 2015-12-05 graph ported to torchvision's
                    ``Inception3`` (1008 classes, no auxiliary head) with four patched blocks: average pools that
                    ignore the zero padding (Mixed_5b–5d, 6b–6e, 7b) and a max pool in the last block (Mixed_7c).
                    Input: images in [0, 1], bilinearly resized to 299 × 299, mapped to [-1, 1]; output: the
                    2048-d final average pool ("pool3"). Weights: ``pt_inception-2015-12-05-6726825d.pth``.
    Melception      SpecVQGAN's classifier of VGGSound log-mel spectrograms (309 classes): torchvision's
                    ``Inception3`` (with its auxiliary head, torchvision's default) taking one channel and without
                    the two stem max pools (a mel spectrogram is only 80 rows high). Input: standardised mel
                    spectrograms [B, 80, T]; outputs: '2048' (pool), 'logits', 'logits_unbiased' (fc without its
                    bias). Weights: ``melception-21-05-10T09-28-40.pt`` (the state dict is under "model").

The state-dict keys are torchvision's (``Conv2d_1a_3x3.conv.weight``, ``Mixed_5b.branch1x1.bn.running_mean``, …,
``fc.weight``), so the published files load with ``strict=True``; torchvision itself is not needed. Weights only ever
come from a local file (``load_fid_inception``, ``load_melception``); nothing here downloads.
"""

from __future__ import annotations

import logging
import os
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from egosonics.models.local_weights import load_state_dict_file, load_strict

log = logging.getLogger(__name__)

FID_INCEPTION_FILE = "pytorch-fid's pt_inception-2015-12-05-6726825d.pth"
MELCEPTION_FILE = "SpecVQGAN's melception-21-05-10T09-28-40.pt"
FID_INPUT_SIZE = 299
FEATURE_DIM = 2048

PoolKind = Literal["avg", "avg_tf", "max"]


def _pool3x3(x: torch.Tensor, kind: PoolKind) -> torch.Tensor:
    """The 3 × 3, stride-1 pool of a block's pool branch: torchvision's average, TensorFlow's average (padding not
    counted), or the max pool of pytorch-fid's last block."""
    if kind == "max":
        return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=kind == "avg")


class BasicConv2d(nn.Module):
    """Convolution without bias, BatchNorm (eps 0.001), ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class InceptionA(nn.Module):
    """35 × 35 block: 1×1 | 1×1→5×5 | 1×1→3×3→3×3 | pool→1×1; out 224 + pool_features channels."""

    def __init__(self, in_channels: int, pool_features: int, pool: PoolKind = "avg") -> None:
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_pool3x3(x, self.pool))
        return torch.cat([self.branch1x1(x), b5, b3, bp], 1)


class InceptionB(nn.Module):
    """Grid reduction 35 → 17: strided 3×3 | 1×1→3×3→strided 3×3 | max pool; out 480 + in_channels."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    """17 × 17 block with factorised 7×7 convolutions; out 768 channels."""

    def __init__(self, in_channels: int, channels_7x7: int, pool: PoolKind = "avg") -> None:
        super().__init__()
        c7 = channels_7x7
        self.pool = pool
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = layer(bd)
        bp = self.branch_pool(_pool3x3(x, self.pool))
        return torch.cat([self.branch1x1(x), b7, bd, bp], 1)


class InceptionD(nn.Module):
    """Grid reduction 17 → 8: 1×1→strided 3×3 | 1×1→1×7→7×1→strided 3×3 | max pool; out 512 + in_channels."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    """8 × 8 block with split 1×3 / 3×1 branches; out 2048 channels."""

    def __init__(self, in_channels: int, pool: PoolKind = "avg") -> None:
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        bp = self.branch_pool(_pool3x3(x, self.pool))
        return torch.cat([self.branch1x1(x), b3, bd, bp], 1)


class InceptionAux(nn.Module):
    """torchvision's auxiliary classifier on the 17 × 17 grid (kept for its weights; unused at inference)."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv0 = BasicConv2d(in_channels, 128, kernel_size=1)
        self.conv1 = BasicConv2d(128, 768, kernel_size=5)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.conv0(F.avg_pool2d(x, kernel_size=5, stride=3)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))


class Inception3(nn.Module):
    """torchvision's ``Inception3`` (transform_input=False), its parameter names included.

    Args:
        num_classes: width of ``fc`` (1000 ImageNet, 1008 for the TF FID graph, 309 for Melception).
        in_channels: 3 for images, 1 for Melception's spectrograms.
        aux_logits: build ``AuxLogits`` (torchvision's default True; pytorch-fid's FID network has none).
        fid_patches: pytorch-fid's patched pools (TF average pools in Mixed_5b–5d, 6b–6e, 7b; max pool in 7c).
        stem_maxpools: the two stem max pools (Melception replaces them with identities).
    """

    def __init__(self, num_classes: int = 1000, *, in_channels: int = 3, aux_logits: bool = False,
                 fid_patches: bool = False, stem_maxpools: bool = True, dropout: float = 0.5) -> None:
        super().__init__()
        pool: PoolKind = "avg_tf" if fid_patches else "avg"
        self.Conv2d_1a_3x3 = BasicConv2d(in_channels, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2) if stem_maxpools else nn.Identity()
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2) if stem_maxpools else nn.Identity()
        self.Mixed_5b = InceptionA(192, pool_features=32, pool=pool)
        self.Mixed_5c = InceptionA(256, pool_features=64, pool=pool)
        self.Mixed_5d = InceptionA(288, pool_features=64, pool=pool)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128, pool=pool)
        self.Mixed_6c = InceptionC(768, channels_7x7=160, pool=pool)
        self.Mixed_6d = InceptionC(768, channels_7x7=160, pool=pool)
        self.Mixed_6e = InceptionC(768, channels_7x7=192, pool=pool)
        self.AuxLogits = InceptionAux(768, num_classes) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, pool=pool)
        self.Mixed_7c = InceptionE(2048, pool="max" if fid_patches else "avg")
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(FEATURE_DIM, num_classes)

    def pool_features(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] (already normalised) → the final average pool [B, 2048]."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))  # [B, 64, H/2, W/2] (299: 147²)
        x = self.maxpool1(x)  # 299: [B, 64, 73, 73]
        x = self.maxpool2(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)))  # 299: [B, 192, 35, 35]
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
                      self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = block(x)  # 299: 35² × 288 → 17² × 768 → 8² × 2048
        return torch.flatten(self.avgpool(x), 1)  # [B, 2048]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] → logits [B, num_classes] (the auxiliary head is not run)."""
        return self.fc(self.dropout(self.pool_features(x)))


class FIDInceptionV3(Inception3):
    """pytorch-fid's FID Inception (``fid_inception_v3``): pool3 features of images in [0, 1]."""

    def __init__(self) -> None:
        super().__init__(num_classes=1008, aux_logits=False, fid_patches=True)

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Images [B, 1 or 3, H, W] in [0, 1] → pool3 [B, 2048] float32.

        As pytorch-fid's ``InceptionV3``: bilinear resize to 299 × 299 (align_corners=False, no antialiasing), then
        2x − 1. One-channel images are replicated to three (a grey image as PIL's ``convert('RGB')`` gives it).
        """
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"images must be [B, 1 or 3, H, W], got shape {tuple(images.shape)}")
        x = images.to(self.fc.weight.device, torch.float32)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(FID_INPUT_SIZE, FID_INPUT_SIZE), mode="bilinear", align_corners=False)
        return self.pool_features(2 * x - 1)  # [B, 2048]


class Melception(Inception3):
    """SpecVQGAN's Melception: Inception3 on one-channel log-mel spectrograms, stem max pools removed."""

    def __init__(self, num_classes: int = 309, aux_logits: bool = True) -> None:
        super().__init__(num_classes=num_classes, in_channels=1, aux_logits=aux_logits, stem_maxpools=False)

    @torch.no_grad()
    def outputs(self, mels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Standardised mel spectrograms [B, 80, T] → {'2048': [B, 2048], 'logits_unbiased': [B, C],
        'logits': [B, C]} (SpecVQGAN's ``features_list``; 'logits_unbiased' is fc without its bias, used for ISc)."""
        if mels.ndim != 3:
            raise ValueError(f"mel spectrograms must be [B, n_mels, T], got shape {tuple(mels.shape)}")
        pooled = self.pool_features(mels.to(self.fc.weight.device, torch.float32)[:, None])  # [B, 2048]
        unbiased = pooled @ self.fc.weight.T  # [B, C]
        return {"2048": pooled, "logits_unbiased": unbiased, "logits": unbiased + self.fc.bias}


def load_fid_inception(path: str | os.PathLike[str] | None) -> tuple[FIDInceptionV3, str]:
    """pytorch-fid's FID Inception from a local weight file (strict keys); returns (network in eval mode, sha256)."""
    state, digest = load_state_dict_file(path, what="spectrogram FID (Inception-v3)", expected=FID_INCEPTION_FILE)
    net = FIDInceptionV3()
    load_strict(net, state, source=path, expected=FID_INCEPTION_FILE)
    return net.eval().requires_grad_(False), digest


def load_melception(path: str | os.PathLike[str] | None) -> tuple[Melception, str]:
    """SpecVQGAN's Melception from a local checkpoint (the state dict under "model", or a bare state dict; a
    DataParallel "module." prefix is removed); the class count and the auxiliary head are read from the file."""
    state, digest = load_state_dict_file(path, what="Melception metrics", expected=MELCEPTION_FILE, key="model")
    if state and all(k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    if "fc.weight" not in state:
        from egosonics.errors import EgoSonicsError

        raise EgoSonicsError(f"{path}: no fc.weight in the state dict; expected {MELCEPTION_FILE}")
    net = Melception(num_classes=state["fc.weight"].shape[0], aux_logits=any(k.startswith("AuxLogits.")
                                                                              for k in state))
    load_strict(net, state, source=path, expected=MELCEPTION_FILE)
    return net.eval().requires_grad_(False), digest
