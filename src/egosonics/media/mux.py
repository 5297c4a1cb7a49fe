"""Writing a copy of a video with a new audio track; the video stream is copied packet by packet, never re-encoded."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import av
import numpy as np

from egosonics.errors import MediaError
from egosonics.media.files import atomic_output, decode_error, open_input
from egosonics.media.video import encode_audio

log = logging.getLogger(__name__)

# Audio codec per output container; anything else gets AAC.
_AUDIO_CODECS = {".webm": "libopus", ".ogg": "libopus", ".mkv": "aac", ".mp4": "aac", ".mov": "aac", ".m4v": "aac"}


def video_duration_s(path: str | os.PathLike[str]) -> float:
    """Duration of the first video stream from its packets' timestamps (demux only, no decoding).

    This is the time the video is shown: from the first packet's presentation time to the last one's end.
    """
    with open_input(path) as container:
        if not container.streams.video:
            raise MediaError(path, "has no video stream")
        stream = container.streams.video[0]
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
        return end - first


def mux_audio(
    video_path: str | os.PathLike[str],
    waveform: np.ndarray,
    sample_rate: int,
    out_path: str | os.PathLike[str],
    *,
    keep_original_audio: bool = False,
    audio_codec: str | None = None,
) -> Path:
    """Write ``out_path``: the video stream of ``video_path`` copied unchanged plus ``waveform`` as its audio.

    The waveform is trimmed or zero-padded to the video's duration, so the output's audio lasts as long as its video.
    The output is written to a temporary file beside it and renamed when complete; ``out_path`` may not be the input.

    Args:
        video_path: the source video (any container PyAV reads).
        waveform: mono float32 [n] in [-1, 1].
        sample_rate: the waveform's rate in Hz.
        out_path: output file; its extension picks the container (.mp4, .mkv, .mov, .webm, ...).
        keep_original_audio: keep the source's audio streams after the new one instead of replacing them.
        audio_codec: override the codec chosen from the extension (AAC for MP4/MOV/MKV, Opus for WebM).

    Returns:
        The output path.
    """
    out_path = Path(out_path)
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim != 1:
        raise ValueError(f"waveform must be mono [n], got shape {waveform.shape}")
    duration = video_duration_s(video_path)
    n = round(duration * sample_rate)
    waveform = waveform[:n] if len(waveform) >= n else np.pad(waveform, (0, n - len(waveform)))
    codec = audio_codec or _AUDIO_CODECS.get(out_path.suffix.lower(), "aac")

    with atomic_output(out_path, inputs=(video_path,)) as tmp, open_input(video_path) as src:
        try:
            out = av.open(str(tmp), mode="w")
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaError(out_path, f"cannot write this container ({exc})") from None
        with out:
            in_video = src.streams.video[0]
            out_video = out.add_stream_from_template(in_video)
            out_audio = out.add_stream(codec, rate=48_000 if codec == "libopus" else sample_rate, layout="mono")
            copied = []
            if keep_original_audio:
                copied = [(s, out.add_stream_from_template(s)) for s in src.streams.audio]
            streams = [in_video] + [s for s, _ in copied]
            targets = {in_video.index: out_video} | {s.index: o for s, o in copied}
            try:
                for packet in src.demux(streams):
                    if packet.dts is None:  # demuxer flush packets carry no data
                        continue
                    packet.stream = targets[packet.stream.index]
                    out.mux(packet)
            except av.error.FFmpegError as exc:
                raise decode_error(video_path, exc) from None
            encode_audio(out, out_audio, waveform, sample_rate)
    log.info("wrote %s (%.2f s, video copied, %s audio)", out_path, duration, codec)
    return out_path
