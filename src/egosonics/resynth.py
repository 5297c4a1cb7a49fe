"""``egosonics resynth``: a video's own audio through the method's spectrogram path and back, then muxed.

audio → 512 × 512 spectrogram windows → |STFT| → fast Griffin-Lim (or a learned vocoder) → the same video with the
resynthesised track.
The spectral convergence and log-spectral distance against the original are the "vocoder ceiling": no generated
spectrogram, however good, can sound closer to the original than this.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP, ClipSpec
from egosonics.evaluation.spectral import log_spectral_distance, spectral_convergence
from egosonics.media.audio import audio_format, limit_peak, read_audio, write_audio
from egosonics.media.files import check_readable, check_video
from egosonics.media.mux import mux_audio
from egosonics.media.video import video_span_s
from egosonics.spectrogram.codec import decode_windows, encode_windows
from egosonics.spectrogram.params import DEFAULT_PARAMS, SpectrogramParams
from egosonics.utils.output import check_writable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResynthResult:
    """What ``resynthesize`` wrote and measured (SC and LSD: lower is better, 0 = identical)."""

    output: Path
    duration_s: float
    windows: int
    spectral_convergence: float
    log_spectral_distance: float
    wav: Path | None = None


def resynthesize(video: str | os.PathLike[str], out: str | os.PathLike[str], *, n_iter: int = 32,
                 momentum: float = 0.99, seed: int = 0, wav: str | os.PathLike[str] | None = None,
                 clip: ClipSpec = DEFAULT_CLIP, params: SpectrogramParams = DEFAULT_PARAMS,
                 vocoder: torch.nn.Module | None = None, init: str = "random") -> ResynthResult:
    """Resynthesise ``video``'s audio through the model-resolution spectrogram and write it muxed to ``out``.

    ``vocoder``: a learned vocoder (``loading.resolve_vocoder``) instead of Griffin-Lim; ``init``: Griffin-Lim's start
    ("random" or "phase-gradient").
    """
    # 1. Check the input and the outputs before any work, so a bad path fails fast and nothing is written. The video
    #    must be one the rest of EgoSonics can decode (known codec, within the pixel limit), though only copied here.
    check_readable(video)
    check_writable(out, inputs=(video,))
    if wav is not None:
        audio_format(wav)
        check_writable(wav, inputs=(video,))
    check_video(video)
    # 2. Decode the audio stream alone, over the video's span (an error if the file is truncated).
    start, end = video_span_s(video)
    duration = end - start
    audio = read_audio(video, sample_rate=clip.sample_rate, start_s=start, duration_s=duration)
    if not np.any(audio):
        log.warning("%s: the audio track is silent", video)
    # 3. Spectrogram windows and back.
    images = encode_windows(audio, clip=clip, params=params)  # [B, 512, 512]
    resynth = decode_windows(images, len(audio), clip=clip, params=params, n_iter=n_iter, momentum=momentum, seed=seed,
                             vocoder=vocoder, init=init)
    # 4. Compare with the original.
    reference, estimate = torch.from_numpy(audio), torch.from_numpy(resynth)
    sc = float(spectral_convergence(reference, estimate, params)) if np.any(audio) else float("nan")
    lsd = float(log_spectral_distance(reference, estimate, params))
    # 5. Write.
    limited = limit_peak(resynth)
    if limited is not resynth:
        log.warning("resynthesised audio peaks at %.2f; limited to full scale", float(np.abs(resynth).max()))
    resynth = limited
    mux_audio(video, resynth, clip.sample_rate, out)
    if wav is not None:
        try:
            write_audio(wav, resynth, clip.sample_rate, inputs=(video,))
        except BaseException:
            Path(out).unlink(missing_ok=True)  # all or nothing: no video output without the WAV asked for
            raise
        log.info("wrote %s", wav)
    return ResynthResult(output=Path(out), duration_s=duration, windows=images.shape[0], spectral_convergence=sc,
                         log_spectral_distance=lsd, wav=Path(wav) if wav is not None else None)

