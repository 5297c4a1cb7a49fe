"""Waveforms of any length ↔ batches of model-resolution spectrogram images, one per 10 s window.

``encode_windows`` and ``decode_windows`` are the audio side of the method with nothing learned in between: running one
after the other measures the "vocoder ceiling", the best any generated 512 × 512 spectrogram can sound.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP, ClipSpec
from egosonics.spectrogram.griffin_lim import griffin_lim
from egosonics.spectrogram.params import DEFAULT_PARAMS, SpectrogramParams
from egosonics.spectrogram.transform import from_model_image, to_model_image, unit_to_magnitude, waveform_to_unit
from egosonics.utils.logging import progress

log = logging.getLogger(__name__)


def split_waveform(waveform: np.ndarray | torch.Tensor, clip: ClipSpec = DEFAULT_CLIP) -> torch.Tensor:
    """[n] → [B, clip.num_samples]: consecutive windows, the last one zero-padded."""
    wave = torch.as_tensor(np.asarray(waveform, dtype=np.float32))
    count = max(1, -(-wave.shape[-1] // clip.num_samples))
    padded = torch.nn.functional.pad(wave, (0, count * clip.num_samples - wave.shape[-1]))
    return padded.reshape(count, clip.num_samples)


def encode_windows(waveform: np.ndarray | torch.Tensor, *, clip: ClipSpec = DEFAULT_CLIP,
                   params: SpectrogramParams = DEFAULT_PARAMS) -> torch.Tensor:
    """Waveform [n] → model images [B, 512, 512] in [0, 1], B = ceil(n / clip.num_samples)."""
    if clip.sample_rate != params.sample_rate:
        raise ValueError(f"clip sample rate {clip.sample_rate} differs from spectrogram rate {params.sample_rate}")
    windows = split_waveform(waveform, clip)  # [B, 220500]
    return to_model_image(waveform_to_unit(windows, params), params)  # [B, 1024, 430] -> [B, 512, 512]


def decode_windows(images: torch.Tensor, num_samples: int, *, clip: ClipSpec = DEFAULT_CLIP,
                   params: SpectrogramParams = DEFAULT_PARAMS, n_iter: int = 32, momentum: float = 0.99,
                   seed: int = 0, batch_size: int = 2, vocoder: torch.nn.Module | None = None,
                   init: str = "random") -> np.ndarray:
    """Model images [B, 512, 512] → waveform [num_samples] by fast Griffin-Lim (or ``vocoder``), window by window.

    The same ``seed`` gives the same waveform. Windows are inverted ``batch_size`` at a time with a progress bar.
    ``vocoder``: a learned vocoder (``models.vocoder.FourierVocoder``) to use instead of Griffin-Lim. ``init``:
    Griffin-Lim's start ("random" or "phase-gradient", see ``griffin_lim``).
    """
    generator = torch.Generator().manual_seed(seed)
    frames = params.num_frames(clip.num_samples)
    pieces = []
    batches = range(0, images.shape[0], batch_size)
    desc = "Griffin-Lim" if vocoder is None else "vocoder"
    for start in progress(batches, desc=desc, total=len(batches), unit="batch",
                          disable=None if len(batches) > 1 else True):
        unit = from_model_image(images[start:start + batch_size].float(), frames, params)  # [b, 1024, 430]
        magnitude = unit_to_magnitude(unit, params)
        if vocoder is not None:
            with torch.inference_mode():
                pieces.append(vocoder(magnitude, clip.num_samples))  # [b, 220500]
            continue
        pieces.append(griffin_lim(magnitude, clip.num_samples, params, n_iter=n_iter, momentum=momentum,
                                  init=init, generator=generator))  # [b, 220500]
    waveform = torch.cat(pieces).reshape(-1)[:num_samples]
    return waveform.numpy().astype(np.float32)
