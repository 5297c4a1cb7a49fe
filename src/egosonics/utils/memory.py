"""Keeping the C heap from creeping on long runs (glibc only; elsewhere nothing happens).

Each batch of windows allocates and frees the same large tensors (denoiser activations, Griffin-Lim spectrograms,
super-resolution feature maps). glibc serves some of them from its heap, where the pattern of frees leaves holes
that stay resident, so over hundreds of windows the peak resident memory creeps up (+78 to +90 MB over a 30-minute
video here) although nothing is kept. ``malloc_trim(0)`` after each batch hands those free pages back to the system
(it costs milliseconds): the peak then stays where the first batches put it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``); False where there is no such call."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
