"""A small Fourier-head vocoder (Vocos-style): the pipeline's linear magnitude → waveform, beside Griffin-Lim.

Our spectrogram keeps all 1,024 linear magnitude bins, so the network's job is mostly phase. It reads the log of the
magnitude, runs a ConvNeXt stack over time (1-D, the frequency bins are channels) and predicts, per bin and frame,
a phase angle p and (optionally) a small log-magnitude correction c; the complex spectrogram
|S| · exp(c) · (cos p + i sin p) is inverted by the same inverse STFT Griffin-Lim uses. Optionally a few fast
Griffin-Lim iterations start from the predicted phase (``refine_iters``; 0 = the network alone).

Two ways to predict the phase (``phase``):
- ``"direct"``: the angle p itself, per bin and frame (Vocos).
- ``"gradient"``: corrections to the phase gradient that ``spectrogram.phase_gradient`` reads off the magnitude
  (its rate along time and along frequency, per bin and frame), integrated into p along PGHI's heap (loudest bins
  first). The corrections start at zero, so an untrained network is that non-learned phase retrieval; training only
  has to fix where the Gaussian-window approximation fails (transients, the -100 dB floor, mixtures). The network
  sees local magnitude, and the quantities it predicts are local too, where the absolute phase is not. (Measured on
  a CPU budget, docs/TRAINING.md: it did not improve on its start.)

    magnitude [B, 1024, T]  ──pad to the STFT grid──►  [B, 1025, T+2]  ──log, /5──►  Conv1d(1024 → dim, 7)
    ──► LayerNorm ──► N × ConvNeXt(dim, depthwise 7, MLP dim → hidden → dim) ──► LayerNorm
    ──► Linear(dim → 1025) = p ("direct") or Linear(dim → 2 × 1025) = gradient corrections → integrate → p
        ("gradient"),  Linear(dim → 1025) = c (zero at start, tanh-bounded)
    ──► |S| e^c e^{ip}  ──istft──►  waveform [B, n]

The correction starts at zero (the input magnitude passes through unchanged) and stays within ±``max_correction``
in log units. The Nyquist row, which the pipeline drops, stays zero as in Griffin-Lim.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from egosonics.spectrogram.griffin_lim import iterate, pad_to_stft_grid
from egosonics.spectrogram.params import SpectrogramParams
from egosonics.spectrogram.phase_gradient import retrieve_phase
from egosonics.spectrogram.transform import istft

PHASE_MODES = ("direct", "gradient")


class ConvNeXtBlock(nn.Module):
    """Depthwise conv over time → LayerNorm → pointwise MLP (GELU) → layer scale, residual: [B, C, T] → [B, C, T]."""

    def __init__(self, dim: int, hidden: int, kernel_size: int, layer_scale: float) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, hidden)
        self.pwconv2 = nn.Linear(hidden, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).transpose(1, 2)  # [B, T, C]
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y))))
        return x + (self.gamma * y).transpose(1, 2)


class FourierVocoder(ModelMixin, ConfigMixin):
    """Args:
    num_bins: magnitude rows the input has (1024: Nyquist dropped).
    n_fft, hop_length, sample_rate: the STFT the magnitude comes from (must match the pipeline's spectrogram).
    dim, hidden_dim, num_layers, kernel_size: the ConvNeXt stack (width, MLP width, blocks, depthwise kernel).
    predict_magnitude: also predict a bounded log-magnitude correction (False: the input magnitude is kept exactly).
    max_correction: bound of that correction in natural-log units (tanh-scaled).
    refine_iters: fast Griffin-Lim iterations run from the predicted phase at inference (0: none).
    refine_momentum: their momentum.
    phase: "direct" (predict the angle) or "gradient" (correct the magnitude's phase gradient, then integrate).
    dynamic_range_db: how far below each window's loudest bin the phase-gradient integration reads
        (``spectrogram.phase_gradient``); "gradient" only.
    """

    @register_to_config
    def __init__(self, num_bins: int = 1024, n_fft: int = 2048, hop_length: int = 512, sample_rate: int = 22_050,
                 dim: int = 192, hidden_dim: int = 576, num_layers: int = 6, kernel_size: int = 7,
                 predict_magnitude: bool = True, max_correction: float = 1.0, refine_iters: int = 0,
                 refine_momentum: float = 0.99, phase: str = "direct", dynamic_range_db: float = 60.0) -> None:
        super().__init__()
        if phase not in PHASE_MODES:
            raise ValueError(f"unknown phase mode {phase!r}; choose from {list(PHASE_MODES)}")
        bins = n_fft // 2 + 1
        self.embed = nn.Conv1d(num_bins, dim, kernel_size, padding=kernel_size // 2)
        self.norm_in = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.ModuleList(ConvNeXtBlock(dim, hidden_dim, kernel_size, 1.0 / num_layers)
                                    for _ in range(num_layers))
        self.norm_out = nn.LayerNorm(dim, eps=1e-6)
        self.phase_head = nn.Linear(dim, bins if phase == "direct" else 2 * bins)
        if phase == "gradient":  # start as the non-learned phase-gradient retrieval
            nn.init.zeros_(self.phase_head.weight)
            nn.init.zeros_(self.phase_head.bias)
        self.magnitude_head = nn.Linear(dim, bins) if predict_magnitude else None
        if self.magnitude_head is not None:  # start as the identity on the magnitude
            nn.init.zeros_(self.magnitude_head.weight)
            nn.init.zeros_(self.magnitude_head.bias)

    @property
    def spectrogram_params(self) -> SpectrogramParams:
        c = self.config
        return SpectrogramParams(sample_rate=c.sample_rate, n_fft=c.n_fft, hop_length=c.hop_length,
                                 num_bins=c.num_bins)

    def check_params(self, params: SpectrogramParams) -> str | None:
        """None when this vocoder was built for ``params``' STFT, else what differs (for an error message)."""
        ours = self.spectrogram_params
        diffs = [f"{name} {getattr(ours, name)}, not {getattr(params, name)}"
                 for name in ("sample_rate", "n_fft", "hop_length", "num_bins")
                 if getattr(ours, name) != getattr(params, name)]
        return "; ".join(diffs) or None

    def spectrum(self, magnitude: torch.Tensor, num_samples: int) -> torch.Tensor:
        """Magnitude [B, num_bins, T] (linear |STFT|) → complex spectrogram [B, n_fft/2+1, 1 + ceil(n / hop)]."""
        params = self.spectrogram_params
        full = pad_to_stft_grid(magnitude.float(), num_samples, params)  # [B, 1025, T']
        # 1. Features: log magnitude relative to a full-scale tone, floored at -100 dB, scaled to about unit range.
        reference = params.reference_magnitude
        x = torch.log(torch.clamp(full[:, : self.config.num_bins], min=reference * 1e-5) / reference) / 5.0
        # 2. ConvNeXt stack over time
        h = self.norm_in(self.embed(x).transpose(1, 2)).transpose(1, 2)  # [B, dim, T']
        for block in self.blocks:
            h = block(h)
        h = self.norm_out(h.transpose(1, 2))  # [B, T', dim]
        # 3. Heads: phase, and a bounded magnitude correction
        phase = self.phase_head(h).transpose(1, 2)  # [B, 1025, T'] ("direct") or [B, 2 × 1025, T'] ("gradient")
        if self.config.phase == "gradient":
            phase = self.integrate(full, *phase.chunk(2, dim=1))
        if self.magnitude_head is not None:
            correction = self.config.max_correction * torch.tanh(self.magnitude_head(h).transpose(1, 2))
            full = full * torch.exp(correction)
        return torch.complex(full * torch.cos(phase), full * torch.sin(phase))

    def integrate(self, full: torch.Tensor, time_correction: torch.Tensor,
                  frequency_correction: torch.Tensor) -> torch.Tensor:
        """Full-grid magnitude and gradient corrections [B, 1025, T'] → phase [B, 1025, T'] (radians)."""
        return retrieve_phase(full, self.spectrogram_params, dynamic_range_db=self.config.dynamic_range_db,
                              corrections=(time_correction, frequency_correction))

    def forward(self, magnitude: torch.Tensor, num_samples: int, *, refine_iters: int | None = None) -> torch.Tensor:
        """Magnitude [B, num_bins, T] → waveform [B, num_samples] (T = num_samples // hop, as the pipeline's grid).

        ``refine_iters`` overrides the configured Griffin-Lim refinement; with gradients enabled the iterations are
        differentiable, so training can optimise the phase the refinement starts from.
        """
        params = self.spectrogram_params
        spec = self.spectrum(magnitude, num_samples)  # [B, 1025, T']
        iters = self.config.refine_iters if refine_iters is None else refine_iters
        length = params.hop_length * math.ceil(num_samples / params.hop_length)
        if iters > 0:
            magnitude = spec.abs()
            angles = spec / torch.sqrt(magnitude ** 2 + 1e-12)
            return iterate(angles, magnitude, params, length, n_iter=iters,
                           momentum=self.config.refine_momentum)[..., :num_samples]
        return istft(spec, params, length)[..., :num_samples]
