"""Spectrogram figures with real axes (time in s, frequency in Hz, level in dB), drawn with matplotlib."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from egosonics.spectrogram.params import SpectrogramParams
from egosonics.utils.output import atomic_output


def plot_spectrograms(path: str | os.PathLike[str], panels: Sequence[tuple[str, torch.Tensor | np.ndarray]],
                      params: SpectrogramParams, *, duration_s: float | None = None,
                      events_s: Sequence[float] = (), dpi: int = 120) -> None:
    """Draw [F, T] images in [0, 1] one above the other and save a PNG (atomically).

    Args:
        panels: (title, image) pairs; row 0 of each image is 0 Hz.
        params: gives the dB range and the frequency of the top row.
        duration_s: seconds the time axis spans (default: columns × hop / sample rate).
        events_s: times to mark with vertical lines on every panel (e.g. true event onsets).
    """
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.2 * len(panels)), squeeze=False)
    for ax, (title, image) in zip(axes[:, 0], panels, strict=True):
        array = np.asarray(image.detach().cpu() if isinstance(image, torch.Tensor) else image, dtype=np.float32)
        db = array * (params.db_ceiling - params.db_floor) + params.db_floor
        span = duration_s if duration_s is not None else array.shape[-1] * params.frame_s
        top_hz = params.sample_rate / 2 * min(1.0, params.num_bins / (params.n_fft // 2))
        mesh = ax.imshow(db, origin="lower", aspect="auto", cmap="magma", extent=(0, span, 0, top_hz),
                         vmin=params.db_floor, vmax=params.db_ceiling, interpolation="nearest")
        for t in events_s:
            ax.axvline(t, color="cyan", linewidth=0.8, alpha=0.8)
        ax.set_title(title)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (Hz)")
        fig.colorbar(mesh, ax=ax, label="dB re full scale")
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
