"""What each component trains, from which starting point, and with which loss.

| component     | trained module    | loss (paper)                                                | frozen            |
|---------------|-------------------|-------------------------------------------------------------|-------------------|
| base          | unet              | ‖ε − ε_θ(x_t, t, c_text)‖² (the tiny preset's own UNet)     | —                 |
| syncronet     | syncronet         | ‖ε − ε_θ(x_t, t, c_t, Syncronet(x_t, t, E_V))‖² (Sec. B, C)  | unet, vae         |
| superres      | superres          | MSE(SR(down(S)), S) on 1024 × 512 spectrograms (Sec. E)     | —                 |
| video-to-text | video_to_text     | MSE(MLP(E_V), c_text) (Sec. G)                              | —                 |
| alignment     | the classifier    | MSE(p(in sync), label) on 50/25/25 pairs (Sec. H)           | ViT backbone      |
| vocoder       | the vocoder       | multi-resolution STFT + mel L1 on audio crops (not paper)   | —                 |

The alignment classifier lives outside the pipeline: its task (``training/alignment.py``) has no ``pipe``, builds its
own model, trains on all shards but a held-out ``⌈20 %⌉``, and ``finish`` writes the held-out accuracy.

Noise, timesteps and condition dropping are drawn per sample from a generator seeded by (run seed, micro-step,
position in the global batch): the same sample gets the same noise on one process or many, and after a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from egosonics.errors import EgoSonicsError
from egosonics.models.text_encoder import HashTextEncoder, SDTextEncoder
from egosonics.pipeline import EgoSonicsPipeline
from egosonics.preprocess.shards import ShardDataset
from egosonics.spectrogram.transform import to_model_image, to_superres_image
from egosonics.training.config import TrainConfig
from egosonics.training.diffusion import diffusion_loss, set_trainable

log = logging.getLogger(__name__)

TRAINED_MODULE = {"base": "unet", "syncronet": "syncronet", "superres": "superres", "video-to-text": "video_to_text",
                  "alignment": "alignment", "vocoder": "vocoder"}


def build_pipeline(config: TrainConfig) -> EgoSonicsPipeline:
    """The starting pipeline: ``init_model`` if given, else a fresh preset (``sd21`` from local weights)."""
    if config.init_model:
        return EgoSonicsPipeline.from_pretrained(config.init_model)
    if config.preset == "sd21":
        if not (config.sd_dir and config.clip_dir):
            raise EgoSonicsError("the sd21 preset needs sd_dir and clip_dir (local Stable Diffusion 2.1-base and CLIP "
                                 "ViT-B/32 folders)")
        return EgoSonicsPipeline.from_sd21(config.sd_dir, config.clip_dir, seed=config.seed)
    if config.component != "base":
        log.warning("training %s on a fresh %s preset: its base UNet is untrained (train 'base' first and pass its "
                    "model/ folder as init_model)", config.component, config.preset)
    return EgoSonicsPipeline.from_preset(config.preset, seed=config.seed)


def build_text_encoder(config: TrainConfig, pipe: EgoSonicsPipeline):
    """Narration → c_text: Stable Diffusion's own text encoder for sd21, the weight-free hash encoder otherwise."""
    if pipe.config.preset == "sd21" or (pipe.vae is not None and config.sd_dir):
        if not config.sd_dir:
            raise EgoSonicsError("sd21 training needs sd_dir for Stable Diffusion's text encoder")
        return SDTextEncoder(config.sd_dir)
    return HashTextEncoder(pipe.unet.config.cross_attention_dim, pipe.video_to_text.config.num_tokens)


def sample_generators(seed: int, micro_step: int, positions: list[int]) -> list[torch.Generator]:
    """One generator per sample, seeded by (run seed, micro-step, global position)."""
    return [torch.Generator().manual_seed((seed * 1_000_003 + micro_step) * 65_537 + p) for p in positions]


@dataclass
class Task:
    """A component's training: which module learns, and its loss on a batch."""

    config: TrainConfig
    pipe: EgoSonicsPipeline
    text_encoder: Any

    @property
    def module_name(self) -> str:
        return TRAINED_MODULE[self.config.component]

    @property
    def module(self) -> torch.nn.Module:
        return getattr(self.pipe, self.module_name)

    def train_dataset(self) -> ShardDataset:
        """The samples to train on: every prepared shard."""
        return ShardDataset(self.config.data)

    def before_save(self) -> None:
        """Called on the main process before the final pipeline is written. After ``base``, Syncronet is rebuilt as a
        copy of the trained UNet's encoder (it was copied from the untrained one when the preset was built)."""
        if self.config.component == "base":
            self.pipe.syncronet = self.pipe.syncronet.rebuilt_from(self.pipe.unet)

    def finish(self, model: torch.nn.Module, final: Path) -> None:
        """Called on the main process once ``final`` is written (the pipeline components have nothing to add)."""

    def freeze(self) -> None:
        set_trainable(self.pipe, (self.module_name,))
        if self.pipe.config.preset == "sd21" and self.config.component == "base":
            raise EgoSonicsError("'base' trains the tiny preset's own UNet; sd21 uses Stable Diffusion's "
                                 "pretrained one")

    def loss(self, batch: dict[str, Any], generators: list[torch.Generator],
             model: torch.nn.Module) -> torch.Tensor:
        """The component's loss on one micro-batch; ``model`` is the (possibly DDP-wrapped) trained module."""
        pipe, params = self.pipe, self.pipe.spectrogram_params
        device = pipe.device
        spec = batch["spec"].to(device)  # [B, 1024, 430]
        component = self.config.component
        if component == "superres":
            low = to_model_image(spec, params)[:, None]  # [B, 1, F, T]
            high = to_superres_image(spec, params)[:, None]  # [B, 1, 1024, 512]
            return F.mse_loss(model(low), high)
        texts = [m.get("narration", "") for m in batch["meta"]]
        text_context = self.text_encoder(texts).to(device)  # [B, N, D]
        ev = batch["ev"].to(device)  # [B, 300, 512]
        if component == "video-to-text":
            return F.mse_loss(model(ev), text_context)
        # Diffusion components: ControlNet's loss with per-sample noise, timestep and condition drop.
        images = to_model_image(spec, params)[:, None]  # [B, 1, F, T]
        drop = self.config.condition_drop_prob
        if component == "base":
            return diffusion_loss(pipe, images, ev, generators=generators, drop_prob=drop, context=text_context,
                                  unet=model, control=False)
        context = text_context if self.config.context == "text" else None
        return diffusion_loss(pipe, images, ev, generators=generators, drop_prob=drop, context=context,
                              syncronet=model)


def make_task(config: TrainConfig) -> Task:
    if config.component == "alignment":
        from egosonics.training.alignment import AlignmentTask

        task = AlignmentTask.build(config)
        task.freeze()
        return task  # type: ignore[return-value]  # the same interface, without a pipeline
    if config.component == "vocoder":
        from egosonics.training.vocoder import VocoderTask

        task = VocoderTask.build(config)
        task.freeze()
        return task  # type: ignore[return-value]  # trained on audio alone, without a pipeline
    pipe = build_pipeline(config)
    task = Task(config=config, pipe=pipe, text_encoder=None)
    task.freeze()
    if config.component != "superres":
        task.text_encoder = build_text_encoder(config, pipe)
    return task
