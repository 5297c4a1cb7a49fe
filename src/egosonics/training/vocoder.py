"""Training the learned vocoder (``models/vocoder.py``) on audio alone: data, licences, held-out split, loss.

Data (``TrainConfig.data``): comma-separated entries, each a folder of audio or video files with audio:

    PATH            every audio file in it; when PATH/SOURCES.md lists licences, only files under CC0 or CC BY (any
                    version; not BY-SA, BY-NC, GPL) are used, and their authors are recorded for attribution
    research:PATH   research footage (e.g. ../shared/data/real_clips): every file listed in PATH/SOURCES.md (or every
                    media file) except those whose source repository is in ``holdout_sources``; a model trained on it
                    inherits non-commercial research terms

Every file used (path, licence, author, source) and the held-out files go to ``training_data.json`` in the output
folder and in the final model folder, for the model card.

Samples: each file gives max(1, round(duration / crop)) entries; a sample is a random crop of ``crop_samples`` from
its file (zero-padded when shorter) with a random gain (-12 … +6 dB, kept below full scale), drawn from the per-sample
generator, so a resumed run sees the same crops. The input is the crop's magnitude on the pipeline's grid, taken
through the same dB clipping (``magnitude_to_unit`` → ``unit_to_magnitude``) as a generated spectrogram.

Loss: multi-resolution STFT (spectral convergence + log-magnitude L1 at FFT 512/1024/2048, hops of a quarter) plus
mel L1 (80 Slaney mels, FFT 1024, hop 256; the evaluation's ``mel_l1``), no adversarial terms; taken on the network's
own waveform, or after ``TrainConfig.refine_iters`` differentiable Griffin-Lim steps.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.errors import EgoSonicsError
from egosonics.evaluation.features import magnitude_spectrogram, mel_filterbank
from egosonics.models.vocoder import FourierVocoder
from egosonics.spectrogram.params import DEFAULT_PARAMS
from egosonics.spectrogram.transform import magnitude_to_unit, unit_to_magnitude
from egosonics.spectrogram.transform import stft_magnitude as grid_magnitude
from egosonics.training.config import TrainConfig

log = logging.getLogger(__name__)

DATA_FILE = "training_data.json"
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac"}
MEDIA_SUFFIXES = AUDIO_SUFFIXES | {".mp4", ".mkv", ".mov", ".webm", ".avi"}
MAX_FILE_S = 120.0  # longer files are cut (keeps memory bounded)
RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))
GAIN_DB = (-12.0, 6.0)
_ACCEPTED = re.compile(r"^\s*(CC0|CC[- ]BY[ -]\d)", re.IGNORECASE)  # CC0 x.y, CC BY x.y (not BY-SA, BY-NC)


@dataclass(frozen=True)
class AudioSource:
    """One training file and its terms."""

    path: str
    licence: str
    author: str = ""
    source: str = ""
    research: bool = False


def read_sources_table(folder: Path) -> dict[str, dict[str, str]]:
    """The rows of the markdown table(s) in ``folder/SOURCES.md``: file name → {licence, author, source}; {} if none."""
    path = folder / "SOURCES.md"
    if not path.is_file():
        return {}
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        record = dict(zip(header, cells, strict=False))

        def column(*words: str, row: dict[str, str] = record) -> str:
            for name, value in row.items():
                if any(w in name for w in words):
                    return value
            return ""

        name = column("file").strip("`")
        if name:
            rows[name] = {"licence": column("licen"), "author": column("author"), "source": column("source")}
    return rows


def licence_accepted(licence: str) -> bool:
    """CC0 or CC BY (any version); not share-alike, non-commercial, GPL or unknown terms."""
    return bool(_ACCEPTED.match(licence)) and not re.search(r"-(SA|NC|ND)", licence, re.IGNORECASE)


def media_files(folder: Path) -> list[Path]:
    """Audio and video files under ``folder``, one per stem: NAME.wav beside NAME.mp4 (as ``synth`` writes) wins."""
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MEDIA_SUFFIXES and p.is_file())
    audio_stems = {p.with_suffix("") for p in found if p.suffix.lower() in AUDIO_SUFFIXES}
    return [p for p in found if p.suffix.lower() in AUDIO_SUFFIXES or p.with_suffix("") not in audio_stems]


def collect_sources(data: str, holdout_sources: list[str]) -> tuple[list[AudioSource], list[AudioSource]]:
    """Parse ``data`` (module docstring) → (training files, held-out research files)."""
    train: list[AudioSource] = []
    heldout: list[AudioSource] = []
    holdout = {s.strip() for s in holdout_sources}
    for entry in (e.strip() for e in data.split(",")):
        if not entry:
            continue
        research = entry.startswith("research:")
        folder = Path(entry.removeprefix("research:"))
        if not folder.is_dir():
            raise EgoSonicsError(f"{folder}: vocoder training data folder not found")
        table = read_sources_table(folder)
        files = media_files(folder)
        kept = skipped = 0
        for path in files:
            row = table.get(path.name)
            if research:
                item = AudioSource(str(path), (row or {}).get("licence", "research footage"),
                                   source=(row or {}).get("source", folder.name), research=True)
                (heldout if item.source in holdout else train).append(item)
                kept += item.source not in holdout
                continue
            if table and row is None:
                skipped += 1
                continue
            if row is not None and not licence_accepted(row["licence"]):
                skipped += 1
                continue
            train.append(AudioSource(str(path), row["licence"] if row else "generated by EgoSonics (synth)",
                                     author=(row or {}).get("author", ""), source=(row or {}).get("source", "")))
            kept += 1
        log.info("vocoder data %s: %d file(s) used, %d skipped (licence or unlisted)", entry, kept, skipped)
    if not train:
        raise EgoSonicsError(f"{data}: no usable audio files for vocoder training")
    unknown = holdout - {s.source for s in heldout}
    if unknown:
        log.warning("held-out sources not found in the research data: %s", sorted(unknown))
    return train, heldout


class AudioCropDataset(torch.utils.data.Dataset):
    """Files decoded once to mono float32 at the vocoder's rate; entry i → {"key", "wave" [n]} of its file."""

    def __init__(self, sources: list[AudioSource], *, sample_rate: int, crop_samples: int) -> None:
        from egosonics.media.audio import read_audio

        self.waves: list[np.ndarray] = []
        self.entries: list[int] = []
        for source in sources:
            try:
                wave = read_audio(source.path, sample_rate=sample_rate)[: int(MAX_FILE_S * sample_rate)]
            except EgoSonicsError as exc:
                log.warning("skipping %s: %s", source.path, exc)
                continue
            if wave.size == 0:
                continue
            index = len(self.waves)
            self.waves.append(np.ascontiguousarray(wave, dtype=np.float32))
            self.entries.extend([index] * max(1, round(wave.size / crop_samples)))
        if not self.entries:
            raise EgoSonicsError("no vocoder training file could be decoded")
        self.keys = [Path(s.path).name for s in sources]

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> dict[str, Any]:
        file = self.entries[index]
        return {"key": f"{file}:{index}", "wave": torch.from_numpy(self.waves[file])}


def collate_waves(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Whole files stay a list (their lengths differ); the task crops them."""
    return {"skipped": 0, "keys": [b["key"] for b in batch], "waves": [b["wave"] for b in batch]}


def random_crop(wave: torch.Tensor, crop: int, generator: torch.Generator) -> torch.Tensor:
    """A crop of ``crop`` samples at a random offset (zero-padded when shorter), with a random gain below clipping."""
    if wave.numel() > crop:
        start = int(torch.randint(0, wave.numel() - crop + 1, (), generator=generator))
        piece = wave[start:start + crop]
    else:
        piece = torch.nn.functional.pad(wave, (0, crop - wave.numel()))
    gain_db = GAIN_DB[0] + (GAIN_DB[1] - GAIN_DB[0]) * float(torch.rand((), generator=generator))
    peak = float(piece.abs().max())
    gain = min(10 ** (gain_db / 20), 0.99 / peak) if peak > 0 else 1.0
    return piece * gain


def input_magnitude(waves: torch.Tensor, vocoder: FourierVocoder) -> torch.Tensor:
    """Waveforms [B, n] → the magnitude the pipeline would hand over [B, num_bins, n // hop] (dB-clipped)."""
    params = vocoder.spectrogram_params
    return unit_to_magnitude(magnitude_to_unit(grid_magnitude(waves, params), params), params)


def vocoder_loss(estimate: torch.Tensor, reference: torch.Tensor, *, sample_rate: int) -> torch.Tensor:
    """Multi-resolution STFT (SC + log-magnitude L1, mean over resolutions) + mel L1: [B, n] × 2 → scalar."""
    total = estimate.new_zeros(())
    for n_fft, hop in RESOLUTIONS:
        r = magnitude_spectrogram(reference, n_fft=n_fft, hop_length=hop, floor=1e-7)  # [B, F, T]
        e = magnitude_spectrogram(estimate, n_fft=n_fft, hop_length=hop, floor=1e-7)
        # sqrt(Σ d² + ε): the norm's gradient is undefined at 0, which silent crops reach exactly
        sc = torch.sqrt(((r - e) ** 2).sum(dim=(-2, -1)) + 1e-8) / torch.sqrt((r ** 2).sum(dim=(-2, -1)) + 1e-8)
        total = total + (sc.mean() + (torch.log(r) - torch.log(e)).abs().mean()) / len(RESOLUTIONS)
    # The evaluation's mel L1, with |STFT| floored (its gradient at exactly 0 is undefined)
    bank = torch.tensor(mel_filterbank(sample_rate, 1024, 80), dtype=estimate.dtype, device=estimate.device)

    def log_mel(wave: torch.Tensor) -> torch.Tensor:
        mag = magnitude_spectrogram(wave, n_fft=1024, hop_length=256, floor=1e-10)  # [B, 513, T]
        return torch.log(torch.einsum("mf,bft->bmt", bank, mag) + 1e-5)  # [B, 80, T]

    return total + (log_mel(reference) - log_mel(estimate)).abs().mean()


def build_vocoder(config: TrainConfig) -> FourierVocoder:
    """A fresh vocoder (``config.vocoder`` overrides the default architecture), or ``init_model``'s to fine-tune."""
    if config.init_model:
        folder = Path(config.init_model)
        folder = folder / "vocoder" if (folder / "vocoder" / "config.json").is_file() else folder
        from egosonics.loading import load_vocoder

        return load_vocoder(folder)
    torch.manual_seed(config.seed)
    params = DEFAULT_PARAMS
    return FourierVocoder(num_bins=params.num_bins, n_fft=params.n_fft, hop_length=params.hop_length,
                          sample_rate=params.sample_rate, **(config.vocoder or {}))


@dataclass
class VocoderTask:
    """The trainer's view of vocoder training: the vocoder is the trained module; there is no pipeline."""

    config: TrainConfig
    model: FourierVocoder
    train_sources: list[AudioSource]
    heldout_sources: list[AudioSource]
    pipe: None = None
    text_encoder: None = None
    _dataset: AudioCropDataset | None = field(default=None, repr=False)

    module_name = "vocoder"
    collate = staticmethod(collate_waves)

    @classmethod
    def build(cls, config: TrainConfig) -> VocoderTask:
        train, heldout = collect_sources(config.data, config.holdout_sources)
        model = build_vocoder(config)
        log.info("vocoder: %.2f M parameters; %d training file(s), %d held-out file(s)",
                 sum(p.numel() for p in model.parameters()) / 1e6, len(train), len(heldout))
        task = cls(config=config, model=model, train_sources=train, heldout_sources=heldout)
        out = Path(config.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / DATA_FILE).write_text(json.dumps(task.data_record(), indent=1))
        return task

    @property
    def module(self) -> FourierVocoder:
        return self.model

    def freeze(self) -> None:
        self.model.requires_grad_(True)

    def train_dataset(self) -> AudioCropDataset:
        if self._dataset is None:
            self._dataset = AudioCropDataset(self.train_sources, sample_rate=self.model.config.sample_rate,
                                             crop_samples=self.config.crop_samples)
        return self._dataset

    def data_record(self) -> dict[str, Any]:
        research = any(s.research for s in self.train_sources)
        return {"terms": "non-commercial research (trained on research footage audio)" if research else
                "CC0 / CC BY sounds and EgoSonics-generated audio (attribute the CC BY authors)",
                "holdout_sources": sorted(set(self.config.holdout_sources)),
                "train": [s.__dict__ for s in self.train_sources],
                "heldout": [s.__dict__ for s in self.heldout_sources]}

    def loss(self, batch: dict[str, Any], generators: list[torch.Generator], model: torch.nn.Module) -> torch.Tensor:
        crop = self.config.crop_samples
        device = next(model.parameters()).device
        waves = torch.stack([random_crop(w, crop, g) for w, g in zip(batch["waves"], generators, strict=True)])
        waves = waves.to(device)  # [B, crop]
        estimate = model(input_magnitude(waves, self.model), crop, refine_iters=self.config.refine_iters)  # [B, crop]
        return vocoder_loss(estimate, waves, sample_rate=self.model.config.sample_rate)

    def finish(self, model: torch.nn.Module, final: Path) -> None:
        (final / DATA_FILE).write_text(json.dumps(self.data_record(), indent=1))
