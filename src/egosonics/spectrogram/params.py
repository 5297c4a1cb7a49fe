"""``SpectrogramParams``: the STFT and normalisation settings in one frozen dataclass (paper Sec. C defaults)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from egosonics.clip_spec import DEFAULT_CLIP

FREQ_POOLING = ("db", "power")


@dataclass(frozen=True)
class SpectrogramParams:
    """How a waveform becomes a normalised log-magnitude spectrogram image, and back.

    Normalisation: the STFT magnitude is expressed in dB relative to ``reference_magnitude`` (the peak a full-scale
    sine of amplitude 1 produces with this window, so 0 dB = a full-scale tone), clipped to
    ``[db_floor, db_ceiling]`` and mapped linearly to [0, 1]. The floor of -100 dB keeps 16-bit-quiet detail; values
    at or below it become 0 and invert to silence.

    Attributes:
        sample_rate: Hz.
        n_fft: FFT size (2048 → 1025 bins, of which the Nyquist bin is dropped).
        hop_length: samples between frames (512 → 430 frames per 10 s).
        num_bins: frequency rows kept (1024).
        db_floor, db_ceiling: the dB range mapped to [0, 1].
        model_size: (frequency rows, time columns) of the diffusion model's image (512 × 512).
        superres_size: (frequency rows, time columns) of the super-resolution output (1024 × 512).
        freq_pooling: how ``to_model_image`` merges neighbouring frequency bins into one row: "db" (the mean of the
            normalised dB values, the original) or "power" (the normalised dB of their mean power). Averaging dB
            buries a narrow tone in its quiet neighbours: through 32 rows of dB means no impact on wood, metal or
            glass is heard as an impact (0 of 10; 128 rows: 0, 512 rows: 4), through 32 rows of power means 8 of 10
            are, as many as through the full spectrogram (7; docs/MODELS.md, "Frequency rows").
    """

    sample_rate: int = DEFAULT_CLIP.sample_rate
    n_fft: int = 2048
    hop_length: int = 512
    window: str = "hann"
    num_bins: int = 1024
    db_floor: float = -100.0
    db_ceiling: float = 0.0
    model_size: tuple[int, int] = (512, 512)
    superres_size: tuple[int, int] = (1024, 512)
    freq_pooling: str = "db"

    def __post_init__(self) -> None:
        if self.freq_pooling not in FREQ_POOLING:
            raise ValueError(f"unknown freq_pooling {self.freq_pooling!r}; choose from {list(FREQ_POOLING)}")
        if self.window != "hann":
            raise ValueError(f"unknown window {self.window!r}; choose from ['hann']")
        if not 0 < self.num_bins <= self.n_fft // 2 + 1:
            raise ValueError(f"num_bins must be in 1..{self.n_fft // 2 + 1}, got {self.num_bins}")
        if not self.db_floor < self.db_ceiling:
            raise ValueError(f"db_floor ({self.db_floor}) must be below db_ceiling ({self.db_ceiling})")
        # JSON round trips give lists; keep tuples so instances stay hashable and comparable.
        object.__setattr__(self, "model_size", tuple(self.model_size))
        object.__setattr__(self, "superres_size", tuple(self.superres_size))

    @property
    def reference_magnitude(self) -> float:
        """|STFT| peak of a full-scale sine: sum(periodic Hann) / 2 = n_fft / 4."""
        return self.n_fft / 4

    @property
    def frame_s(self) -> float:
        """Seconds between spectrogram columns (23.2 ms)."""
        return self.hop_length / self.sample_rate

    @property
    def bin_hz(self) -> float:
        """Hz between frequency rows (10.8 Hz)."""
        return self.sample_rate / self.n_fft

    def num_frames(self, num_samples: int = DEFAULT_CLIP.num_samples) -> int:
        """Spectrogram columns for a waveform: floor(num_samples / hop) (430 for 10 s at 22,050 Hz)."""
        return num_samples // self.hop_length

    def stft_frames(self, num_samples: int) -> int:
        """Frames a centred STFT produces for ``num_samples`` (one more than the columns kept, plus rounding)."""
        return 1 + math.ceil(num_samples / self.hop_length)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpectrogramParams:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown spectrogram parameters {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)


DEFAULT_PARAMS = SpectrogramParams()
