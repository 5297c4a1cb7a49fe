"""``egosonics generate`` on long videos with the shipped default model: peak memory and time at 1 and 5 minutes (and
30 with ``--full``), and the level at every window join.

Inputs (written here): 160 × 120 30 fps H.264 + AAC videos of each length (``testmedia.write_av_file``).
Each length runs ``generate_files`` (default settings: 20 steps, guidance 3, batch 4, 2 s overlap, WAV written too,
the torch threads ``egosonics`` chooses) in a fresh child process, which reports its peak resident memory (VmHWM)
after loading the model and at the end, and the seconds spent generating. Flat memory: the peak does not grow
with the length.

Joins: the WAV's level in 50 ms frames (RMS, dB); a jump is the level change between neighbouring frames. Reported:
the largest jump at any join (the 2 s crossfade and one frame either side), and the largest and 99th-percentile jumps
elsewhere. Equal-power crossfades keep the joins no worse than the rest of the soundtrack.

Target (issue 14): peak RSS at the longest length ≤ peak at 1 minute + 50 MB.
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
RSS_MARGIN_MB = 50.0
FRAME = 1102  # 50 ms at 22,050 Hz


def _child(video: str, out: str) -> dict[str, Any]:
    import torch

    from egosonics.generate import GenerateOptions, generate_files
    from egosonics.models.loading import load_pipeline
    from egosonics.utils.threads import default_cpu_threads

    torch.set_num_threads(default_cpu_threads())  # as `egosonics generate` chooses
    pipe = load_pipeline(None)
    pipe.set_progress_bar_config(disable=True)
    torch.set_grad_enabled(False)
    loaded_mb = peak_rss_mb()
    start = time.perf_counter()
    report = generate_files(pipe, [Path(video)], Path(out), GenerateOptions(write_wav=True))
    seconds = time.perf_counter() - start
    if not report.ok:
        raise RuntimeError(f"generate_files failed: {report.failed}")
    return {"seconds": seconds, "loaded_rss_mb": loaded_mb, "peak_rss_mb": peak_rss_mb(),
            "threads": torch.get_num_threads()}


def level_db(wav: Path) -> np.ndarray:
    """RMS level of 50 ms frames in dB, read block by block."""
    import soundfile as sf

    levels = []
    for block in sf.blocks(str(wav), blocksize=FRAME * 1000, dtype="float32"):
        n = len(block) // FRAME * FRAME
        rms = np.sqrt((block[:n].reshape(-1, FRAME) ** 2).mean(axis=1))
        levels.append(20 * np.log10(rms + 1e-5))
    return np.concatenate(levels)


def join_jumps(wav: Path, duration_s: float, sample_rate: int = 22_050) -> dict[str, Any]:
    """Largest level jump (dB between neighbouring 50 ms frames) at the joins and elsewhere."""
    from egosonics.media.windows import split_windows

    windows = split_windows(duration_s, window_s=10.0, hop_s=8.0)
    jumps = np.abs(np.diff(level_db(wav)))  # jump i: between frames i and i + 1
    at_join = np.zeros(len(jumps), bool)
    for window in windows[1:]:
        first = int(window.start_s * sample_rate) // FRAME - 1
        last = int((window.start_s + 2.0) * sample_rate) // FRAME + 1
        at_join[max(0, first):last + 1] = True
    return {"joins": len(windows) - 1, "max_jump_at_joins_dB": float(jumps[at_join].max()),
            "max_jump_elsewhere_dB": float(jumps[~at_join].max()),
            "p99_jump_elsewhere_dB": float(np.percentile(jumps[~at_join], 99))}


def run(workdir: Path, *, full: bool = False) -> dict[str, Any]:
    result = new_result(NAME, TITLE)
    rows = []
    for minutes in FULL_MINUTES if full else MINUTES:
        video = workdir / f"{minutes}min.mp4"
        write_av_file(video, 60.0 * minutes, width=160, height=120, seed=minutes)
        out = workdir / f"{minutes}min.egosonics.mp4"
        child = run_child(__file__, [str(video), str(out)], timeout=600 + 240 * 60 * minutes)
        joins = join_jumps(out.with_suffix(".wav"), 60.0 * minutes)
        rows.append({"minutes": minutes, "seconds": child["seconds"], "RTF": child["seconds"] / (60 * minutes),
                     "rss_after_load_MB": child["loaded_rss_mb"], "peak_rss_MB": child["peak_rss_mb"],
                     "growth_MB": child["peak_rss_mb"] - child["loaded_rss_mb"], **joins})
        video.unlink()
    result["rows"] = rows
    result["info"] = {"threads": child["threads"], "settings": "20 steps, guidance 3, batch 4, overlap 2 s, --wav"}
    first, last = rows[0], rows[-1]
    add_target(result, f"peak RSS at {last['minutes']} min minus peak at {first['minutes']} min",
               last["peak_rss_MB"] - first["peak_rss_MB"], RSS_MARGIN_MB, unit=" MB",
               ok=last["peak_rss_MB"] - first["peak_rss_MB"] <= RSS_MARGIN_MB)
    worst = max(rows, key=lambda r: r["max_jump_at_joins_dB"] - r["max_jump_elsewhere_dB"])
    add_target(result, "largest level jump at a join minus the largest elsewhere",
               worst["max_jump_at_joins_dB"] - worst["max_jump_elsewhere_dB"], 0.0, unit=" dB",
               ok=worst["max_jump_at_joins_dB"] <= worst["max_jump_elsewhere_dB"])
    if not full:
        per_min = (last["seconds"] - first["seconds"]) / (last["minutes"] - first["minutes"])
        result["notes"].append(f"30 min not run (pass --full): extrapolated from 1 and 5 min, about "
                               f"{first['seconds'] + per_min * (30 - first['minutes']):.0f} s")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("VIDEO", "OUT"), required=True)
    args = parser.parse_args()
    child_reply(_child(*args.child))
    sys.exit(0)
