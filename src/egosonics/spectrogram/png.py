"""Spectrogram images as 16-bit greyscale PNG files that carry their ``SpectrogramParams`` in a text chunk.

The file is drawn the way people read spectrograms: low frequencies at the bottom (row 0 of the tensor is 0 Hz, so the
rows are flipped on writing and flipped back on reading). 16 bits keep the [0, 1] values to 1.5e-5, well below the
0.0015 dB step of the 100 dB range.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, PngImagePlugin

from egosonics.errors import MediaError
from egosonics.media.files import check_readable
from egosonics.spectrogram.params import SpectrogramParams
from egosonics.utils.output import atomic_output

_KEY = "egosonics-spectrogram"


def save_spectrogram_png(path: str | os.PathLike[str], image: torch.Tensor | np.ndarray, params: SpectrogramParams,
                         **extra: Any) -> Path:
    """Write a [F, T] image in [0, 1] as a 16-bit PNG with ``params`` (and any JSON-able ``extra``) in its metadata."""
    array = np.asarray(image.detach().cpu() if isinstance(image, torch.Tensor) else image, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"expected a [frequency, time] image, got shape {array.shape}")
    pixels = np.round(np.clip(array[::-1], 0.0, 1.0) * 65535).astype(np.uint16)  # low frequencies at the bottom
    info = PngImagePlugin.PngInfo()
    info.add_text(_KEY, json.dumps({"params": params.to_dict(), **extra}))
    with atomic_output(path) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG", pnginfo=info)
    return Path(path)


def load_spectrogram_png(path: str | os.PathLike[str]) -> tuple[torch.Tensor, SpectrogramParams, dict[str, Any]]:
    """Read a PNG written by ``save_spectrogram_png``: (image [F, T] float32 in [0, 1], params, extra metadata)."""
    check_readable(path)
    try:
        with Image.open(path) as img:
            meta = img.text.get(_KEY) if hasattr(img, "text") else None
            pixels = np.array(img)
    except OSError as exc:
        raise MediaError(path, f"not a readable image ({exc})") from None
    if meta is None:
        raise MediaError(path, "is not an EgoSonics spectrogram PNG (no parameters in its metadata)")
    data = json.loads(meta)
    params = SpectrogramParams.from_dict(data.pop("params"))
    scale = 65535.0 if pixels.dtype == np.uint16 or pixels.max() > 255 else 255.0
    image = torch.from_numpy(np.ascontiguousarray(pixels[::-1], dtype=np.float32) / scale)
    return image, params, data
