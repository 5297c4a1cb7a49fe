"""``egosonics generate`` on long videos with the shipped default model: peak memory and time at 1 and 5 minutes (and
30 with ``--full``), and every window join measured.

Inputs (written here): 160 × 120 30 fps H.264 + AAC videos of each length (``testmedia.write_av_file``).
Each length runs ``generate_files`` (default settings: 20 steps, guidance 3, batch 4, 2 s overlap, the torch threads
``egosonics`` chooses) in a fresh child process, which reports its peak resident memory (VmHWM) after loading the
model and at the end, and the seconds spent generating; a second child measures the joins (the recording costs
memory of its own on long videos, so it stays out of the memory figures). Flat memory: the peak does not grow
with the length.

Joins (``recording_joiner``, measured as the joiner streams; 50 ms frames, dB): the level step the join adds at each
end of every crossfade (the joined output's step minus that of the window that plays on alone there: 0 for a clean
crossfade, the size of the step for a hard cut), and inside every crossfade the joined level against equal power
(10 log10(cos² P_a + sin² P_b), exact for uncorrelated windows).

Targets (issue 14): peak RSS at the longest length ≤ peak at 1 minute + 50 MB; joins add ≤ 1 dB at a crossfade's end;
inside a crossfade the level is within 3 dB of equal power (+3 dB is the limit for fully correlated windows).

Alone, e.g. the 30-minute memory check with fewer steps:
    .venv/bin/python benchmarks/bench_long_generate.py --minutes 1 30 --steps 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import add_target, child_reply, new_result, peak_rss_mb, run_child
from testmedia import write_av_file

NAME = "long_generate"
TITLE = "default model, 160×120 videos of 1, 5 (and 30 with --full) minutes: peak RSS, seconds, window joins"

MINUTES = (1, 5)
FULL_MINUTES = (1, 5, 30)
STEPS = 20
RSS_MARGIN_MB = 50.0
JOIN_JUMP_DB = 1.0  # a join may change the level step at a crossfade's end by at most this much
POWER_DB = 3.0  # the joined level inside a crossfade stays within this of equal power (+3: fully correlated)
FRAME = 1102  # 50 ms at 22,050 Hz


def _child(video: str, out: str, steps: int, record: bool) -> dict[str, Any]:
    import torch

    import egosonics.generate as generate_module
    from egosonics.generate import GenerateOptions, generate_files
    from egosonics.loading import load_pipeline
    from egosonics.utils.threads import default_cpu_threads

    torch.set_num_threads(default_cpu_threads())  # as `egosonics generate` chooses
    joiners = []

    class Joiner(recording_joiner(generate_module.CrossfadeJoiner)):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            joiners.append(self)

    if record:  # joins are measured in a run of their own: the recording itself costs memory on long videos
        generate_module.CrossfadeJoiner = Joiner
    pipe = load_pipeline(None)
    pipe.set_progress_bar_config(disable=True)
    torch.set_grad_enabled(False)
    loaded_mb = peak_rss_mb()
    start = time.perf_counter()
    report = generate_files(pipe, [Path(video)], Path(out), GenerateOptions(steps=steps))
    seconds = time.perf_counter() - start
    if report.failed:
        raise RuntimeError(f"generate_files failed: {report.failed}")
    return {"seconds": seconds, "loaded_rss_mb": loaded_mb, "peak_rss_mb": peak_rss_mb(),
            "threads": torch.get_num_threads(), **(joiners[0].summary() if record else {})}


def _db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-5))


def recording_joiner(base: type) -> type:
    """A ``CrossfadeJoiner`` that also measures each join as it streams (nothing else changes).

    At both ends of every crossfade it takes the level (dB) of the 50 ms before and after the end, in the joined
    output and in the window that plays on alone there (the earlier one before the start, the later one after the
    end). The join's own jump is the joined output's jump minus that window's: ~0 dB for a clean crossfade, the size
    of the step for a hard cut. Across the overlap it also takes the joined level against the equal-power expectation
    10 log10(cos² P_a + sin² P_b) in 50 ms frames (exact for uncorrelated windows). Only scalars are kept.
    """

    class Recording(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.previous: tuple[int, np.ndarray] | None = None  # (start, samples) of the last piece
            self.wanted: dict[int, list] = {}  # absolute sample → list to fill with the joined output around it
            self.joined_tail = np.zeros(0, np.float32)  # the last 2 frames handed back
            self.measures: list[dict[str, float]] = []

        def add(self, piece: np.ndarray) -> np.ndarray:
            start, done_before = self.starts[self.count], self.done
            piece = np.asarray(piece, np.float32)
            overlap = 0
            if self.previous is not None:
                prev_start, prev = self.previous
                overlap = max(0, min(prev_start + len(prev) - start, len(piece), self.total - start))
            out = super().add(piece)
            # The samples around the next join's start are handed back now: say which ones to keep before collecting.
            if self.count < len(self.starts):
                following = self.starts[self.count]
                reach = min(start + len(piece), self.total) - following
                if reach >= 4 * FRAME:
                    for edge in (following, following + reach):
                        self.wanted.setdefault(edge, [])
            self._collect(done_before, out)
            if overlap >= 4 * FRAME:
                prev_start, prev = self.previous
                a = prev[start - prev_start:start - prev_start + overlap]  # the earlier window over the overlap
                b = piece[:overlap]
                theta = np.linspace(0.0, np.pi / 2, overlap)
                joined = a * np.cos(theta) + b * np.sin(theta)
                errors = []
                for i in range(0, overlap - FRAME + 1, FRAME):
                    f = slice(i, i + FRAME)
                    power = np.mean(np.cos(theta[f]) ** 2 * a[f] ** 2 + np.sin(theta[f]) ** 2 * b[f] ** 2)
                    if power > 1e-8:
                        errors.append(abs(_db(joined[f]) - float(10 * np.log10(power))))
                self.measures.append({"start": start, "overlap": overlap, "power_errors": errors,
                                      "alone_at_start": _db(prev[start - prev_start:][:FRAME])
                                      - _db(prev[start - prev_start - FRAME:start - prev_start]),
                                      "alone_at_end": _db(piece[overlap:overlap + FRAME])
                                      - _db(piece[overlap - FRAME:overlap])})
            self.previous = (start, piece)
            return out

        def finish(self) -> np.ndarray:
            done_before = self.done
            out = super().finish()
            self._collect(done_before, out)
            return out

        def _collect(self, offset: int, out: np.ndarray) -> None:
            for edge, parts in self.wanted.items():
                lo, hi = max(edge - FRAME, offset), min(edge + FRAME, offset + len(out))
                if lo < hi:
                    parts.append((lo, out[lo - offset:hi - offset].copy()))

        def summary(self) -> dict[str, Any]:
            join_jumps, power_err = [], []
            for m in self.measures:
                for edge, alone in ((m["start"], m["alone_at_start"]),
                                    (m["start"] + m["overlap"], m["alone_at_end"])):
                    joined = np.concatenate([x for _, x in sorted(self.wanted[edge], key=lambda t: t[0])])
                    if len(joined) == 2 * FRAME:
                        join_jumps.append(abs((_db(joined[FRAME:]) - _db(joined[:FRAME])) - alone))
                power_err.extend(m["power_errors"])
            return {"joins": len(self.measures), "max_join_jump_dB": max(join_jumps, default=0.0),
                    "median_join_jump_dB": float(np.median(join_jumps)) if join_jumps else 0.0,
                    "max_power_error_dB": max(power_err, default=0.0),
                    "median_power_error_dB": float(np.median(power_err)) if power_err else 0.0}

    return Recording


def run(workdir: Path, *, full: bool = False, steps: int = STEPS, minutes_list: tuple[int, ...] | None = None
        ) -> dict[str, Any]:
    result = new_result(NAME, TITLE)
    rows = []
    for minutes in minutes_list or (FULL_MINUTES if full else MINUTES):
        video = workdir / f"{minutes}min.mp4"
        write_av_file(video, 60.0 * minutes, width=160, height=120, seed=minutes)
        out = workdir / f"{minutes}min.egosonics.mp4"
        child = run_child(__file__, [str(video), str(out), str(steps), "0"], timeout=600 + 240 * 60 * minutes)
        child |= {k: v for k, v in run_child(__file__, [str(video), str(out), str(steps), "1"],
                                             timeout=600 + 240 * 60 * minutes).items()
                  if k not in child}  # the join measures, from a second run
        rows.append({"minutes": minutes, "seconds": child["seconds"], "RTF": child["seconds"] / (60 * minutes),
                     "rss_after_load_MB": child["loaded_rss_mb"], "peak_rss_MB": child["peak_rss_mb"],
                     "growth_MB": child["peak_rss_mb"] - child["loaded_rss_mb"],
                     **{k: child[k] for k in ("joins", "max_join_jump_dB", "median_join_jump_dB",
                                              "max_power_error_dB", "median_power_error_dB")}})
        video.unlink()
    result["rows"] = rows
    result["info"] = {"threads": child["threads"], "settings": f"{steps} steps, guidance 3, batch 4, overlap 2 s"}
    first, last = rows[0], rows[-1]
    add_target(result, f"peak RSS at {last['minutes']} min minus peak at {first['minutes']} min",
               last["peak_rss_MB"] - first["peak_rss_MB"], RSS_MARGIN_MB, unit=" MB",
               ok=last["peak_rss_MB"] - first["peak_rss_MB"] <= RSS_MARGIN_MB)
    worst = max(r["max_join_jump_dB"] for r in rows)
    add_target(result, "largest level jump a join adds at a crossfade's end", worst, JOIN_JUMP_DB, unit=" dB",
               ok=worst <= JOIN_JUMP_DB)
    worst = max(r["max_power_error_dB"] for r in rows)
    add_target(result, "largest deviation from equal power inside a crossfade (50 ms frames)", worst, POWER_DB,
               unit=" dB", ok=worst <= POWER_DB)
    if last["minutes"] < 30 and last["minutes"] > first["minutes"]:
        per_min = (last["seconds"] - first["seconds"]) / (last["minutes"] - first["minutes"])
        result["notes"].append(f"30 min not run (pass --full): extrapolated (not measured) from these, about "
                               f"{first['seconds'] + per_min * (30 - first['minutes']):.0f} s")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="run as a child of run_all.py, or alone: "
                                                 "python benchmarks/bench_long_generate.py --minutes 1 30 --steps 2")
    parser.add_argument("--child", nargs=4, metavar=("VIDEO", "OUT", "STEPS", "RECORD"))
    parser.add_argument("--minutes", type=int, nargs="+", help="lengths to run alone (prints the table)")
    parser.add_argument("--steps", type=int, default=STEPS, help="DDIM steps (fewer: a quicker memory check)")
    args = parser.parse_args()
    if args.child:
        child_reply(_child(args.child[0], args.child[1], int(args.child[2]), args.child[3] == "1"))
    else:
        import tempfile

        from common import format_result

        with tempfile.TemporaryDirectory(prefix="egosonics-bench-long-") as tmp:
            print(format_result(run(Path(tmp), steps=args.steps, minutes_list=tuple(args.minutes or MINUTES))))
    sys.exit(0)
