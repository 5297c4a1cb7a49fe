"""``egosonics generate``: videos of any length and frame rate in, the same videos with generated audio out.

Each video is cut into overlapping 10 s windows (``media.windows``); frames are decoded at 30 fps per window, the
pipeline generates a soundtrack per window (several windows per batch), and consecutive windows are joined with an
equal-power crossfade over their overlap. The model is loaded once per run. One bad file is reported and the batch
goes on.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from egosonics.errors import EgoSonicsError
from egosonics.media.audio import limit_peak, write_audio
from egosonics.media.formats import is_video_file
from egosonics.media.mux import mux_audio
from egosonics.media.video import read_frames, video_span_s
from egosonics.media.windows import Window, split_windows
from egosonics.models.frame_encoder import frame_input_size
from egosonics.pipeline import EgoSonicsPipeline
from egosonics.spectrogram.figure import plot_spectrograms
from egosonics.spectrogram.transform import waveform_to_unit
from egosonics.utils.logging import progress
from egosonics.utils.output import check_writable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerateOptions:
    """Sampling settings for every file of a run."""

    steps: int = 20
    guidance: float = 3.0
    seed: int = 0
    batch_size: int = 4
    overlap_s: float = 2.0
    griffin_lim_iters: int = 32
    write_wav: bool = False
    write_png: bool = False


@dataclass
class GenerateReport:
    """What a run wrote, and which inputs failed and why."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def collect_inputs(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, and the video files inside folders (sorted, not recursive)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file() and is_video_file(p)))
        else:
            found.append(path)
    return found


def output_paths(inputs: list[Path], out: Path) -> dict[Path, Path]:
    """Each input's output video: ``out`` itself for one input and a file name, else ``out/<stem>.egosonics<ext>``."""
    if len(inputs) == 1 and is_video_file(out) and not out.is_dir():
        return {inputs[0]: out}
    out.mkdir(parents=True, exist_ok=True)
    return {src: out / f"{src.stem}.egosonics{src.suffix.lower() or '.mp4'}" for src in inputs}


def crossfade_join(pieces: list[np.ndarray], windows: list[Window], sample_rate: int, total: int) -> np.ndarray:
    """Join window waveforms placed at their start times; overlaps get an equal-power (cos/sin) crossfade."""
    out = np.zeros(total, np.float32)
    written_to = 0  # samples [0, written_to) hold earlier windows
    for piece, window in zip(pieces, windows, strict=True):
        start = round(window.start_s * sample_rate)
        piece = piece[: max(0, total - start)]
        overlap = max(0, min(written_to - start, len(piece)))
        if overlap:
            theta = np.linspace(0.0, np.pi / 2, overlap, dtype=np.float32)
            region = slice(start, start + overlap)
            out[region] = out[region] * np.cos(theta) + piece[:overlap] * np.sin(theta)
        out[start + overlap:start + len(piece)] = piece[overlap:]
        written_to = max(written_to, start + len(piece))
    return out


def generate_waveform(pipe: EgoSonicsPipeline, video: Path, options: GenerateOptions, *,
                      span_s: tuple[float, float] | None = None) -> tuple[np.ndarray, float]:
    """The generated soundtrack of one video, as long as its video stream: (waveform [n], duration in s).

    ``span_s`` is the video's (start, end) from ``video_span_s``, when the caller has probed it already.
    """
    clip = pipe.clip_spec
    start_s, end_s = span_s if span_s is not None else video_span_s(video)
    duration = end_s - start_s
    hop = clip.duration_s - options.overlap_s
    windows = split_windows(duration, window_s=clip.duration_s, hop_s=hop)
    size = frame_input_size(pipe.frame_encoder)
    generator = torch.Generator().manual_seed(options.seed)
    pieces: list[np.ndarray] = []
    batches = range(0, len(windows), options.batch_size)
    for first in progress(batches, desc=video.name, total=len(batches), unit="batch",
                          disable=None if len(batches) > 1 else True):
        group = windows[first:first + options.batch_size]
        frames = np.stack([read_frames(video, start_s=w.start_s, duration_s=clip.duration_s, fps=clip.fps, size=size,
                                       crop=True).frames for w in group])  # [b, 300, s, s, 3]
        out = pipe(torch.from_numpy(frames), num_inference_steps=options.steps, guidance_scale=options.guidance,
                   generator=generator, griffin_lim_iters=options.griffin_lim_iters)
        pieces.extend(out.waveforms.numpy())
    total = round(duration * clip.sample_rate)
    return crossfade_join(pieces, windows, clip.sample_rate, total), duration


def generate_files(pipe: EgoSonicsPipeline, inputs: list[Path], out: Path,
                   options: GenerateOptions = GenerateOptions()) -> GenerateReport:
    """Generate audio for each input and write ``<out>`` (video copied + new audio), and optionally WAV and PNG."""
    if not math.isfinite(options.overlap_s) or not 0 <= options.overlap_s < pipe.clip_spec.duration_s:
        raise ValueError(f"overlap must be in [0, {pipe.clip_spec.duration_s}) s, got {options.overlap_s}")
    report = GenerateReport()
    targets = output_paths(inputs, out)
    for src, dst in targets.items():
        try:
            check_writable(dst, inputs=(src,))
            span = video_span_s(src)  # the one probe of the file; each window then opens it once, and mux once
            waveform, duration = generate_waveform(pipe, src, options, span_s=span)
            waveform = limit_peak(waveform)
            mux_audio(src, waveform, pipe.clip_spec.sample_rate, dst, span_s=span)
            report.written.append(dst)
            if options.write_wav:
                wav = dst.with_suffix(".wav")
                write_audio(wav, waveform, pipe.clip_spec.sample_rate, inputs=(src,))
                report.written.append(wav)
            if options.write_png:
                png = dst.with_suffix(".png")
                unit = waveform_to_unit(torch.from_numpy(waveform), pipe.spectrogram_params)
                plot_spectrograms(png, [(f"generated for {src.name}", unit)], pipe.spectrogram_params,
                                  duration_s=duration)
                report.written.append(png)
            log.info("%s → %s", src, dst)
        except EgoSonicsError as exc:
            log.error("%s", exc)
            report.failed.append((src, str(exc)))
    return report
