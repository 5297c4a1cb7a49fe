"""The Alignment Score classifier (paper Sec. H): is this audio in sync with this video?

    E_A  spectrogram image, the method's model image of the 10 s window   ``audio_image``   [B, 512, 512] in [0, 1]
    E_V  video-embedding image: E_V [300, 512] drawn with frames as columns  ``video_image``   [B, 512, 512] in [0, 1]
    f    ViT-B/32 (ImageNet-1k, torchvision IMAGENET1K_V1), shared by both images: the class token after the last
         LayerNorm, 768-d (the representation its classification head reads)
    p    sigmoid(MLP([f(E_A), f(E_V)])): 5 linear layers, ReLU after each but the last; p ≈ 1 means in sync

Both images are resized (bilinear, antialiased) to the ViT's 224 × 224, replicated to 3 channels and normalised with
ImageNet's mean and std. E_V is drawn the way Syncronet draws its hint (features as rows, frames as columns, bicubic;
``syncronet.video_embedding_to_hint``) and min-max scaled to [0, 1] per image, so the picture does not depend on the
frame encoder's value range. The paper trains the linear layers on a frozen backbone (``freeze_backbone=True``). The
``tiny`` preset keeps its random backbone frozen too: a random ViT is a usable fixed feature extractor (a 5-layer head
on it learns to tell aligned from shifted synthetic pairs in a few hundred steps), whereas training a random backbone
end to end with the head collapsed to a constant prediction in our trials.

The ViT is a plain-torch copy of torchvision's ``VisionTransformer`` with the same parameter names, so torchvision's
``vit_b_32`` state dict (``vit_b_32-d86f8d99.pth``) loads into ``backbone`` with strict key checking
(``load_vit_state_dict``); the legacy MLP names of that file (``mlp.linear_1`` / ``mlp.linear_2``) are mapped to
``mlp.0`` / ``mlp.3`` as torchvision itself does. Weights are read only from a local file.

Frame-rate reduction (``hold_frames``): to score a system that sees video at 15 or 4 fps, E_V is sample-and-held at
that rate, as the paper does ("E_V^i replaced by E_V^{i-1} for alternate frames at 15 fps"): frame i takes the
embedding of frame ⌊⌊i·r/30⌋·30/r⌋, the last frame at or before the most recent tick of an r-fps clock.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.models.local_weights import load_state_dict_file, load_strict
from egosonics.spectrogram.params import DEFAULT_PARAMS, SpectrogramParams

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HELDOUT_FILE = "heldout_accuracy.json"  # the classifier's held-out report, in its model folder
VIT_B_32_FILE = "torchvision's vit_b_32 IMAGENET1K_V1 state dict (vit_b_32-d86f8d99.pth)"

# Classifier presets: "sd21" is the paper's (ViT-B/32 at 224, 512 × 512 inputs); "tiny" runs on a CPU in seconds.
ALIGNMENT_PRESETS: dict[str, dict] = {
    "sd21": {"image_size": 224, "patch_size": 32, "num_layers": 12, "num_heads": 12, "hidden_dim": 768,
             "mlp_dim": 3072, "num_classes": 1000, "head_widths": (512, 256, 128, 64), "input_size": (512, 512),
             "freeze_backbone": True},
    "tiny": {"image_size": 64, "patch_size": 16, "num_layers": 2, "num_heads": 2, "hidden_dim": 32, "mlp_dim": 64,
             "num_classes": 10, "head_widths": (64, 32, 16, 8), "input_size": (128, 128), "freeze_backbone": True},
}


# ------------------------------------------------------------------------------------------------ ViT (torchvision)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: x + MHA(LN(x)), then + MLP(LN(·)) (torchvision's ``EncoderBlock``)."""

    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=attention_dropout,
                                                    batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(hidden_dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(mlp_dim, hidden_dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, S, D] → [B, S, D]."""
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + self.dropout(y)
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Learned position embedding, ``layers.encoder_layer_{i}``, final LayerNorm (torchvision's ``Encoder``)."""

    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int, mlp_dim: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, hidden_dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout)) for i in range(num_layers)))
        self.ln = nn.LayerNorm(hidden_dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ln(self.layers(self.dropout(x + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """torchvision's ``VisionTransformer`` (no representation layer), parameter names included.

    Args:
        image_size, patch_size: input side and patch side in pixels (224 and 32 for ViT-B/32).
        num_layers, num_heads, hidden_dim, mlp_dim: the transformer (12, 12, 768, 3072 for ViT-B/32).
        num_classes: width of ``heads.head`` (1000 for ImageNet-1k).
    """

    def __init__(self, image_size: int = 224, patch_size: int = 32, num_layers: int = 12, num_heads: int = 12,
                 hidden_dim: int = 768, mlp_dim: int = 3072, num_classes: int = 1000) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"image_size {image_size} is not a multiple of patch_size {patch_size}")
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim {hidden_dim} is not a multiple of num_heads {num_heads}")
        self.image_size, self.patch_size, self.hidden_dim = image_size, patch_size, hidden_dim
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        seq_length = (image_size // patch_size) ** 2 + 1
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim)
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(hidden_dim, num_classes)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised images [B, 3, S, S] → class token after the final LayerNorm [B, hidden_dim]."""
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f"expected {self.image_size} x {self.image_size} images, got {tuple(x.shape[-2:])}")
        tokens = self.conv_proj(x).flatten(2).transpose(1, 2)  # [B, (S/p)², D]
        tokens = torch.cat([self.class_token.expand(x.shape[0], -1, -1), tokens], dim=1)  # [B, 1 + (S/p)², D]
        return self.encoder(tokens)[:, 0]  # [B, D]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, 3, S, S] → ImageNet logits [B, num_classes]."""
        return self.heads(self.features(x))


def load_vit_state_dict(vit: VisionTransformer, path: str | os.PathLike[str] | None) -> str:
    """Load torchvision's ``vit_b_32`` weights from a local file into ``vit`` (strict keys and shapes); returns the
    file's sha256. Legacy ``mlp.linear_1`` / ``mlp.linear_2`` names become ``mlp.0`` / ``mlp.3``."""
    state, digest = load_state_dict_file(path, what="the Alignment Score backbone (ViT-B/32)", expected=VIT_B_32_FILE)
    renamed = {}
    for key, value in state.items():
        for old, new in ((".mlp.linear_1.", ".mlp.0."), (".mlp.linear_2.", ".mlp.3.")):
            key = key.replace(old, new)
        renamed[key] = value
    load_strict(vit, renamed, source=path, expected=VIT_B_32_FILE)
    return digest


# ------------------------------------------------------------------------------------------------ inputs


def audio_image(spectrogram: torch.Tensor, size: tuple[int, int] = (512, 512)) -> torch.Tensor:
    """E_A: normalised spectrogram [..., 1024, T] (``spectrogram.transform.waveform_to_unit``) → [..., *size] in
    [0, 1] (the method's model image: means of frequency-bin groups, linear in time)."""
    from egosonics.spectrogram.transform import to_model_image

    params = DEFAULT_PARAMS if tuple(size) == DEFAULT_PARAMS.model_size else SpectrogramParams(model_size=tuple(size))
    return to_model_image(spectrogram.float(), params)


def audio_image_from_waveform(waveform: torch.Tensor | np.ndarray, size: tuple[int, int] = (512, 512), *,
                              sample_rate: int = DEFAULT_CLIP.sample_rate) -> torch.Tensor:
    """E_A of a waveform [n] or [B, n] at 22,050 Hz: its first 10 s (zero-padded) → [..., *size]."""
    from egosonics.spectrogram.transform import waveform_to_unit

    if sample_rate != DEFAULT_PARAMS.sample_rate:
        raise ValueError(f"E_A is computed at {DEFAULT_PARAMS.sample_rate} Hz, got {sample_rate} Hz: resample first")
    wave = torch.as_tensor(np.asarray(waveform, dtype=np.float32) if not isinstance(waveform, torch.Tensor)
                           else waveform).float()
    n = DEFAULT_CLIP.num_samples
    wave = F.pad(wave[..., :n], (0, max(0, n - wave.shape[-1])))  # [..., 220500]
    return audio_image(waveform_to_unit(wave, DEFAULT_PARAMS), size)  # [..., 1024, 430] -> [..., H, W]


def video_image(video_embedding: torch.Tensor, size: tuple[int, int] = (512, 512)) -> torch.Tensor:
    """E_V image: E_V [B, T, D] → [B, *size] in [0, 1] (features as rows, frames as columns, bicubic, then min-max
    per image; a constant E_V gives 0.5 everywhere)."""
    from egosonics.models.syncronet import video_embedding_to_hint

    if video_embedding.ndim != 3:
        raise ValueError(f"E_V must be [B, T, D], got shape {tuple(video_embedding.shape)}")
    image = video_embedding_to_hint(video_embedding.float(), tuple(size))[:, 0]  # [B, H, W]
    lo = image.amin(dim=(1, 2), keepdim=True)
    span = image.amax(dim=(1, 2), keepdim=True) - lo
    return torch.where(span > 1e-8, (image - lo) / span.clamp(min=1e-8), torch.full_like(image, 0.5))


def held_frame_indices(num_frames: int, fps: float, source_fps: float = DEFAULT_CLIP.fps) -> np.ndarray:
    """Source frame shown at each of ``num_frames`` frames when the video is sampled at ``fps`` and held:
    ⌊⌊i·fps/source_fps⌋·source_fps/fps⌋ (15 of 30 fps: 0, 0, 2, 2, 4, …; 4 fps: 0 ×8, 7 ×7, 15 ×8, …)."""
    if not 0 < fps <= source_fps:
        raise ValueError(f"fps must be in (0, {source_fps}], got {fps}")
    i = np.arange(num_frames)
    ticks = np.floor(i * fps / source_fps + 1e-9)
    return np.floor(ticks * source_fps / fps + 1e-9).astype(np.int64)


def hold_frames(video_embedding: torch.Tensor, fps: float, source_fps: float = DEFAULT_CLIP.fps) -> torch.Tensor:
    """E_V [..., T, D] at ``source_fps`` as a video at ``fps`` would give it, frames repeated (paper Sec. H)."""
    index = torch.as_tensor(held_frame_indices(video_embedding.shape[-2], fps, source_fps),
                            device=video_embedding.device)
    return video_embedding.index_select(-2, index)


# ------------------------------------------------------------------------------------------------ classifier


class AudioVisualAlignmentClassifier(ModelMixin, ConfigMixin):
    """ViT features of E_A and E_V → 5-layer MLP → p(in sync) ∈ [0, 1] (paper Sec. H; module docstring).

    Args:
        image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, num_classes: the ViT backbone
            (ViT-B/32: 224, 32, 12, 12, 768, 3072, 1000).
        head_widths: widths of the 4 hidden linear layers; a 5th maps to the single output.
        input_size: (rows, columns) of E_A and E_V before the resize to ``image_size`` (512 × 512 at sd21 size).
        freeze_backbone: train only the MLP (the paper), or the backbone too.
        frame_encoder: the frame encoder E_V came from ("pixels", "motion" or "clip-vit-b32"); scoring uses the same.
        clip_dir: the local CLIP folder that encoder used (``clip-vit-b32``), recorded for scoring.
        fps: frame rate of E_V (30).
    """

    @register_to_config
    def __init__(self, image_size: int = 224, patch_size: int = 32, num_layers: int = 12, num_heads: int = 12,
                 hidden_dim: int = 768, mlp_dim: int = 3072, num_classes: int = 1000,
                 head_widths: tuple[int, ...] = (512, 256, 128, 64), input_size: tuple[int, int] = (512, 512),
                 freeze_backbone: bool = True, frame_encoder: str = "pixels", clip_dir: str | None = None,
                 fps: int = DEFAULT_CLIP.fps) -> None:
        super().__init__()
        self.backbone = VisionTransformer(image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim,
                                          num_classes)
        widths = [2 * hidden_dim, *head_widths, 1]
        layers: list[nn.Module] = []
        for i, (w_in, w_out) in enumerate(itertools.pairwise(widths)):
            layers.append(nn.Linear(w_in, w_out))
            if i < len(widths) - 2:
                # He initialisation keeps the signal's scale through the ReLU stack (torch's default shrinks it ~3x
                # a layer, which leaves a 5-layer head predicting a constant early in training).
                nn.init.kaiming_normal_(layers[-1].weight, nonlinearity="relu")
                nn.init.zeros_(layers[-1].bias)
                layers.append(nn.ReLU())
        self.head = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        if freeze_backbone:
            self.backbone.requires_grad_(False)

    @classmethod
    def from_preset(cls, name: str, **overrides) -> AudioVisualAlignmentClassifier:
        """A fresh classifier of preset ``name`` ("sd21" or "tiny"); weights random (load the backbone next)."""
        if name not in ALIGNMENT_PRESETS:
            raise ValueError(f"unknown alignment preset {name!r}; choose from {sorted(ALIGNMENT_PRESETS)}")
        return cls(**{**ALIGNMENT_PRESETS[name], **overrides})

    @classmethod
    def from_vit_b_32(cls, path: str | os.PathLike[str] | None, **overrides) -> AudioVisualAlignmentClassifier:
        """The paper's classifier: ViT-B/32 with torchvision's ImageNet-1k weights from a local file (strict keys;
        sha256 logged), a fresh MLP."""
        model = cls.from_preset("sd21", **overrides)
        load_vit_state_dict(model.backbone, path)
        return model

    def backbone_input(self, image: torch.Tensor) -> torch.Tensor:
        """[B, H, W] in [0, 1] → ImageNet-normalised [B, 3, S, S] (bilinear, antialiased)."""
        if image.ndim != 3:
            raise ValueError(f"images must be [B, H, W], got shape {tuple(image.shape)}")
        size = self.config.image_size
        x = image[:, None].to(self.mean.device, torch.float32)  # [B, 1, H, W]
        if tuple(x.shape[-2:]) != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                              antialias=x.shape[-1] > size or x.shape[-2] > size)
        return ((x.expand(-1, 3, -1, -1) - self.mean) / self.std).to(self.dtype)  # [B, 3, S, S]

    def embed(self, image: torch.Tensor) -> torch.Tensor:
        """f: [B, H, W] in [0, 1] → backbone features [B, hidden_dim]."""
        return self.backbone.features(self.backbone_input(image))

    def forward(self, audio_image: torch.Tensor, video_image: torch.Tensor) -> torch.Tensor:
        """E_A [B, H, W], E_V image [B, H, W] (both in [0, 1]) → p(in sync) [B]."""
        if audio_image.shape[0] != video_image.shape[0]:
            raise ValueError(f"batch sizes differ: {audio_image.shape[0]} audio and {video_image.shape[0]} video "
                             "images")
        both = self.embed(torch.cat([audio_image, video_image.to(audio_image.dtype)]))  # [2B, D], one pass
        f_a, f_v = both.chunk(2)
        return torch.sigmoid(self.head(torch.cat([f_a, f_v], dim=-1))[:, 0].float())  # [B]

    def score(self, spectrogram: torch.Tensor, video_embedding: torch.Tensor) -> torch.Tensor:
        """Convenience: normalised spectrograms [B, 1024, T] and E_V [B, T_v, D] → p(in sync) [B]."""
        size = tuple(self.config.input_size)
        return self(audio_image(spectrogram, size), video_image(video_embedding, size))

    def train(self, mode: bool = True) -> AudioVisualAlignmentClassifier:
        """A frozen backbone stays in eval mode."""
        super().train(mode)
        if self.config.freeze_backbone:
            self.backbone.eval()
        return self


def describe(model: AudioVisualAlignmentClassifier) -> str:
    """One line for logs: backbone size and trainable parameter count."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    c = model.config
    return (f"ViT {c.num_layers}x{c.hidden_dim} patch {c.patch_size} at {c.image_size}px, MLP {list(c.head_widths)}, "
            f"{trainable:,} of {total:,} parameters trained ({math.ceil(100 * trainable / max(total, 1))} %)")
