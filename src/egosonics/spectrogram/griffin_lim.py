"""Fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013), batched, in torch.

Each iteration projects onto consistent spectrograms (istft → stft) and extrapolates with momentum α:
    c_n = P(t_{n-1}),  t_n = c_n − α / (1 + α) · c_{n-1}      (librosa's parameterisation; α = 0 is plain Griffin-Lim)
then keeps the target magnitudes. Same iterations and momentum as ``librosa.griffinlim`` give the same algorithm.
"""

from __future__ import annotations

import math

import torch

from egosonics.spectrogram.params import DEFAULT_PARAMS, SpectrogramParams
from egosonics.spectrogram.phase_gradient import phase_from_magnitude
from egosonics.spectrogram.transform import istft, stft


def pad_to_stft_grid(magnitude: torch.Tensor, num_samples: int, params: SpectrogramParams) -> torch.Tensor:
    """Kept grid [..., num_bins, num_frames] → full grid [..., n_fft/2+1, 1 + ceil(n / hop)].

    Missing frequency rows (Nyquist) are zero; missing frames at the end repeat the last kept frame.
    """
    full_bins = params.n_fft // 2 + 1
    frames = params.stft_frames(num_samples)
    if magnitude.shape[-2] > full_bins or magnitude.shape[-1] > frames:
        raise ValueError(f"magnitude {tuple(magnitude.shape[-2:])} does not fit {num_samples} samples "
                         f"({full_bins} bins, {frames} frames at most)")
    out = torch.nn.functional.pad(magnitude, (0, 0, 0, full_bins - magnitude.shape[-2]))
    missing = frames - out.shape[-1]
    if missing:
        out = torch.cat([out, out[..., -1:].expand(*out.shape[:-1], missing)], dim=-1)
    return out


@torch.inference_mode()
def griffin_lim(
    magnitude: torch.Tensor,
    num_samples: int,
    params: SpectrogramParams = DEFAULT_PARAMS,
    *,
    n_iter: int = 32,
    momentum: float = 0.99,
    init: str | torch.Tensor = "random",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Estimate a waveform whose |STFT| matches ``magnitude``.

    Args:
        magnitude: |STFT| [..., F, T] with F ≤ n_fft/2+1 rows from 0 Hz (e.g. the kept 1024 × 430 grid).
        num_samples: output length n.
        params: STFT settings.
        n_iter: iterations.
        momentum: α of fast Griffin-Lim; 0 gives the original algorithm. Values above 1 may diverge.
        init: "random" (uniform phase from ``generator``), "zeros" (zero phase), "phase-gradient" (the phase
            integrated from the magnitude's gradient, ``spectrogram.phase_gradient``), or a complex tensor of unit
            phases on the full grid [..., n_fft/2+1, frames] (e.g. a learned vocoder's phase estimate).
        generator: seeds the random phase, so the same seed gives the same waveform.

    Returns:
        Waveform [..., num_samples], in ``magnitude``'s dtype.
    """
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1, got {n_iter}")
    if not 0 <= momentum < 2:
        raise ValueError(f"momentum must be in [0, 2), got {momentum}")
    target = pad_to_stft_grid(magnitude.float(), num_samples, params)  # [..., 1025, frames]
    length = params.hop_length * math.ceil(num_samples / params.hop_length)  # istft length that gives `frames`
    if isinstance(init, torch.Tensor):
        if init.shape != target.shape or not init.is_complex():
            raise ValueError(f"init phases must be complex {tuple(target.shape)}, got {init.dtype} {tuple(init.shape)}")
        angles = init.to(torch.complex64).clone()
    elif init == "random":
        phase = torch.rand(target.shape, generator=generator, device="cpu").to(target.device) * (2 * math.pi)
        angles = torch.polar(torch.ones_like(target), phase)
    elif init == "zeros":
        angles = torch.ones_like(target, dtype=torch.complex64)
    elif init == "phase-gradient":
        angles = phase_from_magnitude(target, params)
    else:
        raise ValueError(f"unknown init {init!r}; choose from ['random', 'zeros', 'phase-gradient']")
    waveform = iterate(angles, target, params, length, n_iter=n_iter, momentum=momentum)[..., :num_samples]
    return waveform.to(magnitude.dtype)


def iterate(angles: torch.Tensor, target: torch.Tensor, params: SpectrogramParams, length: int, *, n_iter: int,
            momentum: float) -> torch.Tensor:
    """``n_iter`` fast Griffin-Lim iterations from unit phases ``angles`` for magnitudes ``target`` (both on the full
    grid [..., n_fft/2+1, frames]) → waveform [..., length].

    Under inference mode it works in place (``angles`` is consumed); with gradients enabled it is differentiable
    (the learned vocoder trains through it) and normalises phases with a small ε, where sgn's gradient at 0 is not
    defined.
    """
    differentiable = torch.is_grad_enabled() and (angles.requires_grad or target.requires_grad)
    previous = torch.zeros_like(angles)
    beta = momentum / (1 + momentum)
    for _ in range(n_iter):
        if differentiable:
            rebuilt = stft(istft(angles * target, params, length), params)
            step = rebuilt - beta * previous if momentum else rebuilt
            angles = step / torch.sqrt(step.real ** 2 + step.imag ** 2 + 1e-12)
        else:  # in place where possible: fewer passes over memory matter more than FLOPs here
            rebuilt = stft(istft(angles.mul_(target), params, length), params)
            angles = torch.sgn(torch.sub(rebuilt, previous, alpha=beta)) if momentum else torch.sgn(rebuilt)
        previous = rebuilt
    return istft(angles * target if differentiable else angles.mul_(target), params, length)
