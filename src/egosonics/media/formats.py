"""Which files are video and which audio, by name: no decoding library is imported (the study server uses this)."""

from __future__ import annotations

import os
from pathlib import Path

# File extension → MIME type of the video and the audio containers egosonics picks out of folders: the one answer
# to "is this a video file" (``is_video_file``) and "a media file" (``is_media_file``). Audio comes first: where two
# files of one name are searched in this order (``experiments.clips.find_generated``), a soundtrack wins.
AUDIO_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".m4a": "audio/mp4",
               ".ogg": "audio/ogg", ".opus": "audio/ogg"}
VIDEO_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
               ".mkv": "video/x-matroska", ".ogv": "video/ogg", ".avi": "video/x-msvideo", ".mts": "video/mp2t",
               ".ts": "video/mp2t", ".mpg": "video/mpeg", ".mpeg": "video/mpeg", ".wmv": "video/x-ms-wmv",
               ".flv": "video/x-flv", ".3gp": "video/3gpp"}
MEDIA_TYPES = {**AUDIO_TYPES, **VIDEO_TYPES}


def is_video_file(path: str | os.PathLike[str]) -> bool:
    """Whether the name says video container (by extension, any case; the file is not opened)."""
    return Path(path).suffix.lower() in VIDEO_TYPES


def is_media_file(path: str | os.PathLike[str]) -> bool:
    """Whether the name says audio or video container (by extension, any case; the file is not opened)."""
    return Path(path).suffix.lower() in MEDIA_TYPES
