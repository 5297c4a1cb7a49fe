"""Syncronet (paper Sec. B, Algorithm 1): a ControlNet-style trainable copy of the UNet encoder that reads the video.

Symbols of the paper and their variables here:

    x          noisy latent                         ``sample``             [B, C_lat, H, W]
    E_V        video embedding, one vector a frame  ``video_embedding``    [B, T=300, 512]
    ε(E_V)     conditioning embedding of the hint   ``self.conditioning_embedding(hint)``   [B, C0, H, W]
    h          x after conv_in, plus ε(E_V)         ``h``
    Eq. 1      h = h + SelfAttn(Q_h, K_h, V_h)      ``self.sync_attention`` (self part)
    Eq. 2      h = h + CrossAttn(Q_h, K_V, V_V)     ``self.sync_attention`` (cross part), then a linear layer
    c^n        control signals after zero convs     ``SyncronetOutput`` (12 skip + 1 middle residual at SD size)

The hint image is E_V drawn as an image: features as rows, frames as columns, resized bicubically to ``hint_size``
so that column j lines up with column j of the spectrogram (``conditioning_type="image"``, the paper's ε). The tiny
preset uses ``conditioning_type="temporal"`` instead: E_V resampled to the sample's columns and read by 1-D
convolutions over time with the 512 features as channels, the result repeated over every frequency row, so each
column of the spectrogram sees every feature of its own moment at once (with the image ε, the frequency row r of the
first layer saw only a band of feature rows, and the small model did not learn to use E_V in 1,500 steps).

The copy's transformers attend to the projected E_V tokens (``context ← E_V`` in Algorithm 1). Every output passes a
zero-initialised 1 × 1 convolution, so a freshly built Syncronet changes nothing in the frozen UNet's prediction.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.attention_processor import Attention
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.unets.unet_2d_blocks import UNetMidBlock2D, UNetMidBlock2DCrossAttn, get_down_block
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
from diffusers.utils import BaseOutput
from einops import rearrange
from torch import nn


def zero_module(module: nn.Module) -> nn.Module:
    """Set every parameter of ``module`` to zero (ControlNet's "zero convolution") and return it."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


@dataclass
class SyncronetOutput(BaseOutput):
    """Residuals for the frozen UNet.

    Attributes:
        down_block_res_samples: one per UNet skip connection, in order (12 at SD size: grids 64, 64, 64, 32, 32, 32,
            16, 16, 16, 8, 8, 8 with 320, 320, 320, 320, 640, 640, 640, 1280, 1280, 1280, 1280, 1280 channels).
        mid_block_res_sample: the middle-block residual [B, C_last, H/8, W/8].
    """

    down_block_res_samples: tuple[torch.Tensor, ...]
    mid_block_res_sample: torch.Tensor


@dataclass
class SyncronetCondition:
    """The parts of the Syncronet's input that depend on E_V alone (``Syncronet.encode_condition``): computed once per
    sampling call instead of at every denoising step.

    Attributes:
        hint: ε(E_V), added to conv_in(x) [B, C0, H, W].
        context: E_V tokens projected to the copy's cross-attention width [B, T, cross_attention_dim].
        video_tokens: E_V in the sample's dtype [B, T, video_dim] (keys and values of the sync cross-attention).
    """

    hint: torch.Tensor
    context: torch.Tensor
    video_tokens: torch.Tensor


def video_embedding_to_hint(video_embedding: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """E_V [B, T, D] → hint image [B, 1, rows, cols]: features as rows, frames as columns, bicubic (paper Sec. C)."""
    image = rearrange(video_embedding, "b t d -> b 1 d t")  # [B, 1, 512, 300]
    return F.interpolate(image.float(), size=size, mode="bicubic", align_corners=False).to(video_embedding.dtype)


class ConditioningEmbedding(nn.Module):
    """ε: ControlNet's conditioning encoder (conv, then pairs of conv + strided conv, SiLU, zero conv out).

    With ``stride=(2, 2)`` and four widths it is diffusers' ``ControlNetConditioningEmbedding`` (512² → 64²). Other
    strides let a pixel-space preset shrink only the feature axis, keeping the hint's columns on the time grid.
    """

    def __init__(self, out_channels: int, in_channels: int = 1, widths: tuple[int, ...] = (16, 32, 96, 256),
                 stride: tuple[int, int] = (2, 2)) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, widths[0], kernel_size=3, padding=1)
        self.blocks = nn.ModuleList()
        for c_in, c_out in itertools.pairwise(widths):
            self.blocks.append(nn.Conv2d(c_in, c_in, kernel_size=3, padding=1))
            self.blocks.append(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, stride=stride))
        self.conv_out = zero_module(nn.Conv2d(widths[-1], out_channels, kernel_size=3, padding=1))

    def forward(self, hint: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.conv_in(hint))
        for block in self.blocks:
            h = F.silu(block(h))
        return self.conv_out(h)


class TemporalConditioningEmbedding(nn.Module):
    """ε for ``conditioning_type="temporal"``: E_V [B, T, D] → [B, C0, H, W], the same vector on every row of a column.

    E_V is resampled linearly from T frames to the W columns (the same pixel-centre geometry as the image hint's
    bicubic resize), then 1-D convolutions over time (kernel 3, SiLU) map the D features to ``out_channels``; the last
    convolution starts at zero, as in ControlNet.
    """

    def __init__(self, out_channels: int, video_dim: int, widths: tuple[int, ...] = (64, 64, 64, 64)) -> None:
        super().__init__()
        self.conv_in = nn.Conv1d(video_dim, widths[0], kernel_size=3, padding=1)
        self.blocks = nn.ModuleList(nn.Conv1d(c_in, c_out, kernel_size=3, padding=1)
                                    for c_in, c_out in itertools.pairwise(widths))
        self.conv_out = zero_module(nn.Conv1d(widths[-1], out_channels, kernel_size=3, padding=1))

    def forward(self, video_embedding: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        rows, cols = size
        x = rearrange(video_embedding, "b t d -> b d t")
        x = F.interpolate(x.float(), size=cols, mode="linear", align_corners=False).to(video_embedding.dtype)
        h = F.silu(self.conv_in(x))
        for block in self.blocks:
            h = F.silu(block(h))
        return self.conv_out(h)[:, :, None, :].expand(-1, -1, rows, -1)  # [B, C0, H, W]


class SyncAttention(nn.Module):
    """Eq. 1–2: h = h + SelfAttn(h); h = h + CrossAttn(Q from h; K, V from E_V tokens); then a linear layer.

    ``pool`` average-pools the grid before attending (and repeats the result back), so a small CPU preset can attend
    over time columns instead of every pixel; (1, 1) attends over every position, as the paper does.
    """

    def __init__(self, channels: int, video_dim: int, heads: int, *, self_attention: bool = True,
                 cross_attention: bool = True, pool: tuple[int, int] = (1, 1), norm_groups: int = 32) -> None:
        super().__init__()
        self.pool = tuple(pool)
        self.norm_self = nn.GroupNorm(min(norm_groups, channels), channels) if self_attention else None
        self.self_attn = Attention(channels, heads=heads, dim_head=channels // heads) if self_attention else None
        self.norm_cross = nn.GroupNorm(min(norm_groups, channels), channels) if cross_attention else None
        self.cross_attn = (Attention(channels, cross_attention_dim=video_dim, heads=heads, dim_head=channels // heads)
                           if cross_attention else None)
        self.proj = nn.Linear(channels, channels)

    def forward(self, h: torch.Tensor, video_tokens: torch.Tensor) -> torch.Tensor:
        """h [B, C, H, W], video_tokens [B, T, D] → [B, C, H, W]."""
        if self.self_attn is None and self.cross_attn is None:
            return h
        height, width = h.shape[-2:]
        grid = F.avg_pool2d(h, self.pool) if self.pool != (1, 1) else h  # [B, C, H', W']
        tokens = rearrange(grid, "b c h w -> b (h w) c")
        update = torch.zeros_like(tokens)
        if self.self_attn is not None:
            normed = rearrange(self.norm_self(grid), "b c h w -> b (h w) c")
            update = update + self.self_attn(normed)  # Eq. 1
        if self.cross_attn is not None:
            normed = rearrange(self.norm_cross(grid), "b c h w -> b (h w) c")
            update = update + self.cross_attn(normed, encoder_hidden_states=video_tokens)  # Eq. 2
        update = self.proj(update)  # the linear layer after the attention
        update = rearrange(update, "b (h w) c -> b c h w", h=grid.shape[-2])
        if self.pool != (1, 1):
            update = F.interpolate(update, size=(height, width), mode="nearest")
        return h + update


class Syncronet(ModelMixin, ConfigMixin):
    """The trainable branch of EgoSonics. Build it from a UNet with ``Syncronet.from_unet(unet)``.

    Its hyperparameters are the ``__init__`` arguments (saved with ``save_pretrained``). The UNet-shaped ones mirror
    ``UNet2DConditionModel``; the others:

    Args:
        video_dim: width of E_V (512).
        hint_size: (rows, columns) of the hint image E_V is resized to (512 × 512 at SD size).
        conditioning_type: "image" (ε reads the hint image, the paper) or "temporal" (``TemporalConditioningEmbedding``;
            ``hint_size`` and ``conditioning_stride`` are then unused).
        conditioning_widths, conditioning_stride: ε's channel widths and strides (hint grid → latent grid).
        sync_self_attention, sync_cross_attention: the paper's ablation switches (Eq. 1, Eq. 2).
        sync_heads, sync_pool: heads and grid pooling of the sync attention.
    """

    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(
        self,
        in_channels: int = 4,
        down_block_types: tuple[str, ...] = ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                             "DownBlock2D"),
        mid_block_type: str | None = "UNetMidBlock2DCrossAttn",
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        layers_per_block: int = 2,
        downsample_padding: int = 1,
        mid_block_scale_factor: float = 1.0,
        act_fn: str = "silu",
        norm_num_groups: int = 32,
        norm_eps: float = 1e-5,
        cross_attention_dim: int = 1024,
        transformer_layers_per_block: int | tuple[int, ...] = 1,
        attention_head_dim: int | tuple[int, ...] = (5, 10, 20, 20),
        num_attention_heads: int | tuple[int, ...] | None = None,
        use_linear_projection: bool = True,
        upcast_attention: bool = False,
        resnet_time_scale_shift: str = "default",
        flip_sin_to_cos: bool = True,
        freq_shift: int = 0,
        only_cross_attention: bool | tuple[bool, ...] = False,
        video_dim: int = 512,
        hint_size: tuple[int, int] = (512, 512),
        conditioning_widths: tuple[int, ...] = (16, 32, 96, 256),
        conditioning_stride: tuple[int, int] = (2, 2),
        conditioning_type: str = "image",
        sync_self_attention: bool = True,
        sync_cross_attention: bool = True,
        sync_heads: int = 8,
        sync_pool: tuple[int, int] = (1, 1),
    ) -> None:
        super().__init__()
        n_blocks = len(down_block_types)
        # diffusers' naming quirk: for SD, `attention_head_dim` holds the number of heads.
        heads = num_attention_heads if num_attention_heads is not None else attention_head_dim
        heads = (heads,) * n_blocks if isinstance(heads, int) else tuple(heads)
        head_dims = (attention_head_dim,) * n_blocks if isinstance(attention_head_dim, int) else attention_head_dim
        layers = ((transformer_layers_per_block,) * n_blocks if isinstance(transformer_layers_per_block, int)
                  else tuple(transformer_layers_per_block))
        cross_only = ((only_cross_attention,) * n_blocks if isinstance(only_cross_attention, bool)
                      else only_cross_attention)

        # Time embedding and input convolution: copied from the UNet by `from_unet`.
        self.conv_in = nn.Conv2d(in_channels, block_out_channels[0], kernel_size=3, padding=1)
        time_embed_dim = block_out_channels[0] * 4
        self.time_proj = Timesteps(block_out_channels[0], flip_sin_to_cos, freq_shift)
        self.time_embedding = TimestepEmbedding(block_out_channels[0], time_embed_dim, act_fn=act_fn)

        # ε, the E_V token projection (K, V of the copy's cross-attention) and the sync attention (Eq. 1–2).
        if conditioning_type == "image":
            self.conditioning_embedding = ConditioningEmbedding(block_out_channels[0], 1, tuple(conditioning_widths),
                                                                tuple(conditioning_stride))
        elif conditioning_type == "temporal":
            self.conditioning_embedding = TemporalConditioningEmbedding(block_out_channels[0], video_dim,
                                                                        tuple(conditioning_widths))
        else:
            raise ValueError(f"unknown conditioning_type {conditioning_type!r}; choose from ['image', 'temporal']")
        self.video_proj = nn.Linear(video_dim, cross_attention_dim)
        self.sync_attention = SyncAttention(block_out_channels[0], video_dim, sync_heads,
                                            self_attention=sync_self_attention, cross_attention=sync_cross_attention,
                                            pool=tuple(sync_pool), norm_groups=norm_num_groups)

        # The trainable copy of the encoder and the middle block, each output behind a zero convolution.
        self.down_blocks = nn.ModuleList()
        self.zero_convs = nn.ModuleList([zero_module(nn.Conv2d(block_out_channels[0], block_out_channels[0], 1))])
        channels = block_out_channels[0]
        for i, block_type in enumerate(down_block_types):
            c_in, channels = channels, block_out_channels[i]
            last = i == n_blocks - 1
            self.down_blocks.append(get_down_block(
                block_type, num_layers=layers_per_block, transformer_layers_per_block=layers[i], in_channels=c_in,
                out_channels=channels, temb_channels=time_embed_dim, add_downsample=not last, resnet_eps=norm_eps,
                resnet_act_fn=act_fn, resnet_groups=norm_num_groups, cross_attention_dim=cross_attention_dim,
                num_attention_heads=heads[i],
                attention_head_dim=head_dims[i] if head_dims[i] is not None else channels,
                downsample_padding=downsample_padding, use_linear_projection=use_linear_projection,
                only_cross_attention=cross_only[i], upcast_attention=upcast_attention,
                resnet_time_scale_shift=resnet_time_scale_shift))
            for _ in range(layers_per_block + (0 if last else 1)):
                self.zero_convs.append(zero_module(nn.Conv2d(channels, channels, 1)))
        mid = block_out_channels[-1]
        if mid_block_type == "UNetMidBlock2DCrossAttn":
            self.mid_block = UNetMidBlock2DCrossAttn(
                transformer_layers_per_block=layers[-1], in_channels=mid, temb_channels=time_embed_dim,
                resnet_eps=norm_eps, resnet_act_fn=act_fn, output_scale_factor=mid_block_scale_factor,
                resnet_time_scale_shift=resnet_time_scale_shift, cross_attention_dim=cross_attention_dim,
                num_attention_heads=heads[-1], resnet_groups=norm_num_groups,
                use_linear_projection=use_linear_projection, upcast_attention=upcast_attention)
        elif mid_block_type == "UNetMidBlock2D":
            self.mid_block = UNetMidBlock2D(in_channels=mid, temb_channels=time_embed_dim, resnet_eps=norm_eps,
                                            resnet_act_fn=act_fn, output_scale_factor=mid_block_scale_factor,
                                            resnet_groups=norm_num_groups, add_attention=False,
                                            resnet_time_scale_shift=resnet_time_scale_shift)
        else:
            raise ValueError(f"unknown mid_block_type {mid_block_type!r}; "
                             "choose from ['UNetMidBlock2DCrossAttn', 'UNetMidBlock2D']")
        self.zero_mid = zero_module(nn.Conv2d(mid, mid, 1))
        self.gradient_checkpointing = False

    _UNET_KEYS = ("in_channels", "down_block_types", "mid_block_type", "block_out_channels", "layers_per_block",
                  "downsample_padding", "mid_block_scale_factor", "act_fn", "norm_num_groups", "norm_eps",
                  "cross_attention_dim", "transformer_layers_per_block", "attention_head_dim", "num_attention_heads",
                  "use_linear_projection", "upcast_attention", "resnet_time_scale_shift", "flip_sin_to_cos",
                  "freq_shift", "only_cross_attention")

    @classmethod
    def from_unet(cls, unet: UNet2DConditionModel, *, load_weights_from_unet: bool = True, **kwargs) -> Syncronet:
        """Copy the UNet's configuration and (by default) its encoder, middle block, conv_in and time embedding.

        ``kwargs`` set the Syncronet-only arguments (``video_dim``, ``hint_size``, ``sync_*``, ...).
        """
        config = {key: unet.config[key] for key in cls._UNET_KEYS if key in unet.config}
        model = cls(**config, **kwargs)
        if load_weights_from_unet:
            model.conv_in.load_state_dict(unet.conv_in.state_dict())
            model.time_proj.load_state_dict(unet.time_proj.state_dict())
            model.time_embedding.load_state_dict(unet.time_embedding.state_dict())
            model.down_blocks.load_state_dict(unet.down_blocks.state_dict())
            model.mid_block.load_state_dict(unet.mid_block.state_dict())
        return model

    def rebuilt_from(self, unet: UNet2DConditionModel) -> Syncronet:
        """A fresh Syncronet with this one's own settings, copied from ``unet`` (call it after the UNet was trained:
        ControlNet's branch starts as a copy of the encoder it will steer, not of its random initialisation)."""
        own = {k: v for k, v in self.config.items() if k not in self._UNET_KEYS and not k.startswith("_")}
        return type(self).from_unet(unet, **own).to(device=self.device, dtype=self.dtype)

    def encode_condition(self, video_embedding: torch.Tensor, size: tuple[int, int],
                         dtype: torch.dtype | None = None) -> SyncronetCondition:
        """ε(E_V) on a (rows, columns) latent grid and the projected E_V tokens: what ``forward`` needs from E_V.

        Neither depends on the noisy sample or the timestep, so a sampler computes them once and passes them to every
        step (``forward(..., condition=...)``); the result is the same as recomputing them.
        """
        dtype = dtype or self.dtype
        ev = video_embedding.to(dtype)
        if self.config.conditioning_type == "temporal":
            hint = self.conditioning_embedding(ev, tuple(size))
        else:
            hint = self.conditioning_embedding(video_embedding_to_hint(ev, tuple(self.config.hint_size)))
        return SyncronetCondition(hint=hint, context=self.video_proj(ev), video_tokens=ev)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor | int, video_embedding: torch.Tensor | None = None,
                conditioning_scale: float = 1.0, *, condition: SyncronetCondition | None = None) -> SyncronetOutput:
        """Algorithm 1: control signals for the frozen UNet.

        Args:
            sample: noisy latent x [B, C_lat, H, W].
            timestep: diffusion step, scalar or [B].
            video_embedding: E_V [B, T, video_dim], or
            condition: ``encode_condition(E_V, sample grid)`` computed beforehand (the same result, faster in a loop).
            conditioning_scale: multiplies every residual.

        Returns:
            ``SyncronetOutput`` with one residual per UNet skip connection and the middle residual.
        """
        if (video_embedding is None) == (condition is None):
            raise ValueError("give exactly one of video_embedding or condition")
        # 1. Time embedding (lines 1–2).
        timesteps = torch.as_tensor(timestep, device=sample.device)
        timesteps = timesteps.reshape(-1).expand(sample.shape[0])
        emb = self.time_embedding(self.time_proj(timesteps).to(sample.dtype))  # [B, 4 C0]
        # 2. ε(E_V) and the E_V tokens projected to the copy's cross-attention width (line 3); E_V only.
        if condition is None:
            condition = self.encode_condition(video_embedding, tuple(sample.shape[-2:]), sample.dtype)
        context = condition.context  # [B, T, cross_attention_dim]
        # 3. h = conv_in(x) + ε(E_V), then the sync attention (lines 4–11, Eq. 1–2).
        h = self.conv_in(sample) + condition.hint  # [B, C0, H, W]
        h = self.sync_attention(h, condition.video_tokens)
        # 4. The encoder copy; each block output goes through its zero convolution (lines 7–21).
        residuals = [h]
        for block in self.down_blocks:
            if getattr(block, "has_cross_attention", False):
                h, res = block(hidden_states=h, temb=emb, encoder_hidden_states=context)
            else:
                h, res = block(hidden_states=h, temb=emb)
            residuals.extend(res)
        # 5. Middle block (lines 22–23).
        if getattr(self.mid_block, "has_cross_attention", False):
            h = self.mid_block(h, emb, encoder_hidden_states=context)
        else:
            h = self.mid_block(h, emb)
        down = tuple(conv(r) * conditioning_scale for conv, r in zip(self.zero_convs, residuals, strict=True))
        return SyncronetOutput(down_block_res_samples=down, mid_block_res_sample=self.zero_mid(h) * conditioning_scale)
