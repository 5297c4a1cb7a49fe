"""The default number of torch CPU threads: one per core that other processes leave idle (no torch import here).

torch's intra-op threads spin while they wait for each other; on cores that other jobs keep busy a thread that lost
its core holds up every operation, and two threads can be several times slower than one (a 10 s clip with the tiny
model on 2 cores under a load of 8: 55-95 s with 2 threads, 11 s with 1). One thread per idle core avoids that and
keeps every core on an idle machine.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def default_cpu_threads(cores: int | None = None, load: float | None = None) -> int:
    """Cores minus the 1-minute load average (rounded), between 1 and the number of cores.

    Args:
        cores: usable cores (default: this process's affinity).
        load: the machine's 1-minute load average (default: ``os.getloadavg()``; 0 where there is none).
    """
    cores = usable_cores() if cores is None else cores
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    return max(1, min(cores, round(cores - load)))


def set_default_threads_env() -> int | None:
    """Before torch is imported: set ``OMP_NUM_THREADS`` to ``default_cpu_threads()`` unless it is set already.

    Returns the number set, or None when the environment already chose (or torch was imported: then it has no effect).
    """
    import sys

    if "OMP_NUM_THREADS" in os.environ or "torch" in sys.modules:
        return None
    threads = default_cpu_threads()
    os.environ["OMP_NUM_THREADS"] = str(threads)
    return threads
