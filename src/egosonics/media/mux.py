"""Writing a copy of a video with a new audio track; the video stream is copied packet by packet, never re-encoded."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from egosonics.errors import MediaError
from egosonics.media.files import (
    atomic_output,
    check_coverage,
    check_writable,
    container_start_s,
    declared_end_s,
    decode_error,
    open_input,
    video_stream,
)
from egosonics.media.video import encode_audio, encoder_rate

log = logging.getLogger(__name__)

# Audio codec per output container; anything else gets AAC.
_AUDIO_CODECS = {".webm": "libopus", ".ogg": "libopus", ".mkv": "aac", ".mp4": "aac", ".mov": "aac", ".m4v": "aac"}


def video_span_s(path: str | os.PathLike[str]) -> tuple[float, float]:
    """Start and end of the first video stream's presentation, in seconds from the file's time origin.

    Read from the packets' timestamps (demux only, no decoding): from the first packet's presentation time to the last
    one's end. The origin is the start of the earliest stream, the clock ``read_frames`` and ``read_audio`` use.

    Raises:
        MediaError: no video stream, an unknown codec, no frames, or a truncated file (the packets stop before the
            length the header declares).
    """
    with open_input(path) as container:
        first, end = _packet_span(container, path)
        return first - container_start_s(container), end - container_start_s(container)


def video_duration_s(path: str | os.PathLike[str]) -> float:
    """Duration of the first video stream from its packets' timestamps (demux only, no decoding).

    This is the time the video is shown: from the first packet's presentation time to the last one's end.
    """
    start, end = video_span_s(path)
    return end - start


def _packet_span(container: av.container.InputContainer, path: str | os.PathLike[str]) -> tuple[float, float]:
    """(first presentation time, end of the last frame) of the first video stream, in seconds on the file's clock."""
    stream = video_stream(container, path, decode=False)
    first, end = None, None
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            start = float(packet.pts * packet.time_base)
            stop = start + float((packet.duration or 0) * packet.time_base)
            first = start if first is None else min(first, start)
            end = stop if end is None else max(end, stop)
    except av.error.FFmpegError as exc:
        raise decode_error(path, exc) from None
    if first is None or end is None or end <= first:
        raise MediaError(path, "has no video frames")
    origin = container_start_s(container)
    check_coverage(path, "video", end - origin, math.inf, declared_end_s(container, stream))
    return first, end


def mux_audio(
    video_path: str | os.PathLike[str],
    waveform: np.ndarray | Iterator[np.ndarray],
    sample_rate: int,
    out_path: str | os.PathLike[str],
    *,
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
    with open_input(video_path) as probe_container:
        first, end = _packet_span(probe_container, video_path)
    duration = end - first
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
            in_video = video_stream(src, video_path, decode=False)
            copied = [in_video, *(src.streams.audio if keep_original_audio else ())]
            try:
                out_video = out.add_stream_from_template(in_video)
                out_audio = out.add_stream(codec, rate=encoder_rate(codec, sample_rate), layout="mono")
                targets = {in_video.index: out_video}
                targets |= {s.index: out.add_stream_from_template(s) for s in copied[1:]}
                out.start_encoding()  # writes the header: the container refuses a codec it cannot hold here
            except (av.error.FFmpegError, ValueError) as exc:
                kinds = ", ".join(f"{s.type} {s.codec_context.name}" for s in copied if s.codec_context is not None)
                raise MediaError(out_path, f"a {out_path.suffix or 'file without extension'} file cannot hold "
                                           f"{kinds} with {codec} audio ({getattr(exc, 'strerror', None) or exc})"
                                 ) from None
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
