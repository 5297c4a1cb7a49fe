"""The default torch thread count: one per core that other processes leave idle."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from egosonics.utils.threads import busy_cores, default_cpu_threads


@pytest.mark.parametrize(("cores", "busy", "expected"), [(2, 0.0, 2), (2, 0.4, 2), (2, 0.6, 1), (2, 9.5, 1),
                                                          (8, 2.2, 6), (8, 0.0, 8), (1, 0.0, 1)])
def test_one_thread_per_idle_core(cores, busy, expected):
    assert default_cpu_threads(cores, busy) == expected


def test_busy_cores_sees_a_busy_process():
    """A process spinning on one core shows as about one busy core (measured, not the lagging load average)."""
    spin = "import time\nend = time.time() + 3\nwhile time.time() < end: pass"
    spinner = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.3)
        busy = busy_cores(0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert busy is not None and 0.7 <= busy <= os.cpu_count(), busy


def test_the_command_line_sets_it_before_torch_loads_unless_told(tmp_path):
    code = ("import os, sys\nfrom egosonics.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "import torch\nprint(os.environ.get('OMP_NUM_THREADS'), torch.get_num_threads())")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    # `spectrogram` of a missing file fails after the global options are applied, before loading torch.
    args = ["spectrogram", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "x.png")]
    auto = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    chosen, torch_threads = auto.stdout.split()
    assert 1 <= int(chosen) <= len(os.sched_getaffinity(0)) and int(torch_threads) == int(chosen)
    env["OMP_NUM_THREADS"] = "1"
    kept = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    assert kept.stdout.split() == ["1", "1"]
