"""The video→text MLP (paper Sec. G): normalised E_V → c_t, the frozen UNet's cross-attention context.

Choice of width: the paper's MLP outputs a 512-d vector, but Stable Diffusion 2.1 attends to 1024-d tokens (its OpenCLIP
ViT-H text encoder), so a 512-d output could not be fed to it. The MLP therefore outputs tokens of the UNet's own
``cross_attention_dim`` (1024 for ``sd21``, 64 for ``tiny``). It also outputs several tokens, not one: E_V is
average-pooled over time into ``num_tokens`` segments (77, SD's text length) and each segment goes through the same two
layers, so the context keeps a coarse timeline.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from einops import rearrange
from torch import nn


class VideoToText(ModelMixin, ConfigMixin):
    """Two linear layers with a GELU between them, applied to time-pooled, L2-normalised E_V.

    Args:
        video_dim: width of E_V (512).
        context_dim: width of the UNet's cross-attention tokens (its ``cross_attention_dim``).
        num_tokens: tokens of the output context.
        hidden_dim: width of the hidden layer.
    """

    @register_to_config
    def __init__(self, video_dim: int = 512, context_dim: int = 1024, num_tokens: int = 77,
                 hidden_dim: int = 1024) -> None:
        super().__init__()
        self.fc1 = nn.Linear(video_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, context_dim)

    def forward(self, video_embedding: torch.Tensor) -> torch.Tensor:
        """E_V [B, T, video_dim] → c_t [B, num_tokens, context_dim]."""
        pooled = F.adaptive_avg_pool1d(rearrange(video_embedding, "b t d -> b d t"), self.config.num_tokens)
        tokens = F.normalize(rearrange(pooled, "b d n -> b n d"), dim=-1)  # [B, N, D], the "normalised E_V"
        return self.fc2(F.gelu(self.fc1(tokens)))
