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
from egosonics.media.audio import limit_peak, limit_reach, write_audio
from egosonics.media.formats import is_video_file
from egosonics.media.mux import mux_audio
from egosonics.media.video import FrameStream, video_span_s
from egosonics.media.windows import Window, split_windows, window_frames
from egosonics.models.frame_encoder import frame_input_size
from egosonics.options import DEFAULTS, GenerateOptions
from egosonics.pipeline import EgoSonicsPipeline
from egosonics.spectrogram.transform import waveform_to_unit
from egosonics.utils.logging import progress
from egosonics.utils.memory import release_free_memory
from egosonics.utils.output import check_writable

log = logging.getLogger(__name__)

PROGRESS_LOG_S = 30.0  # a progress line is logged this often (and after the last window)


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
    """A mono float32 waveform written in pieces to an anonymous temporary file, then read back in blocks, as written
    or through the peak limiter exactly as if the whole were in memory (``limited_blocks``): a long soundtrack is
    limited and muxed without holding it.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="egosonics-audio-")  # noqa: SIM115 (closed by close/__exit__)
        self.num_samples = 0

    def write(self, samples: np.ndarray) -> None:
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if len(samples):
            self._file.write(samples.tobytes())
            self.num_samples += len(samples)

    def blocks(self, block: int = 1 << 16) -> Iterator[np.ndarray]:
        """The samples as written, ``block`` at a time."""
        self._file.seek(0)
        left = self.num_samples
        while left > 0:
            chunk = np.frombuffer(self._file.read(4 * min(block, left)), np.float32)
            left -= len(chunk)
            yield chunk

    def limited_blocks(self, block: int = 1 << 16) -> Iterator[np.ndarray]:
        """The samples through ``limit_peak``, ``block`` at a time, equal to limiting the whole waveform at once: each
        block is limited with ``limit_reach()`` samples of its neighbours on both sides, all the limiter looks at."""
        reach = limit_reach()
        for start in range(0, self.num_samples, block):
            low, high = max(0, start - reach), min(self.num_samples, start + block + reach)
            self._file.seek(4 * low)
            chunk = limit_peak(np.frombuffer(self._file.read(4 * (high - low)), np.float32))
            yield chunk[start - low:start - low + min(block, self.num_samples - start)]

    def read(self, *, limited: bool = False) -> np.ndarray:
        """All samples at once (only for outputs that need the whole waveform, e.g. the spectrogram figure)."""
        parts = list(self.limited_blocks() if limited else self.blocks())
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AudioSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def generate_waveform(pipe: EgoSonicsPipeline, video: Path, options: GenerateOptions,
                      sink: Callable[[np.ndarray], None], *, span_s: tuple[float, float] | None = None) -> float:
    """Generate the soundtrack of one video window by window, as long as its video stream.

    Frames are decoded once, in order, at the size the frame encoder needs (``FrameStream``), cut into overlapping
    windows (``window_frames``), generated ``batch_size`` windows at a time and joined with equal-power crossfades;
    ``sink`` receives the joined samples in order as they become final. Memory does not grow with the video's length.

    ``span_s`` is the video's (start, end) from ``video_span_s``, when the caller has probed it already.

    Returns:
        The video's duration in seconds (``sink`` received ``round(duration · sample_rate)`` samples).
    """
    clip = pipe.clip_spec
    start_s, end_s = span_s if span_s is not None else video_span_s(video)
    duration = end_s - start_s
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
                   guidance_scale=options.guidance, generator=generator, griffin_lim_iters=options.griffin_lim_iters,
                   griffin_lim_init=options.griffin_lim_init)
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
            span = video_span_s(src)  # the one probe of the file; then one decode for all windows, and the mux
            with AudioSpool() as spool:
                duration = generate_waveform(pipe, src, options, spool.write, span_s=span)
                # written audio never clips: a contact above full scale is limited where it is (joins included)
                mux_audio(src, spool.limited_blocks(), pipe.clip_spec.sample_rate, dst, span_s=span)
                report.written.append(dst)
                if options.write_wav:
                    wav = dst.with_suffix(".wav")
                    write_audio(wav, spool.limited_blocks(), pipe.clip_spec.sample_rate, inputs=(src,))
                    report.written.append(wav)
                if options.write_png:  # the figure needs the whole waveform
                    from egosonics.spectrogram.figure import plot_spectrograms  # matplotlib: only when asked

                    png = dst.with_suffix(".png")
                    unit = waveform_to_unit(torch.from_numpy(spool.read(limited=True)), pipe.spectrogram_params)
                    plot_spectrograms(png, [(f"generated for {src.name}", unit)], pipe.spectrogram_params,
                                      duration_s=duration)
                    report.written.append(png)
            log.info("%s → %s", src, dst)
        except EgoSonicsError as exc:
            log.error("%s", exc)
            report.failed.append((src, str(exc)))
    return report
