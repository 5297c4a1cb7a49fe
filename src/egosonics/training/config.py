"""``TrainConfig``: one training run, read from YAML (``configs/``) and recorded, resolved, beside its outputs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from egosonics.errors import EgoSonicsError

COMPONENTS = ("base", "syncronet", "superres", "video-to-text", "alignment", "vocoder")

# Paper defaults: AdamW 1e-4 (Syncronet, Sec. C), Adam 1e-3 (super-resolution, Sec. E), Adam (MLP, Sec. G),
# Adam 1e-4 (alignment classifier, Sec. H); the learned vocoder (not in the paper) Adam 1e-3.
DEFAULT_LR = {"base": 2e-4, "syncronet": 1e-4, "superres": 1e-3, "video-to-text": 1e-4, "alignment": 1e-4,
              "vocoder": 1e-3}


@dataclass
class TrainConfig:
    """Attributes:
    component: what to train: base (the tiny preset's own UNet), syncronet, superres, video-to-text, alignment (the
        Alignment Score classifier; it lives outside the pipeline, see ``training/alignment.py``), vocoder (the
        learned vocoder, trained on audio alone, see ``training/vocoder.py``).
    data: prepared shards (the ``prepare`` output folder, its ``shards/``, or a glob of .tar files).
    output_dir: checkpoints, logs, validation outputs and the final ``model/`` folder.
    preset: architecture when starting fresh ("tiny"; "sd21" needs ``sd_dir`` and ``clip_dir``).
    init_model: a model folder to start from (the ``model/`` of the previous stage); None builds the preset fresh.
    sd_dir, clip_dir: local Stable Diffusion 2.1-base and CLIP ViT-B/32 folders (``sd21``).
    vit_weights: alignment with the ``sd21`` preset: torchvision's ImageNet ``vit_b_32`` state-dict file (local).
    context: c_t during Syncronet training: "text" (the narration's text embedding, as the paper) or "mlp".
    condition_drop_prob: probability of training a sample without its condition (for classifier-free guidance).
    batch_size: samples per process per micro-step; the effective batch is batch_size × processes × accumulation.
    crop_samples: vocoder: length of the random training crops (a multiple of the hop; 32768 ≈ 1.5 s).
    holdout_sources: vocoder: source repositories of ``research:`` data kept out of training (for evaluation).
    refine_iters: vocoder: Griffin-Lim iterations the loss is taken after, trained through (0: on the network's own
        output, whatever ``refine_iters`` the vocoder runs at inference).
    vocoder: vocoder: architecture overrides (``FourierVocoder`` arguments, e.g. {dim: 192, num_layers: 6}).
    """

    component: str
    data: str
    output_dir: str
    preset: str = "tiny"
    init_model: str | None = None
    sd_dir: str | None = None
    clip_dir: str | None = None
    vit_weights: str | None = None
    seed: int = 0
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    learning_rate: float | None = None
    lr_scheduler: str = "constant_with_warmup"
    lr_warmup_steps: int = 0
    adam_weight_decay: float = 1e-2
    max_grad_norm: float = 1.0
    max_steps: int = 100
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    checkpointing_steps: int = 50
    checkpoints_total_limit: int | None = 3
    validation_steps: int | None = None
    validation_samples: int = 1
    validation_inference_steps: int = 20
    validation_guidance: float = 3.0
    context: str = "text"
    condition_drop_prob: float = 0.1
    ema_decay: float | None = None
    log_every: int = 10
    num_workers: int = 0
    deterministic: bool = False
    crop_samples: int = 32768
    holdout_sources: list[str] = field(default_factory=list)
    refine_iters: int = 0
    vocoder: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.component not in COMPONENTS:
            raise EgoSonicsError(f"unknown component {self.component!r}; choose from {list(COMPONENTS)}")
        if self.context not in ("text", "mlp"):
            raise EgoSonicsError(f"unknown context {self.context!r}; choose from ['text', 'mlp']")
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise EgoSonicsError(f"unknown mixed_precision {self.mixed_precision!r}; "
                                 "choose from ['no', 'fp16', 'bf16']")
        for name in ("batch_size", "gradient_accumulation_steps", "max_steps", "checkpointing_steps", "crop_samples"):
            if getattr(self, name) < 1:
                raise EgoSonicsError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.refine_iters < 0:
            raise EgoSonicsError(f"refine_iters must be >= 0, got {self.refine_iters}")
        if self.learning_rate is None:
            self.learning_rate = DEFAULT_LR[self.component]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML config; ``overrides`` (from the command line) win. Unknown keys are an error."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise EgoSonicsError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        raise EgoSonicsError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise EgoSonicsError(f"{path}: expected a mapping of settings")
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise EgoSonicsError(f"{path}: unknown settings {unknown}; known: {sorted(known)}")
    missing = [k for k in ("component", "data", "output_dir") if k not in data]
    if missing:
        raise EgoSonicsError(f"{path}: missing settings {missing}")
    return TrainConfig(**data)
