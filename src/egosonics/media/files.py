"""Opening media files with clear errors, and reading their headers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from egosonics.errors import MediaError

# Frames larger than this are refused before decoding (8K UHD is 33.2 MP). Override with EGOSONICS_MAX_PIXELS.
DEFAULT_MAX_PIXELS = 4096 * 4096


def max_pixels() -> int:
    """The decoding limit in pixels per frame (env ``EGOSONICS_MAX_PIXELS`` overrides the default 16.8 MP)."""
    value = os.environ.get("EGOSONICS_MAX_PIXELS")
    return int(value) if value else DEFAULT_MAX_PIXELS


def check_readable(path: str | os.PathLike[str]) -> Path:
    """Fail early, with the file's name, for the problems that come before decoding."""
    path = Path(path)
    if not path.exists():
        raise MediaError(path, "no such file")
    if path.is_dir():
        raise MediaError(path, "is a folder, not a media file")
    if not os.access(path, os.R_OK):
        raise MediaError(path, "permission denied")
    if path.stat().st_size == 0:
        raise MediaError(path, "file is empty (0 bytes)")
    return path


def open_input(path: str | os.PathLike[str]) -> av.container.InputContainer:
    """Open a media file for reading; every failure becomes a one-line ``MediaError``."""
    path = check_readable(path)
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise MediaError(path, "not a media file PyAV can read (invalid data: not audio or video, or a truncated or "
                               "corrupt file)") from None
    except av.error.FFmpegError as exc:
        raise MediaError(path, f"cannot open: {exc.strerror or exc}") from None


def decode_error(path: str | os.PathLike[str], exc: Exception) -> MediaError:
    """Turn a PyAV error raised while demuxing or decoding into a ``MediaError``."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return MediaError(path, f"decoding failed, the file may be truncated or corrupt ({reason})")


@dataclass(frozen=True)
class MediaInfo:
    """What a file holds, read from its headers without decoding."""

    path: Path
    duration_s: float | None
    start_s: float
    has_video: bool
    has_audio: bool
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None


def container_start_s(container: av.container.InputContainer) -> float:
    """The common time origin of all streams in seconds (video and audio are aligned against it)."""
    return container.start_time / av.time_base if container.start_time is not None else 0.0


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Read a file's streams and duration from its headers (a stream of an unknown codec has codec None)."""
    with open_input(path) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        vctx = video.codec_context if video is not None else None
        actx = audio.codec_context if audio is not None else None
        duration = container.duration / av.time_base if container.duration is not None else None
        rate = (video.average_rate or video.base_rate) if video is not None else None
        return MediaInfo(
            path=Path(path),
            duration_s=duration,
            start_s=container_start_s(container),
            has_video=video is not None,
            has_audio=audio is not None,
            video_codec=vctx.name if vctx is not None else None,
            width=vctx.width if vctx is not None else None,
            height=vctx.height if vctx is not None else None,
            fps=float(rate) if rate else None,
            audio_codec=actx.name if actx is not None else None,
            sample_rate=actx.sample_rate if actx is not None else None,
            channels=actx.channels if actx is not None else None,
        )


def video_stream(container: av.container.InputContainer, path: str | os.PathLike[str], *,
                 decode: bool = True) -> av.video.stream.VideoStream:
    """The first video stream, or a ``MediaError`` saying why there is none that can be used.

    With ``decode`` the stream must also be decodable: a known codec with a decoder, and frames no larger than
    ``max_pixels()``, so that an 8K or a corrupt header fails here, before any frame is decoded.
    """
    if not container.streams.video:
        raise MediaError(path, "has no video stream")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx is None:  # PyAV gives no codec context when FFmpeg does not know the codec (an unknown fourcc)
        raise MediaError(path, "video stream uses an unknown codec that PyAV cannot decode or copy")
    if decode:
        if not ctx.width or not ctx.height:
            raise MediaError(path, f"video stream ({ctx.name}) declares no frame size ({ctx.width}x{ctx.height})")
        if ctx.width * ctx.height > max_pixels():
            raise MediaError(path, f"frames of {ctx.width}x{ctx.height} exceed the decoding limit of "
                                   f"{max_pixels() / 1e6:.1f} megapixels (set EGOSONICS_MAX_PIXELS to raise it)")
    return stream


def check_video(path: str | os.PathLike[str]) -> MediaInfo:
    """Fail early, with the file's name, for a file whose video cannot be decoded (no video, unknown codec, 8K)."""
    with open_input(path) as container:
        video_stream(container, path, decode=True)
    return probe(path)


# Containers whose headers record each stream's exact length (a sample table, not a bit-rate estimate): a stream that
# decodes shorter than its header says is truncated. Matroska, MPEG-TS, MP3 and others give estimates or nothing.
_EXACT_DURATION_FORMATS = frozenset({"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "flac"})

# Shortfall against the header's length above which a stream counts as truncated.
TRUNCATION_TOLERANCE_S = 0.1


def declared_end_s(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    """Where the header says ``stream`` ends, in seconds from the file's time origin; None when it does not say
    exactly (see ``_EXACT_DURATION_FORMATS``)."""
    if not set(container.format.name.split(",")) & _EXACT_DURATION_FORMATS:
        return None
    if not stream.duration or stream.time_base is None:
        return None
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    return start + float(stream.duration * stream.time_base) - container_start_s(container)


def check_coverage(path: str | os.PathLike[str], what: str, decoded_end_s: float, needed_end_s: float,
                   declared_s: float | None) -> None:
    """Raise if a stream stopped before the header's end while the caller still needed it (a truncated file)."""
    if declared_s is None:
        return
    if decoded_end_s < min(needed_end_s, declared_s) - TRUNCATION_TOLERANCE_S:
        raise MediaError(path, f"truncated or corrupt: its {what} stops at {decoded_end_s:.2f} s but its header "
                               f"declares {declared_s:.2f} s")


def seconds(pts: int | None, time_base: Fraction | None) -> float | None:
    """A timestamp in seconds, or None when the stream has none."""
    if pts is None or time_base is None:
        return None
    return float(pts * time_base)
