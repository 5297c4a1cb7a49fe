"""Metrics. ``spectral``: paired spectrogram metrics (sync and distribution metrics: the evaluation issue)."""
