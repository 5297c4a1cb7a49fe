"""What the demo accepts: a video file under a size and a duration limit. No gradio here, so it is testable alone."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from egosonics.errors import EgoSonicsError, MediaError
from egosonics.media.files import check_video, open_input
from egosonics.media.video import video_duration_s

MB = 2**20


class UploadError(EgoSonicsError, ValueError):
    """An upload the demo refuses; the message names the file, the bad value and the limit, for the user to read."""


@dataclass(frozen=True)
class Limits:
    """Per-request limits, shown on the page. ``max_steps`` bounds the DDIM steps an API caller may ask for."""

    max_upload_mb: float = 100.0
    max_duration_s: float = 60.0
    max_steps: int = 100
    max_guidance: float = 20.0

    def __post_init__(self) -> None:
        for name in ("max_upload_mb", "max_duration_s", "max_steps", "max_guidance"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")

    @property
    def max_upload_bytes(self) -> int:
        """The size limit in bytes; a MB here is 2^20 bytes, as gradio counts when it refuses a larger upload."""
        return int(self.max_upload_mb * MB)

    def describe(self) -> str:
        return (f"videos up to {self.max_upload_mb:g} MB and {self.max_duration_s:g} s; "
                f"1 to {self.max_steps} steps; guidance 1 to {self.max_guidance:g}")


def check_upload(path: str | os.PathLike[str], limits: Limits, *, name: str | None = None) -> float:
    """Check an uploaded file against ``limits``; returns the video's duration in seconds.

    Args:
        name: the file name the user knows (an upload is stored under a temporary path); default: the path's name.

    Raises:
        UploadError: too large, not a video (text, an image, audio only, unreadable), or too long.
    """
    path = Path(path)
    shown = name or path.name
    # 1. Size, before anything reads the file
    size = path.stat().st_size if path.is_file() else 0
    if size > limits.max_upload_bytes:
        raise UploadError(f"{shown} is {size / MB:.1f} MB; this demo accepts up to {limits.max_upload_mb:g} MB")
    # 2. A video stream PyAV can decode, in a video container (PyAV also opens still images as one-frame "videos")
    try:
        check_video(path)
        with open_input(path) as container:
            fmt = container.format.name
        if fmt.endswith("_pipe") or fmt == "image2":
            raise UploadError(f"{shown} is a still image ({fmt}), not a video; upload a video file (MP4, MOV, WebM, …)")
        duration = video_duration_s(path)
    except MediaError as exc:
        raise UploadError(f"{shown} is not a video this demo can read: {exc.problem}") from None
    # 3. Duration
    if duration > limits.max_duration_s:
        raise UploadError(f"{shown} is {duration:.1f} s long; this demo accepts up to {limits.max_duration_s:g} s "
                          "(use 'egosonics generate' for longer videos)")
    return duration


def check_settings(steps: float, guidance: float, seed: float, limits: Limits) -> tuple[int, float, int]:
    """Validate the sampling settings an API caller sends (the page's sliders cannot go outside them)."""
    if steps is None or not float(steps).is_integer() or not 1 <= steps <= limits.max_steps:
        raise UploadError(f"steps must be a whole number from 1 to {limits.max_steps}, got {steps!r}")
    if guidance is None or not math.isfinite(guidance) or not 1.0 <= guidance <= limits.max_guidance:
        raise UploadError(f"guidance must be from 1 to {limits.max_guidance:g}, got {guidance!r}")
    if seed is None or not float(seed).is_integer() or not 0 <= seed < 2**63:
        raise UploadError(f"seed must be a whole number from 0 to 2^63 - 1, got {seed!r}")
    return int(steps), float(guidance), int(seed)
