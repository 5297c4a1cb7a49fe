"""Prepared shards → the clips of the summarization experiment, and their three kinds of audio.

Per clip: E_V (the shard's ``ev.npy``, from whichever frame encoder ``prepare`` used), the narration (the shard's
metadata: Ego4D narrations inside the window, or a synthesized clip's sidecar narration), a group (clips of one group
never straddle the train/test split), and audio:

* ground truth: the window of the source media (``prepare``'s ``config.json`` says where the sources are;
  ``audio_root`` overrides), or, where the sources are not on this machine, the shard's own spectrogram brought back
  to a waveform by Griffin-Lim (the vocoder the generated audio also went through);
* generated: files in a folder, found by name (below), or written by ``generate_from_shards`` with an EgoSonics model
  directly from the shards' E_V (no source video needed).

A generated file is found, in this order, as ``FOLDER/KEY.EXT`` (one file per window, read from 0 s; KEY is the
shard sample key), then ``FOLDER/STEM.egosonics.EXT`` or ``FOLDER/STEM.EXT`` with STEM the source file's name without
extension, also under the source's relative folder (one file per source video, as ``egosonics generate`` writes; the
window is read at its start time). EXT is any audio or video container PyAV reads.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.clip_spec import ClipSpec
from egosonics.errors import EgoSonicsError
from egosonics.media.formats import MEDIA_TYPES
from egosonics.preprocess.shards import ShardDataset, prepare_settings
from egosonics.utils.logging import progress

log = logging.getLogger(__name__)

GT_AUDIO_MODES = ("auto", "source", "spectrogram")


@dataclass
class Clip:
    """One prepared window: where it came from, what is said about it and what is seen in it."""

    index: int  # position in the ShardDataset
    key: str
    source: str  # the source file, relative to the prepared source folder
    start_s: float
    narration: str
    group: str
    ev: np.ndarray  # E_V [T, D] float16 (half the memory of float32; the CNN sees float32)
    clip: ClipSpec
    spectrogram: dict[str, Any]


@dataclass
class ClipSet:
    """The usable clips of a shard set, and the ones left out with the reason."""

    clips: list[Clip]
    dataset: ShardDataset
    source_root: Path | None
    encoder: str
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, keep: list[bool], reason: str) -> None:
        """Drop the clips whose ``keep`` is False, recording ``reason`` for each."""
        self.skipped += [(c.key, reason) for c, k in zip(self.clips, keep, strict=True) if not k]
        self.clips = [c for c, k in zip(self.clips, keep, strict=True) if k]

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(sorted(Counter(reason for _, reason in self.skipped).items()))


def prepared_source_root(data: str | os.PathLike[str]) -> Path | None:
    """The source folder recorded by ``prepare`` beside the shards (None if not found)."""
    src = prepare_settings(data).get("src")
    return Path(src) if src else None


def _group(root: Path | None, source: str) -> str:
    """The split group: a sidecar's ``pair`` (the two clips of a synth pair share their frames), else the source."""
    if root is not None:
        sidecar = (root / source).with_suffix(".json")
        if sidecar.is_file():
            try:
                data = json.loads(sidecar.read_text())
            except (OSError, json.JSONDecodeError):
                data = None
            if isinstance(data, dict) and isinstance(data.get("pair"), str) and data["pair"]:
                return data["pair"]
    return source


def load_clips(data: str | os.PathLike[str], *, audio_root: str | os.PathLike[str] | None = None) -> ClipSet:
    """Read every sample of the shards once; keep those with a narration and E_V of the common shape."""
    dataset = ShardDataset(data)
    root = Path(audio_root) if audio_root is not None else prepared_source_root(data)
    clips, skipped, encoders = [], [], Counter()
    for i in progress(range(len(dataset)), desc="read shards", total=len(dataset), unit="clip"):
        sample = dataset[i]
        if sample is None:
            skipped.append((dataset.refs[i].key, "unreadable sample"))
            continue
        meta = sample.get("meta", {})
        narration = str(meta.get("narration") or "").strip()
        if not narration:
            skipped.append((sample["key"], "no narration"))
            continue
        encoders[meta.get("encoder", "unknown")] += 1
        source = str(meta.get("source", sample["key"]))
        clips.append(Clip(index=i, key=sample["key"], source=source, start_s=float(meta.get("start_s", 0.0)),
                          narration=narration, group=_group(root, source),
                          ev=sample["ev"].numpy().astype(np.float16), clip=ClipSpec(**meta.get("clip", {})),
                          spectrogram=dict(meta.get("spectrogram", {}))))
    if not clips:
        reasons = Counter(r for _, r in skipped)
        raise EgoSonicsError(f"{data}: no clip with a narration ({len(dataset)} samples: {dict(reasons)}); prepare "
                             "Ego4D-style data with --narrations, or synthesized clips (their NAME.json narrations)")
    shapes = Counter(c.ev.shape for c in clips)
    if len(shapes) > 1:
        raise EgoSonicsError(f"{data}: E_V shapes differ between clips ({dict(shapes)}); prepare every shard with "
                             "the same clip length and frame encoder")
    if len(encoders) > 1:
        raise EgoSonicsError(f"{data}: shards from different frame encoders ({dict(encoders)})")
    return ClipSet(clips=clips, dataset=dataset, source_root=root, encoder=next(iter(encoders)), skipped=skipped)


# ------------------------------------------------------------------------------------------------------------ audio
def spectrogram_waveform(clips: ClipSet, clip: Clip, *, seed: int = 0, n_iter: int = 32) -> np.ndarray:
    """The shard's spectrogram of ``clip`` back to a waveform (fast Griffin-Lim) at the clip's sample rate."""
    from egosonics.spectrogram.griffin_lim import griffin_lim
    from egosonics.spectrogram.params import SpectrogramParams
    from egosonics.spectrogram.transform import unit_to_magnitude

    sample = clips.dataset[clip.index]
    if sample is None:
        raise EgoSonicsError(f"{clip.key}: the shard sample became unreadable")
    params = SpectrogramParams.from_dict(clip.spectrogram) if clip.spectrogram else SpectrogramParams()
    generator = torch.Generator().manual_seed(seed)
    wave = griffin_lim(unit_to_magnitude(sample["spec"], params), clip.clip.num_samples, params, n_iter=n_iter,
                       generator=generator)
    return wave.numpy().astype(np.float32)  # [n]


def ground_truth_audio(clips: ClipSet, *, sample_rate: int, mode: str = "auto") -> np.ndarray:
    """Each clip's true audio at ``sample_rate``: [N, n] float32 (see the module docstring for ``mode``)."""
    from egosonics.media.audio import read_audio, resample

    if mode not in GT_AUDIO_MODES:
        raise ValueError(f"unknown ground-truth audio mode {mode!r}; choose from {list(GT_AUDIO_MODES)}")
    out, from_spec = [], 0
    for clip in progress(clips.clips, desc="ground-truth audio", total=len(clips.clips), unit="clip"):
        path = clips.source_root / clip.source if clips.source_root is not None else None
        if mode == "source" or (mode == "auto" and path is not None and path.is_file()):
            if path is None or not path.is_file():
                raise EgoSonicsError(f"{path or clip.source}: source media not found; pass --audio-root FOLDER "
                                     "(the folder given to prepare), or --gt-audio spectrogram")
            out.append(read_audio(path, sample_rate=sample_rate, start_s=clip.start_s,
                                  duration_s=clip.clip.duration_s))
        else:
            from_spec += 1
            wave = spectrogram_waveform(clips, clip)
            out.append(resample(wave, clip.clip.sample_rate, sample_rate))
    if from_spec:
        log.info("ground-truth audio of %d of %d clips from the shards' spectrograms (Griffin-Lim)%s", from_spec,
                 len(clips.clips), "" if mode == "spectrogram" else
                 f": source media not found under {clips.source_root}")
    return _stack(out)


def _stack(waves: list[np.ndarray]) -> np.ndarray:
    """Equal-length rows (the window length; a sample or two of rounding is trimmed or padded)."""
    n = min(len(w) for w in waves)
    return np.stack([w[:n] for w in waves]).astype(np.float32)  # [N, n]


def find_generated(folder: Path, clip: Clip) -> tuple[Path, float] | None:
    """(file, start in s to read from) of ``clip``'s generated audio in ``folder``, or None."""
    source = Path(clip.source)
    for ext in MEDIA_TYPES:
        per_window = folder / f"{clip.key}{ext}"
        if per_window.is_file():
            return per_window, 0.0
    for parent in (folder, folder / source.parent):
        for stem in (f"{source.stem}.egosonics", source.stem):
            for ext in MEDIA_TYPES:
                path = parent / f"{stem}{ext}"
                if path.is_file():
                    return path, clip.start_s
    return None


def generated_audio(clips: ClipSet, folder: str | os.PathLike[str], *, sample_rate: int) -> np.ndarray:
    """Each clip's generated audio at ``sample_rate`` [N, n]; clips without a generated file are dropped first."""
    from egosonics.media.audio import read_audio

    folder = Path(folder)
    if not folder.is_dir():
        raise EgoSonicsError(f"{folder}: folder of generated audio not found")
    found = [find_generated(folder, clip) for clip in clips.clips]
    missing = sum(f is None for f in found)
    if missing == len(found):
        raise EgoSonicsError(f"{folder}: no generated file for any of the {len(found)} clips (expected KEY.wav per "
                             "window, or STEM.egosonics.mp4 / STEM.wav per source video)")
    if missing:
        log.warning("%d of %d clips have no generated audio in %s; they are left out of every setting", missing,
                    len(found), folder)
        clips.skip([f is not None for f in found], "no generated audio")
        found = [f for f in found if f is not None]
    out = []
    for clip, (path, start) in progress(list(zip(clips.clips, found, strict=True)), desc="generated audio",
                                        total=len(found), unit="clip"):
        out.append(read_audio(path, sample_rate=sample_rate, start_s=start, duration_s=clip.clip.duration_s))
    return _stack(out)


@torch.inference_mode()
def generate_from_shards(clips: ClipSet, model: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                         device: torch.device | str = "cpu", steps: int = 20, guidance: float = 3.0, seed: int = 0,
                         batch_size: int = 4, griffin_lim_iters: int = 32, griffin_lim_init: str = "random") -> Path:
    """Generate each clip's audio with an EgoSonics model from its stored E_V; writes ``out_dir/KEY.wav``.

    Files already there are kept (a rerun only generates what is missing). The model's frame encoder and clip length
    must be the ones the shards were prepared with.
    """
    from egosonics.loading import load_pipeline
    from egosonics.media.audio import limit_peak, write_audio
    from egosonics.models.frame_encoder import frame_encoder_name

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    todo = [c for c in clips.clips if not (out / f"{c.key}.wav").is_file()]
    if not todo:
        return out
    pipe = load_pipeline(model, device=torch.device(device))
    kind = frame_encoder_name(pipe.frame_encoder)
    frames = pipe.clip_spec.num_frames
    if kind != clips.encoder or clips.clips[0].ev.shape != (frames, pipe.frame_encoder.embedding_dim):
        raise EgoSonicsError(f"{model}: the model reads {kind} E_V of shape ({frames}, "
                             f"{pipe.frame_encoder.embedding_dim}) but the shards hold {clips.encoder} E_V of shape "
                             f"{clips.clips[0].ev.shape}; generate with a model trained on such shards, or pass "
                             "--generated FOLDER")
    generator = torch.Generator().manual_seed(seed)
    batches = range(0, len(todo), batch_size)
    for first in progress(batches, desc="generate", total=len(batches), unit="batch"):
        group = todo[first:first + batch_size]
        ev = torch.from_numpy(np.stack([c.ev for c in group]).astype(np.float32))  # [b, T, D]
        result = pipe(video_embedding=ev, num_inference_steps=steps, guidance_scale=guidance, generator=generator,
                      griffin_lim_iters=griffin_lim_iters, griffin_lim_init=griffin_lim_init)
        for clip, wave in zip(group, result.waveforms.numpy(), strict=True):
            write_audio(out / f"{clip.key}.wav", limit_peak(wave), pipe.clip_spec.sample_rate)
    log.info("wrote %d generated clips to %s", len(todo), out)
    return out
