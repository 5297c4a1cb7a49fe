"""Hand-written audio features for the weight-free metrics: STFT magnitudes, Slaney mel filterbanks, MFCCs, deltas.

Torch (and scipy for the delta filter) only, so that evaluation needs no librosa for them; each function reproduces
the librosa function it names (same defaults, same numbers up to float round-off; ``tests/evaluation`` checks this
against librosa, a dev dependency).

    waveform [..., n] ──magnitude_spectrogram──► |STFT| [..., n_fft/2+1, T]
                      ──mel_spectrogram──► mel [..., n_mels, T]      librosa.feature.melspectrogram
                      ──mfcc──► [..., n_mfcc, T]                     librosa.feature.mfcc (power dB, top_db 80, DCT-II)
    features [..., T] ──delta──► [..., T]                            librosa.feature.delta (Savitzky-Golay, width 9)
    waveform [..., n] ──frame_rms──► [..., T]                        non-overlapping frames (EVALUATION.md §4.6, 1)
"""

from __future__ import annotations

import functools
import logging
import math

import numpy as np
import torch

log = logging.getLogger(__name__)


def as_waveform(waveform: np.ndarray | torch.Tensor, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A waveform [..., n] as a torch tensor of ``dtype`` (numpy arrays are converted without copying when possible)."""
    tensor = torch.as_tensor(np.asarray(waveform) if not isinstance(waveform, torch.Tensor) else waveform)
    if tensor.ndim == 0:
        raise ValueError(f"waveform must have a time axis, got a scalar {tensor.item()!r}")
    return tensor.to(dtype)


def magnitude_spectrogram(waveform: torch.Tensor, *, n_fft: int, hop_length: int, win_length: int | None = None,
                          power: float = 1.0, pad_mode: str = "constant", floor: float = 0.0) -> torch.Tensor:
    """|STFT|^power of a centred STFT with a periodic Hann window: [..., n] → [..., n_fft/2+1, 1 + n // hop].

    Args:
        waveform: [..., n] float.
        n_fft, hop_length: FFT size and hop in samples.
        win_length: Hann window length (zero-padded to ``n_fft`` in the middle, as torch and librosa do); n_fft if None.
        power: 1 for magnitude, 2 for power.
        pad_mode: "constant" (librosa ≥ 0.10) or "reflect" (torch's default, which auraloss uses).
        floor: the squared magnitude is clamped to at least this before the root (auraloss: 1e-7).
    """
    if n_fft <= 0 or hop_length <= 0:
        raise ValueError(f"n_fft and hop_length must be positive, got n_fft={n_fft}, hop_length={hop_length}")
    batch_shape = waveform.shape[:-1]
    flat = waveform.reshape(-1, waveform.shape[-1])  # [b, n]
    win_length = n_fft if win_length is None else win_length
    window = torch.hann_window(win_length, periodic=True, dtype=flat.dtype, device=flat.device)
    spec = torch.stft(flat, n_fft, hop_length, win_length, window=window, center=True, pad_mode=pad_mode,
                      return_complex=True)  # [b, F, T]
    squared = torch.clamp(spec.real ** 2 + spec.imag ** 2, min=floor)
    out = squared if power == 2 else squared ** (power / 2)
    return out.reshape(*batch_shape, *out.shape[-2:])


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa ``htk=False``): linear below 1 kHz (200/3 Hz per mel), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    mel = hz / f_sp
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-12) / min_log_hz) / logstep, mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of ``hz_to_mel``."""
    mel = np.asarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


@functools.lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Slaney-normalised triangular mel filters [n_mels, n_fft/2+1] (librosa.filters.mel defaults: htk=False,
    norm="slaney"), float64. Read-only: it is cached."""
    fmax = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(f"need 0 <= fmin < fmax <= sample_rate/2, got fmin={fmin}, fmax={fmax}, sr={sample_rate}")
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)  # [F]
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))  # [n_mels + 2]
    widths = np.diff(edges_hz)  # [n_mels + 1]
    ramps = edges_hz[:, None] - fft_hz[None, :]  # [n_mels + 2, F]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))  # [n_mels, F]
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]  # Slaney: constant energy per band
    if np.any(weights.max(axis=1) == 0):
        log.warning("mel filterbank (sr=%d, n_fft=%d, n_mels=%d) has empty filters: too many mels for the FFT size",
                    sample_rate, n_fft, n_mels)
    weights.setflags(write=False)
    return weights


def mel_spectrogram(waveform: torch.Tensor, *, sample_rate: int, n_fft: int = 2048, hop_length: int = 512,
                    n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
                    power: float = 2.0) -> torch.Tensor:
    """Mel spectrogram, librosa.feature.melspectrogram with the same arguments: [..., n] → [..., n_mels, T]."""
    spec = magnitude_spectrogram(waveform, n_fft=n_fft, hop_length=hop_length, power=power)  # [..., F, T]
    bank = torch.tensor(mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax), dtype=spec.dtype,
                        device=spec.device)  # [M, F] (a copy: the cached array is read-only)
    return torch.einsum("mf,...ft->...mt", bank, spec)


def power_to_db(power: torch.Tensor, *, amin: float = 1e-10, top_db: float | None = 80.0) -> torch.Tensor:
    """10·log10(max(power, amin)), floored at (max − top_db) per signal (librosa.power_to_db, ref 1): [..., F, T]."""
    db = 10.0 * torch.log10(torch.clamp(power, min=amin))
    if top_db is not None:
        peak = db.amax(dim=(-2, -1), keepdim=True)
        db = torch.maximum(db, peak - top_db)
    return db


@functools.lru_cache(maxsize=8)
def _dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II as a matrix [n_out, n_in] (scipy.fft.dct(type=2, norm="ortho"), first n_out rows)."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    mat = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * math.sqrt(2.0 / n_in)
    mat[0] /= math.sqrt(2.0)
    return mat


def mfcc(waveform: torch.Tensor, *, sample_rate: int, n_mfcc: int = 20, n_fft: int = 2048, hop_length: int = 512,
         n_mels: int = 128) -> torch.Tensor:
    """MFCCs as librosa.feature.mfcc with its defaults: power mel → dB (top_db 80) → DCT-II ortho.

    Returns [..., n_mfcc, T]; row 0 is the energy-like c0.
    """
    mel_db = power_to_db(mel_spectrogram(waveform, sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length,
                                         n_mels=n_mels, power=2.0))  # [..., M, T]
    dct = torch.as_tensor(_dct_matrix(n_mels, n_mfcc), dtype=mel_db.dtype, device=mel_db.device)  # [C, M]
    return torch.einsum("cm,...mt->...ct", dct, mel_db)


def delta(features: np.ndarray | torch.Tensor, *, width: int = 9) -> np.ndarray:
    """First-order delta along the last axis: librosa.feature.delta (Savitzky-Golay derivative, polyorder 1,
    mode "interp"). Needs at least ``width`` frames. [..., T] → [..., T] float64 numpy."""
    from scipy.signal import savgol_filter

    data = np.asarray(features.detach().cpu() if isinstance(features, torch.Tensor) else features, dtype=np.float64)
    if data.shape[-1] < width:
        raise ValueError(f"delta needs at least width={width} frames, got {data.shape[-1]}")
    return savgol_filter(data, width, polyorder=1, deriv=1, axis=-1, mode="interp")


def frame_rms(waveform: np.ndarray, sample_rate: float, fps: float, num_frames: int | None = None) -> np.ndarray:
    """RMS of non-overlapping frames aligned with video frames (EVALUATION.md §4.6 step 1): [n] → [T].

    Frame t covers samples [round(t·sr/fps), round((t+1)·sr/fps)), i.e. exactly 735 samples at 22,050 Hz and 30 fps.
    ``num_frames`` defaults to the number of whole frames; frames past the audio's end have RMS 0.
    """
    x = np.asarray(waveform, dtype=np.float64).reshape(-1)
    step = sample_rate / fps
    if num_frames is None:
        num_frames = int(math.floor(len(x) / step + 1e-9))
    nominal = np.round(np.arange(num_frames + 1) * step).astype(np.int64)  # [T + 1]
    bounds = np.minimum(nominal, len(x))
    csum = np.concatenate([[0.0], np.cumsum(x * x)])
    energy = csum[bounds[1:]] - csum[bounds[:-1]]
    # Divide by the nominal frame length, so that a frame cut short by the end of the audio is not inflated.
    return np.sqrt(np.maximum(energy, 0.0) / np.maximum(np.diff(nominal), 1))
