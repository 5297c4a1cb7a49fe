"""Weight-free clip embeddings for Fréchet distance and KID in CI (EVALUATION.md §7.2 ``fd_logmel``, ``fd_mfcc``).

Hand-crafted statistics, not learned features: the numbers are a CI proxy and are **not** comparable with published
FAD/FID values. Exact settings (all at the input sample rate, 22,050 Hz by default; centred STFT, periodic Hann window,
zero padding; standard deviations are population std over frames, ddof 0):

    logmel_stats  |STFT| (n_fft 1024, hop 256) → 64 Slaney mel bands 0–11,025 Hz (magnitude, power 1)
                  → log(x + 1e-5) → concat(mean over frames, std over frames)                            → 128-d
    mfcc_stats    librosa.feature.mfcc defaults (n_fft 2048, hop 512, 128 power mels, dB with top_db 80,
                  DCT-II ortho) → 20 MFCCs and their deltas (Savitzky-Golay, width 9)
                  → concat(mean(MFCC), std(MFCC), mean(Δ), std(Δ))                                         → 80-d
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.evaluation.features import as_waveform, delta, mel_spectrogram, mfcc

LOGMEL_SETTINGS = {"n_fft": 1024, "hop_length": 256, "n_mels": 64, "fmin": 0.0, "power": 1.0, "log_offset": 1e-5}
MFCC_SETTINGS = {"n_mfcc": 20, "n_fft": 2048, "hop_length": 512, "n_mels": 128, "delta_width": 9}


def log_mel(waveform: np.ndarray | torch.Tensor, *, sample_rate: int = DEFAULT_CLIP.sample_rate) -> torch.Tensor:
    """The log-mel frames ``logmel_stats`` summarises (settings in the module docstring): [..., n] → [..., 64, T]
    float64."""
    s = LOGMEL_SETTINGS
    mel = mel_spectrogram(as_waveform(waveform), sample_rate=sample_rate, n_fft=s["n_fft"],
                          hop_length=s["hop_length"], n_mels=s["n_mels"], fmin=s["fmin"], power=s["power"])
    return torch.log(mel + s["log_offset"]).double()


def logmel_stats(waveform: np.ndarray | torch.Tensor, *, sample_rate: int = DEFAULT_CLIP.sample_rate) -> np.ndarray:
    """Log-mel statistics embedding (settings in the module docstring): [..., n] → [..., 128] float64."""
    logmel = log_mel(waveform, sample_rate=sample_rate)  # [..., 64, T]
    return torch.cat([logmel.mean(dim=-1), logmel.std(dim=-1, correction=0)], dim=-1).numpy()  # [..., 128]


def mfcc_stats(waveform: np.ndarray | torch.Tensor, *, sample_rate: int = DEFAULT_CLIP.sample_rate) -> np.ndarray:
    """MFCC + delta statistics embedding (settings in the module docstring): [..., n] → [..., 80] float64.

    Needs at least 9 frames (about 0.2 s at 22,050 Hz) for the delta filter.
    """
    x = as_waveform(waveform)
    s = MFCC_SETTINGS
    coeffs = mfcc(x, sample_rate=sample_rate, n_mfcc=s["n_mfcc"], n_fft=s["n_fft"], hop_length=s["hop_length"],
                  n_mels=s["n_mels"]).double().numpy()  # [..., 20, T]
    deltas = delta(coeffs, width=s["delta_width"])  # [..., 20, T]
    return np.concatenate([coeffs.mean(-1), coeffs.std(-1), deltas.mean(-1), deltas.std(-1)], axis=-1)  # [..., 80]


EMBEDDINGS: dict[str, Callable[..., np.ndarray]] = {"logmel_stats": logmel_stats, "mfcc_stats": mfcc_stats}
"""Embedding name → function(waveform [..., n], *, sample_rate) → [..., d]."""


def embed(name: str, waveform: np.ndarray | torch.Tensor, *, sample_rate: int = DEFAULT_CLIP.sample_rate) -> np.ndarray:
    """Look an embedding up by name and apply it."""
    if name not in EMBEDDINGS:
        raise ValueError(f"unknown embedding {name!r}; choose from {sorted(EMBEDDINGS)}")
    return EMBEDDINGS[name](waveform, sample_rate=sample_rate)
