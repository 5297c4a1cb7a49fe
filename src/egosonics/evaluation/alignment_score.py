"""The Alignment Score (paper Sec. H) as an ``update()``/``compute()`` metric, and E_V for scoring a video file.

``AlignmentScore`` runs a trained ``AudioVisualAlignmentClassifier`` (``egosonics train alignment``) on (E_A, E_V)
pairs. The paper's score is the fraction of pairs classified in sync (p ≥ 0.5); higher is better, 1 at best. It is
computed at 30 fps and, for systems that see fewer frames, at 15 and 4 fps by holding frames
(``models.alignment.hold_frames``). A score is meaningless without the classifier's own accuracy on held-out real
pairs (EVALUATION.md §4.2), so ``compute()`` repeats it from the model folder's ``heldout_accuracy.json``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.errors import EgoSonicsError
from egosonics.evaluation.base import Metric
from egosonics.models.alignment import (
    HELDOUT_FILE,
    AudioVisualAlignmentClassifier,
    audio_image_from_waveform,
    hold_frames,
    video_image,
)

log = logging.getLogger(__name__)


def load_alignment_model(folder: str | os.PathLike[str]) -> AudioVisualAlignmentClassifier:
    """A trained classifier folder (``OUTPUT/model`` of ``egosonics train alignment``), in eval mode."""
    path = Path(folder)
    if not (path / "config.json").is_file():
        raise EgoSonicsError(f"{path}: not an alignment classifier folder (config.json missing); give the model/ "
                             "folder written by 'egosonics train alignment'")
    try:
        model = AudioVisualAlignmentClassifier.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise EgoSonicsError(f"{path}: cannot load the alignment classifier ({exc})") from None
    return model.eval().requires_grad_(False)


class AlignmentScore(Metric):
    """Fraction of (video, audio) pairs the classifier calls in sync, per frame rate. Higher is better.

    ``compute()`` returns, for each fps r: ``score_{r}fps`` (fraction with p ≥ threshold: the paper's score) and
    ``mean_p_{r}fps``; plus ``n``, ``threshold``, ``fps`` and ``classifier`` (its held-out accuracy, when recorded).

    Args:
        model: a trained ``AudioVisualAlignmentClassifier``.
        fps: frame rates to score at (each ≤ the model's E_V rate, 30).
        threshold: p at or above which a pair counts as in sync.
        heldout: the classifier's held-out report (``load`` reads it from the folder).
        batch_size: pairs per forward pass.
    """

    higher_is_better = True

    def __init__(self, model: AudioVisualAlignmentClassifier, *, fps: tuple[float, ...] = (30, 15, 4),
                 threshold: float = 0.5, heldout: dict[str, Any] | None = None, batch_size: int = 8) -> None:
        source = model.config.fps
        bad = [r for r in fps if not 0 < r <= source]
        if bad:
            raise ValueError(f"fps {bad} out of range: each must be in (0, {source}] (the classifier's E_V rate)")
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        self.model, self.fps, self.threshold = model.eval(), tuple(fps), threshold
        self.heldout, self.batch_size = heldout, batch_size
        self.reset()

    @classmethod
    def load(cls, folder: str | os.PathLike[str], **kwargs: Any) -> AlignmentScore:
        """From a trained classifier folder, with its held-out report when present."""
        model = load_alignment_model(folder)
        report = Path(folder) / HELDOUT_FILE
        heldout = json.loads(report.read_text()) if report.is_file() else None
        if heldout is None:
            log.warning("%s: no %s; the Alignment Score will be reported without the classifier's own accuracy",
                        folder, HELDOUT_FILE)
        return cls(model, heldout=heldout, **kwargs)

    def reset(self) -> None:
        self.probabilities: dict[float, list[float]] = {r: [] for r in self.fps}

    @torch.inference_mode()
    def update(self, *, video_embedding: torch.Tensor | np.ndarray, audio_image: torch.Tensor | None = None,
               waveform: torch.Tensor | np.ndarray | None = None,
               sample_rate: int = DEFAULT_CLIP.sample_rate) -> dict[float, list[float]]:
        """Score pairs; returns {fps: [p per pair]}.

        Args:
            video_embedding: E_V [T, D] or [B, T, D] at the classifier's rate (30 fps, T = 300 for 10 s).
            audio_image: E_A [H, W] or [B, H, W] in [0, 1]; or
            waveform: audio [n] or [B, n] at 22,050 Hz (its first 10 s, zero-padded, become E_A).
        """
        if (audio_image is None) == (waveform is None):
            raise ValueError("give exactly one of audio_image and waveform")
        ev = torch.as_tensor(np.asarray(video_embedding) if not isinstance(video_embedding, torch.Tensor)
                             else video_embedding).float()
        ev = ev[None] if ev.ndim == 2 else ev  # [B, T, D]
        size = tuple(self.model.config.input_size)
        if audio_image is None:
            audio = audio_image_from_waveform(waveform, size, sample_rate=sample_rate)
        else:
            audio = torch.as_tensor(audio_image).float()
        audio = audio[None] if audio.ndim == 2 else audio  # [B, H, W]
        if ev.ndim != 3 or audio.ndim != 3 or ev.shape[0] != audio.shape[0] or ev.shape[0] == 0:
            raise ValueError(f"need matching, non-empty batches: E_V {tuple(ev.shape)}, E_A {tuple(audio.shape)}")
        device = self.model.mean.device
        new: dict[float, list[float]] = {}
        for rate in self.fps:
            held = hold_frames(ev, rate, self.model.config.fps)  # [B, T, D]
            probs = []
            for i in range(0, ev.shape[0], self.batch_size):
                v = video_image(held[i:i + self.batch_size].to(device), size)  # [b, H, W]
                probs.append(self.model(audio[i:i + self.batch_size].to(device), v).cpu())
            new[rate] = torch.cat(probs).tolist()
            self.probabilities[rate].extend(new[rate])
        return new

    def compute(self) -> dict[str, Any]:
        n = len(self.probabilities[self.fps[0]])
        if n == 0:
            raise ValueError("no pairs added: call update(video_embedding=..., waveform=...) first")
        out: dict[str, Any] = {"n": n, "threshold": self.threshold, "fps": list(self.fps)}
        for rate in self.fps:
            p = np.asarray(self.probabilities[rate])
            tag = f"{rate:g}fps"
            out[f"score_{tag}"] = float(np.mean(p >= self.threshold))
            out[f"mean_p_{tag}"] = float(np.mean(p))
        out["classifier"] = self.heldout
        return out


def frame_encoder_for(model: AudioVisualAlignmentClassifier, clip_dir: str | os.PathLike[str] | None = None):
    """The frame encoder the classifier's E_V came from (``clip_dir`` overrides the recorded CLIP folder)."""
    from egosonics.models.frame_encoder import ClipFrameEncoder, build_frame_encoder

    name = model.config.frame_encoder
    if name in ("pixels", "motion"):
        return build_frame_encoder(name)
    if name == "clip-vit-b32":
        folder = clip_dir or model.config.clip_dir
        if not folder:
            raise EgoSonicsError("the alignment classifier was trained on CLIP ViT-B/32 E_V; its CLIP folder is not "
                                 "recorded: pass the local CLIP folder (clip_dir)")
        return ClipFrameEncoder.from_clip_folder(folder).eval()
    raise EgoSonicsError(f"unknown frame encoder {name!r} in the classifier config; choose from "
                         "['clip-vit-b32', 'motion', 'pixels']")


@torch.inference_mode()
def video_embedding(path: str | os.PathLike[str], encoder, *, start_s: float = 0.0) -> torch.Tensor:
    """E_V [300, D] of the 10 s of a video file from ``start_s``, decoded as ``prepare`` does (30 fps, centre-cropped
    square at the encoder's input size)."""
    from egosonics.media.video import read_frames
    from egosonics.models.frame_encoder import frame_input_size

    clip = DEFAULT_CLIP
    size = frame_input_size(encoder)
    frames = read_frames(path, start_s=start_s, duration_s=clip.duration_s, fps=clip.fps, size=size, crop=True)
    return encoder(torch.from_numpy(frames.frames)[None])[0].float()  # [300, D]
