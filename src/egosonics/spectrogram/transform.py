"""Waveform ↔ normalised spectrogram image, as documented inverse pairs.

Layout: tensors are [..., frequency, time] with row 0 = 0 Hz (PNG files and figures flip it so low is at the bottom).

    waveform [n]  ──stft_magnitude──►  |STFT| [1024, 430]  ──magnitude_to_unit──►  image [1024, 430] in [0, 1]
    image [1024, 430]  ──to_model_image──►  [512, 512]          (frequency: mean of bin pairs; time: linear 430 → 512)
                                            (the tiny preset: [32, 256], means of 32 bins; with
                                            ``freq_pooling="power"`` the dB of their mean power)
    image [1024, 430]  ──to_superres_image──►  [1024, 512]      (time only)

Inverses: ``unit_to_magnitude`` is exact (up to clipping at the dB range); ``from_superres_image`` is the exact left
inverse of ``to_superres_image`` (the pseudo-inverse of the linear time interpolation); ``from_model_image`` is exact
in time and interpolates frequency linearly, since halving the frequency rows loses information (restoring it is the
super-resolution CNN's job, paper Sec. E). Phase is discarded; ``griffin_lim`` estimates it.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from egosonics.spectrogram.params import DEFAULT_PARAMS, SpectrogramParams


def _window(params: SpectrogramParams, device: torch.device) -> torch.Tensor:
    return torch.hann_window(params.n_fft, periodic=True, device=device)


def stft(waveform: torch.Tensor, params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """Complex centred STFT, zero-padded at the edges (librosa ≥ 0.10): [..., n] → [..., n_fft/2+1, 1 + n // hop]."""
    batch_shape = waveform.shape[:-1]
    flat = waveform.reshape(-1, waveform.shape[-1])  # [b, n]
    spec = torch.stft(flat, params.n_fft, params.hop_length, window=_window(params, waveform.device), center=True,
                      pad_mode="constant", return_complex=True)  # [b, F, T]
    return spec.reshape(*batch_shape, *spec.shape[-2:])


def istft(spec: torch.Tensor, params: SpectrogramParams, length: int) -> torch.Tensor:
    """Inverse of ``stft``: [..., n_fft/2+1, T] complex → [..., length]."""
    batch_shape = spec.shape[:-2]
    flat = spec.reshape(-1, *spec.shape[-2:])
    wave = torch.istft(flat, params.n_fft, params.hop_length, window=_window(params, spec.device), center=True,
                       length=length)
    return wave.reshape(*batch_shape, length)


def stft_magnitude(waveform: torch.Tensor, params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """|STFT| on the kept grid: [..., n] → [..., num_bins, n // hop] (Nyquist row, last partial frame dropped)."""
    n = waveform.shape[-1]
    spec = stft(waveform, params)[..., : params.num_bins, : params.num_frames(n)]
    return spec.abs()


def magnitude_to_unit(magnitude: torch.Tensor, params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """|STFT| → dB re ``reference_magnitude`` → clipped to [db_floor, db_ceiling] → [0, 1]."""
    floor = params.reference_magnitude * 10 ** (params.db_floor / 20)
    db = 20 * torch.log10(torch.clamp(magnitude, min=floor) / params.reference_magnitude)
    return ((db - params.db_floor) / (params.db_ceiling - params.db_floor)).clamp(0.0, 1.0)


def unit_to_magnitude(image: torch.Tensor, params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """Exact inverse of ``magnitude_to_unit`` for magnitudes inside the dB range: [0, 1] → |STFT|.

    0 (at or below the floor) inverts to silence rather than to the floor's magnitude, so silent passages stay silent.
    """
    db = image.clamp(0.0, 1.0) * (params.db_ceiling - params.db_floor) + params.db_floor
    magnitude = params.reference_magnitude * 10 ** (db / 20)
    return torch.where(image > 0, magnitude, torch.zeros_like(magnitude))


@functools.lru_cache(maxsize=32)
def _linear_resampler(n_in: int, n_out: int) -> np.ndarray:
    """Matrix [n_out, n_in] of linear interpolation between pixel centres (align_corners=False, edge clamped)."""
    pos = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    pos = np.clip(pos, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    mat = np.zeros((n_out, n_in))
    mat[np.arange(n_out), lo] += 1 - frac
    mat[np.arange(n_out), hi] += frac
    return mat


@functools.lru_cache(maxsize=32)
def _group_mean(n_in: int, n_out: int) -> np.ndarray:
    """Matrix [n_out, n_in] averaging groups of n_in / n_out neighbouring rows (anti-aliased shrinking)."""
    factor = n_in // n_out
    mat = np.zeros((n_out, n_in))
    for k in range(factor):
        mat[np.arange(n_out), factor * np.arange(n_out) + k] = 1.0 / factor
    return mat


@functools.lru_cache(maxsize=32)
def _time_resampler(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(forward, left inverse) for the time axis; the inverse is the pseudo-inverse when n_out ≥ n_in."""
    forward = _linear_resampler(n_in, n_out)
    inverse = np.linalg.pinv(forward) if n_out >= n_in else _linear_resampler(n_out, n_in)
    return forward, inverse


def _apply(image: torch.Tensor, rows: np.ndarray | None, cols: np.ndarray | None) -> torch.Tensor:
    """rows @ image @ cols.T on the last two axes, in the image's dtype and device."""
    out = image
    if rows is not None:
        out = torch.einsum("of,...ft->...ot", torch.as_tensor(rows, dtype=image.dtype, device=image.device), out)
    if cols is not None:
        out = torch.einsum("...ft,ot->...fo", out, torch.as_tensor(cols, dtype=image.dtype, device=image.device))
    return out


def to_model_image(image: torch.Tensor, params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """[..., 1024, T] → [..., 512, 512]: groups of frequency bins (pairs at 512 rows) merged as ``params.freq_pooling``
    says (the mean of their values, or the value of their mean power), linear in time."""
    freq_out, time_out = params.model_size
    if image.shape[-2] % freq_out:
        raise ValueError(f"{image.shape[-2]} frequency rows cannot be averaged down to {freq_out}")
    forward, _ = _time_resampler(image.shape[-1], time_out)
    groups = _group_mean(image.shape[-2], freq_out)
    if params.freq_pooling == "db":
        return _apply(image, groups, forward)
    # "power": unit → power over the floor's (exp of the dB range), mean per group, back to unit
    span = (params.db_ceiling - params.db_floor) * math.log(10) / 10  # the dB range in natural-log units of power
    power = _apply(torch.exp(image.float() * span), groups, None)  # float32: exp(23) overflows float16
    return _apply((torch.log(power) / span).clamp(0.0, 1.0).to(image.dtype), None, forward)


def from_model_image(image: torch.Tensor, num_frames: int, params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """[..., 512, 512] → [..., 1024, num_frames]: exact inverse in time, linear interpolation in frequency."""
    _, inverse = _time_resampler(num_frames, image.shape[-1])
    rows = _linear_resampler(image.shape[-2], params.num_bins)
    return _apply(image, rows, inverse).clamp(0.0, 1.0)


def to_superres_image(image: torch.Tensor, params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """[..., 1024, T] → [..., 1024, 512]: linear interpolation in time only."""
    forward, _ = _time_resampler(image.shape[-1], params.superres_size[1])
    return _apply(image, None, forward)


def from_superres_image(image: torch.Tensor, num_frames: int,
                        params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """[..., 1024, 512] → [..., 1024, num_frames]: the exact left inverse of ``to_superres_image``."""
    _, inverse = _time_resampler(num_frames, image.shape[-1])
    return _apply(image, None, inverse).clamp(0.0, 1.0)


def waveform_to_unit(waveform: torch.Tensor, params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """Waveform [..., n] → normalised spectrogram [..., 1024, n // hop] in [0, 1]."""
    return magnitude_to_unit(stft_magnitude(waveform, params), params)
