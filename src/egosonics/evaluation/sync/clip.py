"""Loading a video file for the sync metrics: frames at the file's own frame rate and a fixed evaluation resolution,
plus its audio at 22,050 Hz."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.evaluation.sync.av_align import DEFAULT_SHORT_SIDE
from egosonics.evaluation.sync.motion import evaluation_size, native_fps

log = logging.getLogger(__name__)


@dataclass
class SyncClip:
    """What the sync metrics need of one clip.

    Attributes:
        frames: uint8 RGB [T, H, W, 3] at ``fps``, short side ``short_side`` (or the source size).
        fps: frame rate (the source's own, as the AV-Align reference reads it, unless overridden).
        audio: mono float32 [n] at ``sample_rate``, covering exactly the frames' duration (zero-padded).
        sample_rate: Hz.
        short_side: the evaluation resolution's short side; None when frames are at the source size.
    """

    frames: np.ndarray
    fps: float
    audio: np.ndarray
    sample_rate: int
    short_side: int | None

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps


def load_sync_clip(path: str | os.PathLike[str], *, short_side: int | None = DEFAULT_SHORT_SIDE,
                   fps: float | None = None, sample_rate: int = DEFAULT_CLIP.sample_rate,
                   duration_s: float | None = None, audio_path: str | os.PathLike[str] | None = None) -> SyncClip:
    """Decode a clip for AV-Align and the offset.

    Args:
        path: a video file.
        short_side: resize so the short side has this many pixels (the 0.1 px flow threshold of AV-Align depends on
            it; default 224); None keeps the source size.
        fps: frame rate to decode at; None uses the file's own (the reference does, and duplicated frames would
            make spurious flow peaks).
        sample_rate: audio rate.
        duration_s: seconds from the start; None reads the whole video.
        audio_path: take the audio from this file instead (e.g. a generated WAV); None uses the video's own track.
    """
    from egosonics.media.audio import read_audio
    from egosonics.media.video import read_frames

    rate = fps if fps is not None else native_fps(str(path))
    first = read_frames(path, fps=rate, duration_s=1.0 / rate)  # displayed size (after rotation)
    size = evaluation_size(first.frames.shape[1], first.frames.shape[2], short_side)
    clip = read_frames(path, fps=rate, duration_s=duration_s, size=size)
    frames = clip.frames[: clip.num_valid] if duration_s is None else clip.frames
    audio = read_audio(audio_path if audio_path is not None else path, sample_rate=sample_rate, start_s=0.0,
                       duration_s=len(frames) / rate)
    log.debug("%s: %d frames at %.3f fps, %s, %d audio samples", path, len(frames), rate, frames.shape[1:3],
              len(audio))
    return SyncClip(frames=frames, fps=rate, audio=audio, sample_rate=sample_rate, short_side=short_side)
