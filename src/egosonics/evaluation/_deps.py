"""Lazy imports of the evaluation-only dependencies, with the pip command in the error.

librosa (onset detection, the reference for AV-Align and the CondFoleyGen onset metrics) is in the ``eval`` extra;
OpenCV (Farneback optical flow, the reference for AV-Align's video peaks) is a core dependency. Neither is imported by
the generation path.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def require_librosa() -> ModuleType:
    """``import librosa`` or an ``ImportError`` saying how to install it."""
    try:
        return importlib.import_module("librosa")
    except ImportError as exc:
        raise ImportError("the onset-based metrics (AV-Align, onset accuracy/AP/F1) need librosa: "
                          "pip install 'egosonics[eval]'  (or: pip install 'librosa>=0.10')") from exc


def require_cv2() -> ModuleType:
    """``import cv2`` or an ``ImportError`` saying how to install it."""
    try:
        return importlib.import_module("cv2")
    except ImportError as exc:
        raise ImportError("AV-Align's optical flow needs OpenCV: pip install opencv-python-headless") from exc


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose behaviour the metrics depend on (for reports, EVALUATION.md §7.5)."""
    out = {}
    for name in ("numpy", "scipy", "torch", "librosa", "cv2", "av"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            out[name] = "not installed"
            continue
        out[name] = str(getattr(module, "__version__", "unknown"))
    return out
