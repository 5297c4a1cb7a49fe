"""``egosonics generate``: videos of any length and frame rate in, the same videos with generated audio out.

Each video is cut into overlapping 10 s windows (``media.windows``); frames are decoded once, in order, at 30 fps and
at the frame encoder's size, the pipeline generates a soundtrack per window (several windows per batch), and
consecutive windows are joined with an equal-power crossfade over their overlap. Everything streams: the joined
samples go to a temporary file as they become final and are muxed from there, so memory stays flat for any length
(only ``--png`` reads the whole soundtrack back). The model is loaded once per run. One bad file is reported and the
batch goes on.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from egosonics.errors import EgoSonicsError
from egosonics.media.audio import write_audio
from egosonics.media.files import check_writable
from egosonics.media.mux import mux_audio, video_duration_s
from egosonics.media.video import FrameStream
from egosonics.media.windows import Window, split_windows, window_frames
from egosonics.models.frame_encoder import frame_input_size
from egosonics.pipeline import EgoSonicsPipeline
from egosonics.spectrogram.transform import waveform_to_unit
from egosonics.utils.logging import progress
from egosonics.utils.memory import release_free_memory

log = logging.getLogger(__name__)

PROGRESS_LOG_S = 30.0  # a progress line is logged this often (and after the last window)
VIDEO_EXTENSIONS = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mts", ".ts", ".mpg", ".mpeg", ".wmv", ".flv",
                    ".3gp"}


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

    @property
    def ok(self) -> bool:
        return not self.failed


def collect_inputs(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, and the video files inside folders (sorted, not recursive)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS))
        else:
            found.append(path)
    return found


def output_paths(inputs: list[Path], out: Path) -> dict[Path, Path]:
    """Each input's output video: ``out`` itself for one input and a file name, else ``out/<stem>.egosonics<ext>``."""
    if len(inputs) == 1 and out.suffix.lower() in VIDEO_EXTENSIONS and not out.is_dir():
        return {inputs[0]: out}
    out.mkdir(parents=True, exist_ok=True)
    return {src: out / f"{src.stem}.egosonics{src.suffix.lower() or '.mp4'}" for src in inputs}


class CrossfadeJoiner:
    """Joins window waveforms as they come: each placed at its start time, overlaps given an equal-power (cos/sin)
    crossfade, and the samples that no later window can change handed back at once.

    At most one window's samples are held, whatever the length of the recording. ``crossfade_join`` is the
    all-at-once form.

    Args:
        windows: the windows, in order (``split_windows``).
        sample_rate: samples per second.
        total: the joined length in samples (later samples are dropped, missing ones are zeros).
    """

    def __init__(self, windows: Sequence[Window], sample_rate: int, total: int) -> None:
        self.starts = [min(total, round(w.start_s * sample_rate)) for w in windows]
        if any(b < a for a, b in itertools.pairwise(self.starts)):
            raise ValueError("windows must be in order of their start times")
        self.total = total
        self.done = 0  # samples [0, done) were handed back
        self.pending = np.zeros(0, np.float32)  # samples [done, done + len(pending)) hold earlier windows
        self.count = 0
        self.joins: list[tuple[int, int]] = []  # (start, length) of each crossfade, in samples

    def add(self, piece: np.ndarray) -> np.ndarray:
        """Place the next window's waveform [n]; returns the samples that are now final (possibly none)."""
        if self.count >= len(self.starts):
            raise ValueError(f"more pieces than the {len(self.starts)} windows")
        start = self.starts[self.count]
        self.count += 1
        piece = np.asarray(piece, np.float32)[: self.total - start]
        offset = start - self.done  # where the piece goes in `pending` (>= 0: earlier samples were final)
        end = offset + len(piece)
        buffer = np.zeros(max(end, len(self.pending)), np.float32)
        buffer[: len(self.pending)] = self.pending
        overlap = max(0, min(len(self.pending) - offset, len(piece)))
        if overlap:
            theta = np.linspace(0.0, np.pi / 2, overlap, dtype=np.float32)
            region = slice(offset, offset + overlap)
            buffer[region] = buffer[region] * np.cos(theta) + piece[:overlap] * np.sin(theta)
            self.joins.append((start, overlap))
        buffer[offset + overlap:end] = piece[overlap:]
        # Everything before the next window's start is final.
        upto = self.starts[self.count] if self.count < len(self.starts) else self.total
        final = max(0, min(upto - self.done, len(buffer)))
        out, self.pending = buffer[:final], buffer[final:]
        self.done += final
        return out

    def finish(self) -> np.ndarray:
        """The remaining samples, zero-padded to ``total``."""
        out = np.zeros(self.total - self.done, np.float32)
        out[: len(self.pending)] = self.pending[: len(out)]
        self.done, self.pending = self.total, np.zeros(0, np.float32)
        return out


def crossfade_join(pieces: list[np.ndarray], windows: list[Window], sample_rate: int, total: int) -> np.ndarray:
    """Join window waveforms placed at their start times; overlaps get an equal-power (cos/sin) crossfade."""
    joiner = CrossfadeJoiner(windows, sample_rate, total)
    parts = [joiner.add(piece) for piece in pieces]
    return np.concatenate([*parts, joiner.finish()])


class AudioSpool:
    """A mono float32 waveform written in pieces to an anonymous temporary file, then read back in blocks.

    It keeps the length and the peak, so a long soundtrack can be normalised and muxed without holding it in memory.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="egosonics-audio-")  # noqa: SIM115 (closed by close/__exit__)
        self.num_samples = 0
        self.peak = 0.0

    def write(self, samples: np.ndarray) -> None:
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if len(samples):
            self.peak = max(self.peak, float(np.abs(samples).max()))
            self._file.write(samples.tobytes())
            self.num_samples += len(samples)

    def blocks(self, scale: float = 1.0, block: int = 1 << 16) -> Iterator[np.ndarray]:
        """The samples times ``scale``, ``block`` at a time."""
        self._file.seek(0)
        left = self.num_samples
        while left > 0:
            chunk = np.frombuffer(self._file.read(4 * min(block, left)), np.float32)
            left -= len(chunk)
            yield chunk * np.float32(scale) if scale != 1.0 else chunk

    def read(self, scale: float = 1.0) -> np.ndarray:
        """All samples at once (only for outputs that need the whole waveform, e.g. the spectrogram figure)."""
        parts = list(self.blocks(scale))
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AudioSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def generate_waveform(pipe: EgoSonicsPipeline, video: Path, options: GenerateOptions,
                      sink: Callable[[np.ndarray], None]) -> float:
    """Generate the soundtrack of one video window by window, as long as its video stream.

    Frames are decoded once, in order, at the size the frame encoder needs (``FrameStream``), cut into overlapping
    windows (``window_frames``), generated ``batch_size`` windows at a time and joined with equal-power crossfades;
    ``sink`` receives the joined samples in order as they become final. Memory does not grow with the video's length.

    Returns:
        The video's duration in seconds (``sink`` received ``round(duration · sample_rate)`` samples).
    """
    clip = pipe.clip_spec
    duration = video_duration_s(video)
    # Window starts on the frame grid, so that each window's frames and its audio start at the same time.
    hop = max(1, round((clip.duration_s - options.overlap_s) * clip.fps)) / clip.fps
    windows = split_windows(duration, window_s=clip.duration_s, hop_s=hop)
    frames = FrameStream(video, duration_s=windows[-1].start_s + clip.duration_s, fps=clip.fps,
                         size=frame_input_size(pipe.frame_encoder), crop=True)
    joiner = CrossfadeJoiner(windows, clip.sample_rate, round(duration * clip.sample_rate))
    generator = torch.Generator().manual_seed(options.seed)
    log.info("%s: %.1f s in %d window(s) of %g s every %.3g s", video, duration, len(windows), clip.duration_s, hop)
    bar = progress(range(len(windows)), desc=video.name, total=len(windows), unit="window",
                   disable=None if len(windows) > 1 else True)
    batch: list[np.ndarray] = []
    started = last_log = time.perf_counter()
    for index, stack in enumerate(window_frames(frames, windows, clip.fps)):
        batch.append(stack)
        if len(batch) < options.batch_size and index < len(windows) - 1:
            continue
        out = pipe(torch.from_numpy(np.stack(batch)), num_inference_steps=options.steps,  # [b, 300, s, s, 3]
                   guidance_scale=options.guidance, generator=generator, griffin_lim_iters=options.griffin_lim_iters)
        for piece in out.waveforms.numpy():
            sink(joiner.add(piece))
        bar.update(len(batch))  # type: ignore[attr-defined]
        batch = []
        release_free_memory()  # the heap's holes go back to the system: the peak stays that of the first batches
        now = time.perf_counter()
        if index == len(windows) - 1 or now - last_log >= PROGRESS_LOG_S:  # also where no bar is shown (not a tty)
            last_log = now
            done_s = min(duration, windows[index].end_s)
            log.info("%s: window %d/%d, %.1f of %.1f s, %.1f s elapsed (%.2f× real time)", video.name, index + 1,
                     len(windows), done_s, duration, now - started, (now - started) / done_s)
    bar.close()  # type: ignore[attr-defined]
    sink(joiner.finish())
    return duration


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
            with AudioSpool() as spool:
                duration = generate_waveform(pipe, src, options, spool.write)
                scale = 1.0 / spool.peak if spool.peak > 1.0 else 1.0
                mux_audio(src, spool.blocks(scale), pipe.clip_spec.sample_rate, dst)
                report.written.append(dst)
                if options.write_wav:
                    wav = dst.with_suffix(".wav")
                    write_audio(wav, spool.blocks(scale), pipe.clip_spec.sample_rate, inputs=(src,))
                    report.written.append(wav)
                if options.write_png:  # the figure needs the whole waveform
                    from egosonics.spectrogram.figure import plot_spectrograms  # matplotlib: only when asked

                    png = dst.with_suffix(".png")
                    unit = waveform_to_unit(torch.from_numpy(spool.read(scale)), pipe.spectrogram_params)
                    plot_spectrograms(png, [(f"generated for {src.name}", unit)], pipe.spectrogram_params,
                                      duration_s=duration)
                    report.written.append(png)
            log.info("%s → %s", src, dst)
        except EgoSonicsError as exc:
            log.error("%s", exc)
            report.failed.append((src, str(exc)))
    return report
