"""Paired spectral metrics between a reference and an estimated waveform (EVALUATION.md §5).

Lower is better for all of them; identical signals give 0.
"""

from __future__ import annotations

import torch

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
