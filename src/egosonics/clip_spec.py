"""The clip contract shared by every part: 10 s at 30 fps with 22,050 Hz audio (paper Sec. C)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClipSpec:
    """One model window. Defined once; everything else derives from it.

    Args:
        duration_s: window length in seconds.
        fps: video frame rate the frame encoder sees.
        sample_rate: audio sample rate in Hz.
    """

    duration_s: float = 10.0
    fps: int = 30
    sample_rate: int = 22_050

    @property
    def num_frames(self) -> int:
        """Video frames per window (300 by default)."""
        return round(self.duration_s * self.fps)

    @property
    def num_samples(self) -> int:
        """Audio samples per window (220,500 by default)."""
        return round(self.duration_s * self.sample_rate)

    @property
    def samples_per_frame(self) -> float:
        """Audio samples per video frame (735 by default)."""
        return self.sample_rate / self.fps


DEFAULT_CLIP = ClipSpec()
