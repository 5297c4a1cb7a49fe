"""Keeping the C heap from creeping on long runs (glibc only; elsewhere nothing happens).

glibc serves a large allocation with its own ``mmap`` (returned to the system on free) until such a block is freed;
then it raises its threshold to that size (up to 32 MB), and later blocks of that size come from the heap, where
their pattern of frees leaves holes. Over hundreds of windows the peak resident memory then creeps up (+90 MB over a
30-minute video here) without anything being kept. A fixed 16 MB threshold stops that: the super-resolution's
full-size activations are mapped and unmapped, the denoiser's smaller ones are reused from the heap at full speed
(a 1 MB threshold kept the peak flat too, but made the denoiser 2× slower from page faults).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD_BYTES = 16 << 20
_done = False


def fix_mmap_threshold(nbytes: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Set glibc's mmap threshold once per process (``mallopt``); returns whether it was set."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without mallopt)
        return False
    _done = bool(mallopt(_M_MMAP_THRESHOLD, int(nbytes)))
    log.debug("malloc mmap threshold %d bytes: %s", nbytes, "set" if _done else "refused")
    return _done
