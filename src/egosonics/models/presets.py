"""Model presets: ``sd21`` (Stable Diffusion 2.1-base size, paper) and ``tiny`` (the same classes at toy size, CPU).

A preset names the architecture of every part; weights come from training (``tiny``) or from local Stable Diffusion
2.1-base and CLIP ViT-B/32 folders (``sd21``, see ``EgoSonicsPipeline.from_sd21``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from egosonics.spectrogram.params import SpectrogramParams

# stabilityai/stable-diffusion-2-1-base, unet/config.json (865,910,724 parameters).
SD21_UNET: dict[str, Any] = {
    "sample_size": 64, "in_channels": 4, "out_channels": 4, "center_input_sample": False,
    "flip_sin_to_cos": True, "freq_shift": 0,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "mid_block_type": "UNetMidBlock2DCrossAttn", "only_cross_attention": False,
    "block_out_channels": [320, 640, 1280, 1280], "layers_per_block": 2, "downsample_padding": 1,
    "mid_block_scale_factor": 1, "act_fn": "silu", "norm_num_groups": 32, "norm_eps": 1e-5,
    "cross_attention_dim": 1024, "attention_head_dim": [5, 10, 20, 20], "use_linear_projection": True,
    "upcast_attention": False, "dual_cross_attention": False, "resnet_time_scale_shift": "default",
}

# stabilityai/stable-diffusion-2-1-base, vae/config.json (83,653,863 parameters).
SD21_VAE: dict[str, Any] = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 4, "sample_size": 512,
    "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "act_fn": "silu",
    "norm_num_groups": 32, "scaling_factor": 0.18215,
}

# A pixel-space UNet: the spectrogram image itself is the sample (no VAE). Attention only at the lowest level.
TINY_UNET: dict[str, Any] = {
    "sample_size": (32, 256), "in_channels": 1, "out_channels": 1, "flip_sin_to_cos": True, "freq_shift": 0,
    "down_block_types": ["DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"],
    "mid_block_type": "UNetMidBlock2DCrossAttn",
    "block_out_channels": [32, 64, 64], "layers_per_block": 1, "norm_num_groups": 8,
    "cross_attention_dim": 64, "attention_head_dim": 4, "use_linear_projection": True,
}


@dataclass(frozen=True)
class Preset:
    """Everything that fixes the architecture of a pipeline.

    Attributes:
        name: "sd21", "tiny", "tiny-motion", "tiny-onset", "tiny-power", "tiny-motion-power" or "tiny-onset-power".
        unet: ``UNet2DConditionModel`` config.
        vae: ``AutoencoderKL`` config, or None for a pixel-space model.
        syncronet: ``Syncronet.from_unet`` keyword arguments.
        video_to_text: ``VideoToText`` keyword arguments (the output width is the UNet's cross-attention width).
        superres: ``SpectrogramSuperResolution`` keyword arguments.
        spectrogram: the spectrogram parameters; ``model_size`` is the image the diffusion model makes.
        frame_encoder: "clip-vit-b32", "pixels" or "motion" (``models/frame_encoder.py``).
        prediction_type: what the UNet predicts: "epsilon" (Stable Diffusion 2.1-base) or "v_prediction".
        pixel_norm: (mean, std) that standardise a pixel-space model's spectrogram image into its sample; (0.5, 0.5)
            is the plain [0, 1] → [-1, 1] map. Unused with a VAE (its ``scaling_factor`` does the job).
    """

    name: str
    unet: dict[str, Any]
    vae: dict[str, Any] | None
    syncronet: dict[str, Any]
    video_to_text: dict[str, Any]
    superres: dict[str, Any]
    spectrogram: SpectrogramParams = field(default_factory=SpectrogramParams)
    frame_encoder: str = "clip-vit-b32"
    prediction_type: str = "epsilon"
    pixel_norm: tuple[float, float] = (0.5, 0.5)


PRESETS: dict[str, Preset] = {
    "sd21": Preset(
        name="sd21",
        unet=SD21_UNET,
        vae=SD21_VAE,
        syncronet={"hint_size": (512, 512), "conditioning_widths": (16, 32, 96, 256), "conditioning_stride": (2, 2),
                   "sync_heads": 8},
        video_to_text={"num_tokens": 77, "hidden_dim": 1024},
        superres={"channels": (16, 32, 64, 64, 32)},
        spectrogram=SpectrogramParams(),
        frame_encoder="clip-vit-b32",
    ),
    "tiny": Preset(
        name="tiny",
        unet=TINY_UNET,
        vae=None,
        # E_V (300 frames × 512 features) → 256 columns, 1-D convolutions over time, repeated over the 32 rows.
        syncronet={"conditioning_type": "temporal", "conditioning_widths": (64, 64, 64, 64), "sync_heads": 4,
                   "sync_pool": (32, 1)},
        video_to_text={"num_tokens": 8, "hidden_dim": 128},
        superres={"channels": (8, 16, 16, 16, 8)},
        spectrogram=SpectrogramParams(model_size=(32, 256)),
        frame_encoder="pixels",
        # Spectrogram images are mostly dark (mean 0.129, std 0.129 on the synthesized training scenes): mapped to
        # [-1, 1] their signal was 1/15 of the noise power the schedule assumes, so where events sit was decided at
        # low noise levels only, where the ε loss barely rewards it. Standardising the image and predicting v (whose
        # loss weighs the high-noise steps more) is one of the three changes that made Syncronet use E_V, with the
        # temporal ε above and starting Syncronet from the trained UNet (docs/MODELS.md).
        prediction_type="v_prediction",
        pixel_norm=(0.13, 0.13),
    ),
}
# ``tiny`` with the weight-free ``motion`` frame encoder (optical flow with the camera's motion separated, 512-d): for
# new tiny models (``preset: tiny-motion`` in a training config, ``egosonics prepare --encoder motion``). The shipped
# default model was trained with ``pixels`` and stays on ``tiny``.
PRESETS["tiny-motion"] = replace(PRESETS["tiny"], name="tiny-motion", frame_encoder="motion")
# ``tiny-motion`` whose E_V carries an onset track (``motion-onset``): its head is trained on real clips
# (scripts/train_onset_head.py), its generator on shards whose track comes from each target's own audio.
PRESETS["tiny-onset"] = replace(PRESETS["tiny"], name="tiny-onset", frame_encoder="motion-onset")
# ``tiny`` whose 32 frequency rows hold the mean power of their 32 bins instead of the mean of their dB values, so
# that a narrow ringing tone is not buried by its quiet neighbours (``SpectrogramParams.freq_pooling``; impacts heard
# as impacts through the image: 8 of 10 instead of 0). Its images are brighter: standardised by their own statistics
# (mean 0.152, std 0.140 on synthesized easy scenes, against 0.129 and 0.128 with dB means).
PRESETS["tiny-power"] = replace(PRESETS["tiny"], name="tiny-power", pixel_norm=(0.15, 0.14),
                                spectrogram=SpectrogramParams(model_size=(32, 256), freq_pooling="power"))
# The motion and onset-track trials' presets on power rows (their generators start from the shipped tiny-power model).
PRESETS["tiny-motion-power"] = replace(PRESETS["tiny-power"], name="tiny-motion-power", frame_encoder="motion")
PRESETS["tiny-onset-power"] = replace(PRESETS["tiny-power"], name="tiny-onset-power", frame_encoder="motion-onset")


def get_preset(name: str) -> Preset:
    """The preset called ``name``; unknown names raise with the list of choices."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name]
