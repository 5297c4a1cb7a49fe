"""Paired spectral metrics between a reference and an estimated waveform (EVALUATION.md §5, §7.2 ``spec_paired``).

Lower is better and identical signals give 0 for SC, log-STFT magnitude, MR-STFT, LSD, mel-L1 and MCD-MFCC; higher is
better for the RMS-envelope correlation (1 at best) and SI-SDR (dB). ``PairedSpectralMetrics`` collects them all.
For generative video-to-audio these measure closeness to the one real take, which punishes valid alternative sounds:
use them for reconstruction and vocoder checks, and as secondary numbers only (§5).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.evaluation.base import Metric, nan_mean
from egosonics.evaluation.features import as_waveform, magnitude_spectrogram, mel_spectrogram, mfcc
from egosonics.spectrogram.params import DEFAULT_PARAMS, SpectrogramParams
from egosonics.spectrogram.transform import stft


def _magnitudes(reference: torch.Tensor, estimate: torch.Tensor,
                params: SpectrogramParams) -> tuple[torch.Tensor, torch.Tensor]:
    if reference.shape != estimate.shape:
        raise ValueError(f"reference {tuple(reference.shape)} and estimate {tuple(estimate.shape)} differ in shape")
    ref, est = stft(reference.float(), params), stft(estimate.float(), params)
    # auraloss's magnitude: sqrt(clamp(re² + im², 1e-7))
    return (torch.sqrt(torch.clamp(ref.real ** 2 + ref.imag ** 2, min=1e-7)),
            torch.sqrt(torch.clamp(est.real ** 2 + est.imag ** 2, min=1e-7)))


def spectral_convergence(reference: torch.Tensor, estimate: torch.Tensor,
                         params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """SC = ‖|S| − |Ŝ|‖_F / ‖|S|‖_F per signal (Arik et al. 2018): [..., n] → [...]."""
    ref, est = _magnitudes(reference, estimate, params)
    return torch.linalg.vector_norm(ref - est, dim=(-2, -1)) / torch.linalg.vector_norm(ref, dim=(-2, -1))


def log_spectral_distance(reference: torch.Tensor, estimate: torch.Tensor,
                          params: SpectrogramParams = DEFAULT_PARAMS, eps: float = 1e-10) -> torch.Tensor:
    """LSD = mean_t sqrt(mean_f (log10 P − log10 P̂)²), P = |STFT|² + eps, in log10-power units: [..., n] → [...].

    Multiply by 10 for dB. x against 2x gives log10(4) ≈ 0.602.
    """
    if reference.shape != estimate.shape:
        raise ValueError(f"reference {tuple(reference.shape)} and estimate {tuple(estimate.shape)} differ in shape")
    ref = stft(reference.float(), params).abs() ** 2 + eps
    est = stft(estimate.float(), params).abs() ** 2 + eps
    diff = torch.log10(ref) - torch.log10(est)  # [..., F, T]
    return torch.sqrt((diff ** 2).mean(dim=-2)).mean(dim=-1)


# ------------------------------------------------------------------------------------------------ more paired metrics
# EVALUATION.md §5 and §7.2 ``spec_paired``. Inputs are waveforms [..., n] (torch or numpy) of the same shape;
# outputs are per-signal values [...] (torch). auraloss pools a whole batch into one Frobenius norm; we score each
# clip separately, which is the same thing for a batch of one.

AURALOSS_FFT_SIZES = (1024, 2048, 512)
AURALOSS_HOP_SIZES = (120, 240, 50)
AURALOSS_WIN_LENGTHS = (600, 1200, 240)
_AURALOSS_FLOOR = 1e-7  # auraloss clamps re² + im² at this before the square root


def _pair(reference: torch.Tensor | np.ndarray, estimate: torch.Tensor | np.ndarray,
          dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    ref, est = as_waveform(reference, dtype=dtype), as_waveform(estimate, dtype=dtype)
    if ref.shape != est.shape:
        raise ValueError(f"reference {tuple(ref.shape)} and estimate {tuple(est.shape)} differ in shape")
    if ref.shape[-1] == 0:
        raise ValueError("reference and estimate are empty (0 samples)")
    return ref, est


def log_stft_magnitude(reference: torch.Tensor | np.ndarray, estimate: torch.Tensor | np.ndarray,
                       params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """Log STFT magnitude distance, mean |log|S| − log|Ŝ|| over all bins (auraloss ``LogSTFTMagnitudeLoss``),
    magnitudes clamped as auraloss does: [..., n] → [...]."""
    ref, est = _magnitudes(*_pair(reference, estimate), params)
    return (torch.log(ref) - torch.log(est)).abs().mean(dim=(-2, -1))


def multi_resolution_stft(reference: torch.Tensor | np.ndarray, estimate: torch.Tensor | np.ndarray, *,
                          fft_sizes: tuple[int, ...] = AURALOSS_FFT_SIZES,
                          hop_sizes: tuple[int, ...] = AURALOSS_HOP_SIZES,
                          win_lengths: tuple[int, ...] = AURALOSS_WIN_LENGTHS) -> torch.Tensor:
    """Multi-resolution STFT distance (Yamamoto et al.; auraloss ``MultiResolutionSTFTLoss`` defaults):
    mean over resolutions of SC + mean over resolutions of LogMag, each resolution a centred, reflect-padded STFT with
    a Hann window of ``win_length`` (torch.stft's defaults, as auraloss calls it). [..., n] → [...]; 0 for identical
    signals. Signals must be longer than n_fft / 2 (reflect padding)."""
    if not len(fft_sizes) == len(hop_sizes) == len(win_lengths) > 0:
        raise ValueError(f"need as many fft_sizes {fft_sizes}, hop_sizes {hop_sizes} and win_lengths {win_lengths}")
    ref, est = _pair(reference, estimate)
    sc, mag = torch.zeros(ref.shape[:-1]), torch.zeros(ref.shape[:-1])
    for n_fft, hop, win in zip(fft_sizes, hop_sizes, win_lengths, strict=True):
        r = magnitude_spectrogram(ref, n_fft=n_fft, hop_length=hop, win_length=win, pad_mode="reflect",
                           floor=_AURALOSS_FLOOR)  # [..., F, T]
        e = magnitude_spectrogram(est, n_fft=n_fft, hop_length=hop, win_length=win, pad_mode="reflect",
                           floor=_AURALOSS_FLOOR)
        sc += torch.linalg.vector_norm(r - e, dim=(-2, -1)) / torch.linalg.vector_norm(r, dim=(-2, -1))
        mag += (torch.log(r) - torch.log(e)).abs().mean(dim=(-2, -1))
    return (sc + mag) / len(fft_sizes)


MEL_L1_SETTINGS = {"n_fft": 1024, "hop_length": 256, "n_mels": 80, "fmin": 0.0, "fmax": None, "log_offset": 1e-5}


def mel_l1(reference: torch.Tensor | np.ndarray, estimate: torch.Tensor | np.ndarray, *,
           sample_rate: int = DEFAULT_CLIP.sample_rate) -> torch.Tensor:
    """Mel-L1, the HiFi-GAN/BigVGAN validation metric: mean |log(mel + 1e-5) − log(mel̂ + 1e-5)| with 80 Slaney
    mels from 0 Hz to Nyquist on |STFT| (magnitude, n_fft 1024, hop 256, centred, zero-padded): [..., n] → [...]."""
    ref, est = _pair(reference, estimate)
    s = MEL_L1_SETTINGS
    kwargs = {"sample_rate": sample_rate, "n_fft": s["n_fft"], "hop_length": s["hop_length"], "n_mels": s["n_mels"],
              "fmin": s["fmin"], "fmax": s["fmax"], "power": 1.0}
    r = torch.log(mel_spectrogram(ref, **kwargs) + s["log_offset"])  # [..., 80, T]
    e = torch.log(mel_spectrogram(est, **kwargs) + s["log_offset"])
    return (r - e).abs().mean(dim=(-2, -1))


def mcd_mfcc(reference: torch.Tensor | np.ndarray, estimate: torch.Tensor | np.ndarray, *,
             sample_rate: int = DEFAULT_CLIP.sample_rate, n_mfcc: int = 13) -> torch.Tensor:
    """MCD-MFCC in dB: per frame (10/ln 10)·sqrt(2·Σ_{d=1}^{n_mfcc−1} (c_d − ĉ_d)²), averaged over frames, on librosa-
    style MFCCs (``features.mfcc`` defaults; c0 dropped). A weight-free stand-in for SPTK mel-cepstral distortion,
    **not** comparable with it (EVALUATION.md §5). Same-length signals, no DTW: [..., n] → [...]."""
    ref, est = _pair(reference, estimate)
    r = mfcc(ref, sample_rate=sample_rate, n_mfcc=n_mfcc)[..., 1:, :].double()  # [..., 12, T]
    e = mfcc(est, sample_rate=sample_rate, n_mfcc=n_mfcc)[..., 1:, :].double()
    per_frame = (10.0 / math.log(10.0)) * torch.sqrt(2.0 * ((r - e) ** 2).sum(dim=-2))  # [..., T]
    return per_frame.mean(dim=-1)


def rms_envelope_correlation(reference: torch.Tensor | np.ndarray, estimate: torch.Tensor | np.ndarray, *,
                             hop: int = 735) -> torch.Tensor:
    """Pearson r between the RMS envelopes of non-overlapping ``hop``-sample frames (735 = one video frame at
    22,050 Hz / 30 fps): [..., n] → [...]. Higher is better, 1 for identical envelopes; NaN when an envelope is
    constant (e.g. silence)."""
    ref, est = _pair(reference, estimate, dtype=torch.float64)
    frames = ref.shape[-1] // hop
    if frames < 2:
        raise ValueError(f"need at least 2 frames of {hop} samples for a correlation, got {ref.shape[-1]} samples")
    r = ref[..., : frames * hop].reshape(*ref.shape[:-1], frames, hop).pow(2).mean(-1).sqrt()  # [..., T]
    e = est[..., : frames * hop].reshape(*est.shape[:-1], frames, hop).pow(2).mean(-1).sqrt()
    r, e = r - r.mean(-1, keepdim=True), e - e.mean(-1, keepdim=True)
    denom = torch.sqrt((r * r).sum(-1) * (e * e).sum(-1))
    return torch.where(denom > 0, (r * e).sum(-1) / torch.where(denom > 0, denom, 1.0), torch.nan)


SI_SDR_RELATIVE_FLOOR = 1e-15  # residual energy floor relative to the target's: caps SI-SDR at 150 dB


def si_sdr(reference: torch.Tensor | np.ndarray, estimate: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Scale-invariant SDR in dB (Le Roux et al. 2019), float64: [..., n] → [...]. Higher is better.

    s and ŝ are made zero-mean; α = ⟨ŝ, s⟩ / ‖s‖²; SI-SDR = 10·log10(‖αs‖² / ‖αs − ŝ‖²). The residual energy is floored
    at 1e-15·‖αs‖², which caps the value at 150 dB (beyond that the residual is round-off) without breaking scale
    invariance: SI-SDR(x, c·x) = SI-SDR(x, x) for any c ≠ 0. Phase-sensitive: meaningful only for sample-exact
    pipelines (EVALUATION.md §5). NaN when the reference is silent.
    """
    ref, est = _pair(reference, estimate, dtype=torch.float64)
    ref = ref - ref.mean(-1, keepdim=True)
    est = est - est.mean(-1, keepdim=True)
    ref_energy = (ref * ref).sum(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / torch.where(ref_energy > 0, ref_energy, 1.0)
    target = alpha * ref
    target_energy = (target * target).sum(-1)
    noise = target - est
    noise_energy = torch.maximum((noise * noise).sum(-1), SI_SDR_RELATIVE_FLOOR * target_energy)
    value = 10.0 * torch.log10(target_energy / noise_energy)
    return torch.where(ref_energy.squeeze(-1) > 0, value, torch.nan)


class PairedSpectralMetrics(Metric):
    """``spec_paired`` (EVALUATION.md §7.2): every paired metric of this module per (reference, estimate) clip.

    Directions: lower is better for ``sc``, ``log_mag``, ``mr_stft``, ``lsd``, ``mel_l1`` and ``mcd_mfcc`` (0 for
    identical signals); higher is better for ``rms_env_r`` (1 at best) and ``si_sdr`` (dB, capped at 150).
    ``sc`` and ``log_mag`` use ``params`` (n_fft 2048, hop 512: the resolution of our spectrogram, so they match the
    vocoder-ceiling numbers of ``egosonics.resynth``); ``mr_stft`` uses auraloss's three resolutions; ``lsd`` is
    log10 power per frame (×10 for dB).

    ``compute()`` returns the mean of each metric over clips (NaN values skipped; counted in ``n_nan_<metric>``)
    and ``n``; ``rows`` keeps the per-clip values in update order.
    """

    higher_is_better = False
    NAMES = ("sc", "log_mag", "mr_stft", "lsd", "mel_l1", "mcd_mfcc", "rms_env_r", "si_sdr")

    def __init__(self, *, sample_rate: int = DEFAULT_CLIP.sample_rate, params: SpectrogramParams = DEFAULT_PARAMS,
                 envelope_hop: int | None = None) -> None:
        if params.sample_rate != sample_rate:
            raise ValueError(f"params.sample_rate {params.sample_rate} differs from sample_rate {sample_rate}")
        self.sample_rate, self.params = sample_rate, params
        self.envelope_hop = envelope_hop or round(sample_rate / DEFAULT_CLIP.fps)  # 735: one video frame
        self.reset()

    def reset(self) -> None:
        self.rows: list[dict[str, float]] = []

    @torch.inference_mode()
    def update(self, reference: torch.Tensor | np.ndarray, estimate: torch.Tensor | np.ndarray) -> list[dict]:
        """Score one clip [n] or a batch [b, n] of same-length clips; returns the new rows."""
        ref, est = _pair(reference, estimate)
        ref, est = ref.reshape(-1, ref.shape[-1]), est.reshape(-1, est.shape[-1])  # [b, n]
        values = {
            "sc": spectral_convergence(ref, est, self.params),
            "log_mag": log_stft_magnitude(ref, est, self.params),
            "mr_stft": multi_resolution_stft(ref, est),
            "lsd": log_spectral_distance(ref, est, self.params),
            "mel_l1": mel_l1(ref, est, sample_rate=self.sample_rate),
            "mcd_mfcc": mcd_mfcc(ref, est, sample_rate=self.sample_rate),
            "rms_env_r": rms_envelope_correlation(ref, est, hop=self.envelope_hop),
            "si_sdr": si_sdr(ref, est),
        }
        new = [{name: float(values[name][i]) for name in self.NAMES} for i in range(ref.shape[0])]
        self.rows.extend(new)
        return new

    def compute(self) -> dict[str, float | int]:
        if not self.rows:
            raise ValueError("no clips added: call update(reference, estimate) first")
        out: dict[str, float | int] = {"n": len(self.rows)}
        for name in self.NAMES:
            column = [row[name] for row in self.rows]
            out[name] = nan_mean(column)
            out[f"n_nan_{name}"] = sum(not math.isfinite(v) for v in column)
        return out
