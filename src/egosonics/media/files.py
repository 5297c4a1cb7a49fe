"""Opening media files with clear errors, and writing outputs atomically."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
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
        raise MediaError(path, "not a media file PyAV can read (invalid data)") from None
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
    """Read a file's streams and duration from its headers."""
    with open_input(path) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        duration = container.duration / av.time_base if container.duration is not None else None
        rate = video.average_rate or video.base_rate if video is not None else None
        return MediaInfo(
            path=Path(path),
            duration_s=duration,
            start_s=container_start_s(container),
            has_video=video is not None,
            has_audio=audio is not None,
            video_codec=video.codec_context.name if video is not None else None,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            fps=float(rate) if rate else None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            channels=audio.codec_context.channels if audio is not None else None,
        )


def seconds(pts: int | None, time_base: Fraction | None) -> float | None:
    """A timestamp in seconds, or None when the stream has none."""
    if pts is None or time_base is None:
        return None
    return float(pts * time_base)


def check_writable(out_path: str | os.PathLike[str], *, inputs: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Refuse an output that would overwrite an input or land in a folder that cannot be written."""
    out = Path(out_path)
    for src in inputs:
        if Path(src).resolve() == out.resolve() or (out.exists() and os.path.samefile(src, out)):
            raise MediaError(out, "output path is the input file; refusing to overwrite an input")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise MediaError(out, f"output folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MediaError(out, f"output folder {folder} is not writable")
    if out.is_dir():
        raise MediaError(out, "output path is a folder")
    return out


@contextlib.contextmanager
def atomic_output(out_path: str | os.PathLike[str], *,
                  inputs: tuple[str | os.PathLike[str], ...] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``out_path``; rename it into place only if the block succeeds.

    The temporary file keeps the output's extension so that format guessing works, and is removed on any failure,
    so a reader never sees a half-written output.
    """
    out = check_writable(out_path, inputs=inputs)
    tmp = out.with_name(f".{out.stem}.partial-{uuid.uuid4().hex[:8]}{out.suffix}")
    try:
        yield tmp
        os.replace(tmp, out)
    except OSError as exc:  # disk full, permission lost mid-write, ... (PyAV's errno errors are OSErrors too)
        tmp.unlink(missing_ok=True)
        raise MediaError(out, f"cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
