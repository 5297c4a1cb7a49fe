"""Where sounds start in a normalised spectrogram: the onsets a generator is taught to follow (``motion-onset``).

The magnitude is de-normalised, mapped to librosa's default 128-band mel power and turned into librosa's onset envelope
(``onset_strength`` of the mel power in dB), whose peaks ``onset_detect`` picks with ``delta`` (0.3: the evaluation's
``sync.onset.detect_onsets`` setting). At the project's STFT (22,050 Hz, n_fft 2048, hop 512) this is the envelope
librosa computes from the waveform itself, so a target's onsets here are the onsets the evaluation finds in it
(tests/models/test_motion_onset.py).
"""

from __future__ import annotations

import numpy as np

from egosonics.spectrogram.params import SpectrogramParams

ONSET_DELTA = 0.3  # the evaluation's peak-picking threshold (evaluation.sync.onset.OnsetConfig.delta)


def spectrogram_onsets(unit: np.ndarray, params: SpectrogramParams, *, delta: float = ONSET_DELTA) -> np.ndarray:
    """Onset times in seconds [K] of a normalised spectrogram [num_bins, F] (0 = the dB floor, 1 = the ceiling)."""
    import librosa

    unit = np.asarray(unit, dtype=np.float32)
    db = np.clip(unit, 0, 1) * (params.db_ceiling - params.db_floor) + params.db_floor
    magnitude = np.where(unit > 0, params.reference_magnitude * 10 ** (db / 20), 0.0)  # [bins, F]
    full = np.zeros((params.n_fft // 2 + 1, magnitude.shape[1]), np.float32)
    full[:magnitude.shape[0]] = magnitude  # the dropped Nyquist bin stays 0
    mel = librosa.feature.melspectrogram(S=full ** 2, sr=params.sample_rate, n_fft=params.n_fft)
    envelope = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=params.sample_rate)
    frames = librosa.onset.onset_detect(onset_envelope=envelope, sr=params.sample_rate, hop_length=params.hop_length,
                                        units="frames", delta=delta)
    return np.asarray(frames, dtype=np.float64) * params.hop_length / params.sample_rate
