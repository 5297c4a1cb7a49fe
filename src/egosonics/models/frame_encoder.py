"""Frame encoders: video frames → E_V, one 512-d vector per frame (paper Sec. C).

Both take uint8 RGB frames [B, T, H, W, 3] (a batch of windows, frames in time order) and return E_V [B, T, 512]:

* ``clip-vit-b32``: CLIP ViT-B/32 image embeddings (transformers' ``CLIPVisionModelWithProjection``), L2-normalised.
  Weights come from a local folder (``ClipFrameEncoder.from_clip_folder``); preprocessing runs in torch on whole
  batches (resize the short side to 224 bicubically, centre-crop, normalise).
* ``pixels``: weight-free. A 16 × 16 grey thumbnail and its difference from the previous frame, so both what is seen
  and when it moves survive. Used by the ``tiny`` preset and the tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from einops import rearrange

from egosonics.errors import EgoSonicsError

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def _as_float_frames(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] → float [B*T, 3, H, W] in [0, 1]."""
    if frames.ndim != 5 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be [B, T, H, W, 3], got shape {tuple(frames.shape)}")
    return rearrange(frames, "b t h w c -> (b t) c h w").float() / 255.0


class PixelFrameEncoder(ModelMixin, ConfigMixin):
    """Weight-free E_V: grey thumbnail (``thumb``² values in [-1, 1]) + scaled difference from the previous frame.

    Args:
        thumb: thumbnail side; the output width is 2 · thumb² (512 for 16).
        motion_gain: multiplies the frame difference before clipping to [-1, 1], so small motions register.
        input_size: the frame size to decode at (square, centre-cropped).
    """

    @register_to_config
    def __init__(self, thumb: int = 16, motion_gain: float = 4.0, input_size: int = 64) -> None:
        super().__init__()
        # A buffer so the model has a device and dtype, and a (tiny) state dict to save.
        self.register_buffer("grey_weights", torch.tensor([0.299, 0.587, 0.114]))

    @property
    def embedding_dim(self) -> int:
        return 2 * self.config.thumb ** 2

    @torch.no_grad()
    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames [B, T, H, W, 3] → E_V [B, T, 2 · thumb²]."""
        batch = frames.shape[0]
        x = _as_float_frames(frames.to(self.grey_weights.device))  # [B*T, 3, H, W]
        grey = torch.einsum("nchw,c->nhw", x, self.grey_weights)[:, None]  # [B*T, 1, H, W]
        thumb = F.adaptive_avg_pool2d(grey, self.config.thumb)  # [B*T, 1, s, s]
        thumb = rearrange(thumb, "(b t) 1 h w -> b t (h w)", b=batch)
        motion = torch.diff(thumb, dim=1, prepend=thumb[:, :1])  # 0 for the first frame
        motion = (motion * self.config.motion_gain).clamp(-1, 1)
        return torch.cat([thumb * 2 - 1, motion], dim=-1).to(self.dtype)


class ClipFrameEncoder(ModelMixin, ConfigMixin):
    """CLIP ViT-B/32 image embeddings, L2-normalised, computed in batches.

    Args:
        clip_config: the ``CLIPVisionConfig`` as a dict (``from_clip_folder`` fills it in).
        batch_size: frames per forward pass.
    """

    @register_to_config
    def __init__(self, clip_config: dict[str, Any] | None = None, batch_size: int = 64) -> None:
        super().__init__()
        from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

        self.model = CLIPVisionModelWithProjection(CLIPVisionConfig(**(clip_config or {})))
        self.model.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def embedding_dim(self) -> int:
        return self.model.config.projection_dim

    @property
    def input_size(self) -> int:
        return self.model.config.image_size

    @classmethod
    def from_clip_folder(cls, path: str | os.PathLike[str], *, batch_size: int = 64) -> ClipFrameEncoder:
        """Load CLIP weights from a local transformers folder (config.json + model.safetensors), never the network."""
        from transformers import CLIPVisionModelWithProjection

        folder = Path(path)
        if not (folder / "config.json").is_file():
            raise EgoSonicsError(f"{folder}: not a CLIP model folder (config.json missing); give a local copy of "
                                 "openai/clip-vit-base-patch32 (transformers format)")
        try:
            clip = CLIPVisionModelWithProjection.from_pretrained(folder, local_files_only=True)
        except OSError as exc:
            raise EgoSonicsError(f"{folder}: cannot load CLIP weights ({exc})") from None
        encoder = cls(clip_config=clip.config.to_dict(), batch_size=batch_size)
        encoder.model.load_state_dict(clip.state_dict())
        return encoder

    def preprocess(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 [B, T, H, W, 3] → normalised pixels [B*T, 3, 224, 224] (CLIP's resize, crop and normalisation)."""
        x = _as_float_frames(frames.to(self.mean.device))
        size = self.input_size
        h, w = x.shape[-2:]
        if (h, w) != (size, size):
            scale = size / min(h, w)
            x = F.interpolate(x, size=(max(size, round(h * scale)), max(size, round(w * scale))), mode="bicubic",
                              align_corners=False, antialias=True).clamp(0, 1)
            top, left = (x.shape[-2] - size) // 2, (x.shape[-1] - size) // 2
            x = x[..., top:top + size, left:left + size]
        return ((x - self.mean) / self.std).to(self.dtype)

    @torch.no_grad()
    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames [B, T, H, W, 3] → E_V [B, T, 512], each row of unit length."""
        batch = frames.shape[0]
        pixels = self.preprocess(frames)  # [B*T, 3, 224, 224]
        chunks = [self.model(pixel_values=pixels[i:i + self.config.batch_size]).image_embeds
                  for i in range(0, pixels.shape[0], self.config.batch_size)]
        embeds = F.normalize(torch.cat(chunks).float(), dim=-1)  # [B*T, 512]
        return rearrange(embeds, "(b t) d -> b t d", b=batch).to(self.dtype)

    def train(self, mode: bool = True) -> ClipFrameEncoder:
        """The encoder is frozen: it stays in eval mode."""
        return super().train(False)


FRAME_ENCODERS = {"pixels": PixelFrameEncoder, "clip-vit-b32": ClipFrameEncoder}


def frame_input_size(encoder: PixelFrameEncoder | ClipFrameEncoder) -> int:
    """The square size frames should be decoded at (centre-cropped) for this encoder."""
    if isinstance(encoder, ClipFrameEncoder):
        return encoder.input_size
    return int(encoder.config.input_size)
