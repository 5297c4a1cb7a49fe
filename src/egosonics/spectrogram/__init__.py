"""Audio representation: waveform ↔ normalised STFT image (``transform``), phase recovery (``griffin_lim``), PNG files
(``png``). ``codec`` composes them into the two calls the pipeline uses."""

from egosonics.spectrogram.params import DEFAULT_PARAMS, SpectrogramParams

__all__ = ["DEFAULT_PARAMS", "SpectrogramParams"]
