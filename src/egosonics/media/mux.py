"""Writing a copy of a video with a new audio track; the video stream is copied packet by packet, never re-encoded."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from egosonics.errors import MediaError
from egosonics.media.audio import encode_audio, encoder_rate
from egosonics.media.files import container_start_s, decode_error, open_input, video_stream
from egosonics.media.video import video_span_s
from egosonics.utils.output import atomic_output, check_writable

log = logging.getLogger(__name__)

# Audio codec per output container; anything else gets AAC.
_AUDIO_CODECS = {".webm": "libopus", ".ogg": "libopus", ".mkv": "aac", ".mp4": "aac", ".mov": "aac", ".m4v": "aac"}
_FORMATS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov", ".webm": "webm"}  # FFmpeg's muxer per extension


# Containers tried when an output's container cannot hold the video, to say which extension would (in this order).
_SUGGESTED_EXTENSIONS = (".mp4", ".mkv", ".mov", ".webm")


def _add_copied_streams(out: av.container.OutputContainer,
                        copied: list[av.stream.Stream]) -> dict[int, av.stream.Stream]:
    """Add a stream-copy twin of each input stream to ``out``; returns {input stream index: output stream}.

    ``opaque=True`` builds each twin from the input's own codec context, so a codec FFmpeg decodes but has no encoder
    for here (AV1 read by libdav1d) is copied like any other; the container alone decides whether it can hold it.
    """
    return {s.index: out.add_stream_from_template(s, opaque=True) for s in copied}


def _holds(extension: str, copied: list[av.stream.Stream]) -> bool:
    """Whether a container of this extension accepts these streams (with its own default audio codec): the header of
    an in-memory file is written, nothing touches the disk."""
    codec = _AUDIO_CODECS.get(extension, "aac")
    try:
        with av.open(io.BytesIO(), mode="w", format=_FORMATS[extension]) as out:
            _add_copied_streams(out, copied[:1])
            out.add_stream(codec, rate=encoder_rate(codec, 48_000), layout="mono")
            _add_copied_streams(out, copied[1:])
            out.start_encoding()
    except (av.error.FFmpegError, ValueError):
        return False
    return True


def _cannot_hold(out_path: Path, copied: list[av.stream.Stream], codec: str, exc: Exception,
                 suggest: bool) -> MediaError:
    """The one-line error for a container that refuses the streams, naming the extensions that would take them."""
    kinds = ", ".join(f"{s.codec_context.codec.canonical_name} {s.type}" for s in copied if s.codec_context is not None)
    problem = (f"a {out_path.suffix or 'file without extension'} file cannot hold {kinds} with {codec} audio "
               f"({getattr(exc, 'strerror', None) or exc})")
    if suggest:
        working = [ext for ext in _SUGGESTED_EXTENSIONS if ext != out_path.suffix.lower() and _holds(ext, copied)]
        listed = " or ".join([", ".join(working[:-1]), working[-1]] if len(working) > 1 else working)
        problem += f"; write {listed} instead" if working else "; no usual container can copy it"
    return MediaError(out_path, problem)


def mux_audio(
    video_path: str | os.PathLike[str],
    waveform: np.ndarray | Iterator[np.ndarray],
    sample_rate: int,
    out_path: str | os.PathLike[str],
    *,
    span_s: tuple[float, float] | None = None,
    keep_original_audio: bool = False,
    audio_codec: str | None = None,
) -> Path:
    """Write ``out_path``: the video stream of ``video_path`` copied unchanged plus ``waveform`` as its audio.

    The waveform starts when the video starts and is trimmed or zero-padded to the video's duration, so the output's
    audio lasts as long as its video. Timestamps are shifted so that the output's video starts at 0 (the input's may
    start later, e.g. in MPEG-TS); the packets themselves are copied unchanged. The output is written to a temporary
    file beside it and renamed when complete; ``out_path`` may not be the input.

    Args:
        video_path: the source video (any container PyAV reads).
        waveform: mono float32 [n] in [-1, 1], or an iterator of consecutive pieces [n_i] (streamed: a long
            soundtrack need not be in memory at once).
        sample_rate: the waveform's rate in Hz.
        out_path: output file; its extension picks the container (.mp4, .mkv, .mov, .webm, ...).
        span_s: the video's (start, end) as ``video_span_s`` gives it, when the caller has it already (``generate``
            does); None reads it from the file first (one more pass over its packets).
        keep_original_audio: keep the source's audio streams after the new one instead of replacing them.
        audio_codec: override the codec chosen from the extension (AAC for MP4/MOV/MKV, Opus for WebM/Ogg).

    Returns:
        The output path.

    Raises:
        MediaError: the input has no usable video, the output cannot be written there, or the output container cannot
            hold the video's codec (e.g. H.264 in WebM). Nothing is left at ``out_path`` then.
    """
    out_path = Path(out_path)
    if not isinstance(waveform, Iterator):
        waveform = np.asarray(waveform, dtype=np.float32)
        if waveform.ndim != 1:
            raise ValueError(f"waveform must be mono [n], got shape {waveform.shape}")
    check_writable(out_path, inputs=(video_path,))
    start, end = span_s if span_s is not None else video_span_s(video_path)
    duration = end - start
    n = round(duration * sample_rate)
    if isinstance(waveform, np.ndarray):
        waveform = waveform[:n] if len(waveform) >= n else np.pad(waveform, (0, n - len(waveform)))
    else:
        waveform = _fit_length(waveform, n)
    codec = audio_codec or _AUDIO_CODECS.get(out_path.suffix.lower(), "aac")

    with atomic_output(out_path, inputs=(video_path,)) as tmp, open_input(video_path) as src:
        try:
            out = av.open(str(tmp), mode="w")
        except av.error.FFmpegError as exc:  # no such folder, permission denied, ... (as root too: /proc, a file)
            raise MediaError(out_path, f"cannot create the output file ({exc.strerror or exc})") from None
        except ValueError as exc:  # an extension FFmpeg has no muxer for
            raise MediaError(out_path, f"cannot write this container ({exc})") from None
        with out:
            first = start + container_start_s(src)  # the video's first presentation time on the file's clock
            in_video = video_stream(src, video_path, decode=False)
            copied = [in_video, *(src.streams.audio if keep_original_audio else ())]
            try:
                targets = _add_copied_streams(out, copied[:1])  # the video first, then the new audio, then kept ones
                out_audio = out.add_stream(codec, rate=encoder_rate(codec, sample_rate), layout="mono")
                targets |= _add_copied_streams(out, copied[1:])
                out.start_encoding()  # writes the header: the container refuses a codec it cannot hold here
            except (av.error.FFmpegError, ValueError) as exc:
                raise _cannot_hold(out_path, copied, codec, exc, audio_codec is None) from None
            demuxed = src.demux(copied)
            while True:
                try:
                    packet = next(demuxed)
                except StopIteration:
                    break
                except av.error.FFmpegError as exc:
                    raise decode_error(video_path, exc) from None
                if not packet.size:  # demuxer flush packets carry no data (packets without a dts do: keep them)
                    continue
                if first:  # the output starts at 0 with its video; as ffmpeg does without -copyts
                    shift = round(first / packet.time_base)
                    packet.pts = packet.pts - shift if packet.pts is not None else None
                    packet.dts = packet.dts - shift if packet.dts is not None else None
                packet.stream = targets[packet.stream.index]
                try:
                    out.mux(packet)
                except av.error.FFmpegError as exc:
                    raise MediaError(out_path, f"cannot write ({exc.strerror or exc})") from None
            # The new audio starts with the video, at 0: the encoder's priming then has negative timestamps, which
            # MP4 trims with an edit list and Matroska with a codec delay, so that the audio starts when the video does.
            encode_audio(out, out_audio, waveform, sample_rate)
    log.info("wrote %s (%.2f s, video copied, %s audio)", out_path, duration, codec)
    return out_path


def _fit_length(pieces: Iterator[np.ndarray], n: int) -> Iterator[np.ndarray]:
    """Consecutive mono pieces trimmed or zero-padded to ``n`` samples in all, without joining them."""
    left = n
    for piece in pieces:
        piece = np.asarray(piece, dtype=np.float32)
        if piece.ndim != 1:
            raise ValueError(f"waveform pieces must be mono [n], got shape {piece.shape}")
        if left <= 0:
            break
        yield piece[:left]
        left -= min(left, len(piece))
    if left > 0:
        yield np.zeros(left, np.float32)
