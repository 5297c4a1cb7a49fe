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
from egosonics.options import DEFAULTS, GenerateOptions
from egosonics.pipeline import EgoSonicsPipeline
from egosonics.spectrogram.transform import waveform_to_unit
from egosonics.utils.logging import progress
from egosonics.utils.output import check_writable

log = logging.getLogger(__name__)


@dataclass
class GenerateReport:
    """What a run wrote, and which inputs failed and why."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


OUTPUT_TAG = ".egosonics"  # outputs are NAME.egosonics.EXT: never taken as inputs when a folder is searched


def is_output(path: Path) -> bool:
    """Whether ``path`` is named as this tool names its outputs (``NAME.egosonics.EXT``)."""
    return Path(path.stem).suffix == OUTPUT_TAG


def collect_inputs(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, and the video files inside folders (searched recursively, sorted).

    A folder search skips hidden files and folders (a ``.NAME.partial-*`` file is an output being written) and the
    outputs of an earlier run (``NAME.egosonics.EXT``), so that ``generate DIR -o DIR`` run twice reads the same
    inputs both times. A file named on the command line is taken as it is. A file given twice is read once.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in candidate.relative_to(path).parts)
                if (candidate.is_file() and is_video_file(candidate) and not hidden
                        and not is_output(candidate)):
                    found.append(candidate)
        else:
            found.append(path)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def output_paths(inputs: list[Path], out: Path) -> dict[Path, Path]:
    """Each input's output video, checked before anything is written.

    One input and a file name: ``out`` itself. Otherwise ``out`` is a folder that mirrors the inputs' tree below the
    folder they all share: ``DIR/a/x.mp4`` and ``DIR/b/x.mp4`` go to ``out/a/x.egosonics.mp4`` and
    ``out/b/x.egosonics.mp4``.

    Raises:
        EgoSonicsError: an output would be one of the inputs, or two inputs would write the same output.
    """
    if len(inputs) == 1 and is_video_file(out) and not out.is_dir():
        targets = {inputs[0]: out}
    else:
        folders = {src: Path(os.path.abspath(src)).parent for src in inputs}  # as named: symlinks not followed
        base = Path(os.path.commonpath(list(folders.values())))
        targets = {src: out / folders[src].relative_to(base) / f"{src.stem}{OUTPUT_TAG}{src.suffix.lower() or '.mp4'}"
                   for src in inputs}
    by_path = {src.resolve(): src for src in inputs}
    by_inode = {(st.st_dev, st.st_ino): src for src in inputs if (st := _stat(src)) is not None}  # hard links too
    taken: dict[Path, Path] = {}
    for src, dst in targets.items():
        key = dst.resolve()
        st = _stat(dst)
        clash = by_path.get(key) or (by_inode.get((st.st_dev, st.st_ino)) if st is not None else None)
        if clash is not None:
            raise EgoSonicsError(f"{dst}: output path is the input file {clash}; refusing to overwrite an input")
        if key in taken:
            raise EgoSonicsError(f"{dst}: inputs {taken[key]} and {src} would both be written here; give them "
                                 "different names or generate them separately")
        taken[key] = src
    return targets


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
                   options: GenerateOptions = DEFAULTS) -> GenerateReport:
    """Generate audio for each input and write ``<out>`` (video copied + new audio), and optionally WAV and PNG."""
    if not math.isfinite(options.overlap_s) or not 0 <= options.overlap_s < pipe.clip_spec.duration_s:
        raise EgoSonicsError(f"overlap must be in [0, {pipe.clip_spec.duration_s}) s, got {options.overlap_s}")
    report = GenerateReport()
    targets = output_paths(inputs, out)  # refuses, before any work, an output that is an input or a shared output
    for src, dst in targets.items():
        try:
            if dst != out:  # a folder of outputs, mirroring the inputs' tree
                dst.parent.mkdir(parents=True, exist_ok=True)
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
                from egosonics.spectrogram.figure import plot_spectrograms  # matplotlib: only when asked for

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
