"""Spectrogram super-resolution CNN (paper Sec. E): model image → 1024 frequency rows × 512 time columns.

Convolutions with 16, 32, 64, 64, 32 and 1 output filters, each hidden one followed by ReLU and BatchNorm, and a
sigmoid at the end keep values in [0, 1]. The input is first resized to the output grid (bilinear), and the network
predicts a correction in logit space of that resized image, so an untrained network starts as plain interpolation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class SpectrogramSuperResolution(ModelMixin, ConfigMixin):
    """Args:
    channels: output filters of the hidden convolutions (the paper: 16, 32, 64, 64, 32; a final one has 1).
    output_size: (frequency rows, time columns) of the output.
    kernel_size: convolution size.
    residual: predict a logit-space correction of the bilinear upsampling (True) or the image itself (False).
    """

    @register_to_config
    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 64, 32), output_size: tuple[int, int] = (1024, 512),
                 kernel_size: int = 3, residual: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for c_out in channels:
            layers += [nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2), nn.ReLU(), nn.BatchNorm2d(c_out)]
            c_in = c_out
        layers.append(nn.Conv2d(c_in, 1, kernel_size, padding=kernel_size // 2))
        self.net = nn.Sequential(*layers)
        if residual:  # start as the identity on top of interpolation
            nn.init.zeros_(layers[-1].weight)
            nn.init.zeros_(layers[-1].bias)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """[B, 1, F_in, T_in] in [0, 1] → [B, 1, 1024, 512] in (0, 1)."""
        up = F.interpolate(image, size=tuple(self.config.output_size), mode="bilinear", align_corners=False)
        out = self.net(up)
        if self.config.residual:
            out = out + torch.logit(up.clamp(1e-4, 1 - 1e-4))
        return torch.sigmoid(out)
