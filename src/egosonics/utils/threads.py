"""The default number of torch CPU threads: one per core that other processes leave idle now (no torch import here).

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


def busy_cores(interval_s: float = 0.1) -> float | None:
    """How many cores the machine's processes keep busy right now: /proc/stat sampled over ``interval_s`` (this process
    sleeps meanwhile); None where there is no /proc/stat.

    A current measure, not the 1-minute load average: that one still counts work that ended up to a minute ago (a
    benchmark started right after a test run would get one thread on an idle machine).
    """
    def sample() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle  # user nice system idle iowait irq softirq steal (guest is inside user)

    import time

    first = sample()
    time.sleep(interval_s)
    second = sample()
    if first is None or second is None or second[0] <= first[0]:
        return None
    total, idle = second[0] - first[0], second[1] - first[1]
    return (total - idle) / total * (os.cpu_count() or 1)


def default_cpu_threads(cores: int | None = None, busy: float | None = None) -> int:
    """Cores minus the cores other processes keep busy (rounded), between 1 and the number of cores.

    Args:
        cores: usable cores (default: this process's affinity).
        busy: cores in use by others (default: ``busy_cores()``, or the 1-minute load average where that is unknown).
    """
    cores = usable_cores() if cores is None else cores
    if busy is None:
        busy = busy_cores()
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):
            busy = 0.0
    return max(1, min(cores, round(cores - busy)))


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
