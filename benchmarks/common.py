"""Helpers shared by the benchmarks: timing, child processes, result records and the printed table.

Every benchmark module exposes ``NAME``, ``TITLE`` and ``run(workdir) -> dict`` (see ``new_result``). Cases that need a
clean process (CPU pinning, peak memory) run in a child: ``python <bench file> --child CASE ...`` prints one JSON line.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def new_result(name: str, title: str) -> dict[str, Any]:
    """An empty result: ``rows`` (one dict per measured case), ``targets`` (checks against the issue), ``info``
    (settings, printed above the table), ``notes`` (printed below) and ``details`` (JSON only)."""
    return {"name": name, "title": title, "rows": [], "targets": [], "info": {}, "notes": [], "details": {}}


def add_target(result: dict[str, Any], what: str, measured: float, threshold: float, *, unit: str = "×",
               ok: bool | None = None, detail: str = "") -> None:
    """Record a target; by default ``ok`` means measured ≥ threshold."""
    result["targets"].append({"what": what, "measured": measured, "threshold": threshold, "unit": unit,
                              "ok": bool(measured >= threshold) if ok is None else bool(ok), "detail": detail})


def time_call(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one call in seconds, and its return value."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def interleaved(cases: dict[str, Callable[[int], Any]], repeat: int) -> dict[str, list[tuple[float, Any]]]:
    """Run every case ``repeat`` times, round-robin (so background load hits all cases alike).

    Each case is called with the run index; returns, per case, the (seconds, return value) of every run.
    """
    out: dict[str, list[tuple[float, Any]]] = {name: [] for name in cases}
    for i in range(repeat):
        for name, fn in cases.items():
            out[name].append(time_call(lambda fn=fn, i=i: fn(i)))
    return out


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def median_or_none(values: Sequence[float | None]) -> float | None:
    """Median, or None when the case does not measure this (all values None)."""
    present = [v for v in values if v is not None]
    return median(present) if present else None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's VmHWM (/proc/self/status) belongs to the current address space; ``getrusage``'s ru_maxrss is kept across
    fork + exec, so a child started by a large parent would report the parent's size. ru_maxrss is the fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pin_to_one_core() -> None:
    """Restrict this process to CPU 0 and its thread pools to one thread (call before heavy imports)."""
    os.sched_setaffinity(0, {0})
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def run_child(script: str | Path, args: Sequence[str], *, one_core: bool = False, timeout: float = 600) -> dict:
    """Run ``python script --child args...`` in a fresh interpreter and return the JSON object it prints last."""
    env = dict(os.environ)
    if one_core:
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(script), "--child", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {Path(script).name} {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"child {Path(script).name} {' '.join(args)} printed no result:\n{proc.stdout}")
    return json.loads(lines[-1])


def child_reply(data: dict) -> None:
    """What a child prints for ``run_child``: one JSON line on stdout."""
    print(json.dumps(data), flush=True)


def cpu_seconds() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine since boot, CPU seconds of this process and its finished children).

    The difference of two snapshots, divided by the wall time between them, is the number of cores other processes
    kept busy meanwhile: background load that makes timings unreliable (steal time counts as busy).
    """
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        busy = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
    except (OSError, ValueError):
        busy = float("nan")
    t = os.times()
    return busy, t.user + t.system + t.children_user + t.children_system


def background_cores(before: tuple[float, float], after: tuple[float, float], wall_s: float) -> float:
    """Cores kept busy by other processes between two ``cpu_seconds`` snapshots."""
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / wall_s) if wall_s > 0 else 0.0


def machine_info() -> dict[str, Any]:
    """Where the numbers came from: CPU, cores, load, library versions and threading settings."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu or platform.processor(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
    }
    for module in ("numpy", "torch", "av", "librosa", "PIL"):
        try:
            info[module] = __import__(module).__version__
        except (ImportError, AttributeError):  # a missing optional library is reported, not fatal
            info[module] = None
    return info


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value == 0:
            return "0"
        magnitude = abs(value)
        if magnitude >= 1000:
            return f"{value:,.0f}"
        if magnitude >= 100:
            return f"{value:.1f}"
        if magnitude >= 1:
            return f"{value:.3g}" if magnitude < 10 else f"{value:.2f}"
        return f"{value:.4f}" if magnitude >= 0.001 else f"{value:.2e}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return "" if value is None else str(value)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """Rows of dicts → aligned text columns (the union of keys, in first-seen order)."""
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    cells = [[_fmt(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    lines = ["  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    for r in cells:
        lines.append("  ".join((c.ljust(w) if i == 0 else c.rjust(w))
                               for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(lines)


def format_result(result: dict[str, Any]) -> str:
    """One benchmark's block of the report: title, settings, table, targets and notes."""
    out = [f"== {result['name']}: {result['title']} =="]
    if result["info"]:
        out.append("   " + ", ".join(f"{k}={_fmt(v)}" for k, v in result["info"].items()))
    out.append(format_table(result["rows"]))
    for t in result["targets"]:
        mark = "PASS" if t["ok"] else "MISS"
        detail = f"  ({t['detail']})" if t["detail"] else ""
        out.append(f"[{mark}] {t['what']}: {_fmt(t['measured'])}{t['unit']} (target {_fmt(t['threshold'])}"
                   f"{t['unit']}){detail}")
    out.extend(f"note: {n}" for n in result["notes"])
    return "\n".join(out)
