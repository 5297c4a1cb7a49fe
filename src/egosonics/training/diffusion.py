"""What training a part of the pipeline needs: which parts learn, and the diffusion loss (paper Sec. C)."""

from __future__ import annotations

import torch

from egosonics.errors import EgoSonicsError
from egosonics.pipeline import COMPONENTS, EgoSonicsPipeline


def set_trainable(pipe: EgoSonicsPipeline, names: tuple[str, ...] = ("syncronet", "video_to_text")) -> list[str]:
    """Freeze every component but ``names`` (train mode for those, eval for the rest); returns the trainable names."""
    for name in COMPONENTS:
        module = getattr(pipe, name, None)
        if module is None:
            continue
        trainable = name in names
        module.requires_grad_(trainable)
        module.train(trainable)
    return [n for n in names if getattr(pipe, n, None) is not None]


def diffusion_loss(pipe: EgoSonicsPipeline, images: torch.Tensor, video_embedding: torch.Tensor, *,
                   generators: list[torch.Generator], drop_prob: float = 0.0, context: torch.Tensor | None = None,
                   syncronet: torch.nn.Module | None = None, unet: torch.nn.Module | None = None,
                   control: bool = True) -> torch.Tensor:
    """ControlNet's loss (paper Sec. C): ‖ε − ε_θ(x_t, t, c_t, Syncronet(x_t, t, E_V))‖², mean over elements.

    With a ``v_prediction`` scheduler the target is v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 instead of ε.

    Noise, timestep and condition drop are drawn per sample from ``generators`` (one each), so a sample gets the
    same draws on one process or many and after a restart. The training tasks and the tests both use this function.

    Args:
        images: spectrogram images [B, 1, F, T] in [0, 1] at the model resolution.
        video_embedding: E_V [B, T, 512].
        generators: one per sample.
        drop_prob: probability of training a sample without its condition (E_V and c_t set to zeros), for
            classifier-free guidance.
        context: c_t [B, N, D] to use (e.g. the narration's text embedding); None uses the MLP's prediction.
        syncronet, unet: the modules to call (e.g. DDP-wrapped); default the pipeline's own.
        control: False trains the base UNet alone (no Syncronet residuals).
    """
    device = pipe.device
    with torch.no_grad():
        x0 = pipe.image_to_sample(images.to(device))  # [B, C, h, w]
    steps = pipe.scheduler.config.num_train_timesteps
    noise = torch.stack([torch.randn(x0.shape[1:], generator=g) for g in generators]).to(device, x0.dtype)
    timesteps = torch.stack([torch.randint(0, steps, (), generator=g) for g in generators]).to(device)
    drop = torch.stack([torch.rand((), generator=g) < drop_prob for g in generators]).to(device)
    x_t = pipe.scheduler.add_noise(x0, noise, timesteps)
    if pipe.scheduler.config.prediction_type == "v_prediction":
        target = pipe.scheduler.get_velocity(x0, noise, timesteps)
    elif pipe.scheduler.config.prediction_type == "epsilon":
        target = noise
    else:
        raise EgoSonicsError(f"prediction_type {pipe.scheduler.config.prediction_type!r} is not supported; "
                             "use 'epsilon' or 'v_prediction'")
    unet = unet if unet is not None else pipe.unet
    unet_dtype = pipe.unet.dtype
    ev = video_embedding.to(device)
    ev = torch.where(drop[:, None, None], torch.zeros_like(ev), ev)
    context = pipe.video_to_text(ev) if context is None else context.to(device)
    context = torch.where(drop[:, None, None], torch.zeros_like(context), context).to(unet_dtype)
    if not control:
        pred = unet(x_t, timesteps, encoder_hidden_states=context).sample
        return torch.nn.functional.mse_loss(pred.float(), target.float())
    syncronet = syncronet if syncronet is not None else pipe.syncronet
    residuals = syncronet(x_t.to(pipe.syncronet.dtype), timesteps, ev)
    pred = unet(x_t.to(unet_dtype), timesteps, encoder_hidden_states=context,
                down_block_additional_residuals=[r.to(unet_dtype) for r in residuals.down_block_res_samples],
                mid_block_additional_residual=residuals.mid_block_res_sample.to(unet_dtype)).sample
    return torch.nn.functional.mse_loss(pred.float(), target.float())
