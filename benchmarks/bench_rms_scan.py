"""The scan stage of ``egosonics prepare`` (audio RMS of every candidate 10 s window), on one pinned core.

Input (generated here, ~10 s): 3 × 2-minute 320 × 240 30 fps H.264 files with 48 kHz stereo AAC (``testmedia``; the
sound has quiet stretches, so a threshold rejects some windows).

Measured, each case in a fresh child process pinned to CPU 0 (one torch/BLAS/OpenMP thread):
  * ``egosonics.preprocess.prepare._scan_video`` on each file (what a worker does per video: the video stream's
    duration from its packets, the audio decoded and resampled to 22,050 Hz mono, windows chosen, one RMS per window),
    ``RUNS`` passes over the 3 files, median; its parts are timed from outside (``stages.StageTimer``);
  * the public ``prepare(PrepareConfig(src, out, rms_threshold_dbfs=...), workers=1)`` on the folder, with a
    threshold above every window so the extract stage writes nothing: scan + threshold + bookkeeping + merge.
Throughput is in hours of video scanned per hour of wall time on one core (= × real time).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from common import child_reply, median, new_result, peak_rss_mb, pin_to_one_core, run_child, time_call
from stages import StageTimer
from testmedia import write_av_file

NAME = "rms_scan"
TITLE = "prepare's RMS scan: 3 × 2 min 320x240 H.264 + 48 kHz stereo AAC, one core"

FILES = 3
DURATION_S = 120.0
RUNS = 3
REJECT_ALL_DBFS = 100.0  # above any RMS: the extract stage keeps nothing
PART_COLUMNS = {"video_duration_s": "duration_s", "read_audio": "read_audio_s", "choose_windows": "windows_s",
                "rms_dbfs": "rms_s"}


def _child(case: str, src: str, out: str, runs: int) -> dict[str, Any]:
    pin_to_one_core()
    import os

    import egosonics.preprocess.prepare as prep
    from egosonics.preprocess.prepare import PrepareConfig, list_sources, prepare

    videos = list_sources(Path(src))
    seconds, parts, rows = [], [], 0
    for i in range(runs):
        if case == "scan_video":
            config = PrepareConfig(src=src, out=out)
            timer = StageTimer()
            with timer:
                timer.wrap(prep, "video_duration_s", "video_duration_s")
                timer.wrap(prep, "read_audio", "read_audio")
                timer.wrap(prep, "choose_windows", "choose_windows")
                timer.wrap(prep, "rms_dbfs", "rms_dbfs")
                t, found = time_call(lambda config=config: [r for v in videos
                                                            for r in prep._scan_video(Path(src), v, config, None)])
            parts.append(timer.top_level())
        else:
            config = PrepareConfig(src=src, out=f"{out}/run{i}", rms_threshold_dbfs=REJECT_ALL_DBFS)
            t, summary = time_call(lambda config=config: prepare(config, workers=1))
            found = [None] * summary["windows"]
            assert summary["kept"] == 0, summary
        seconds.append(t)
        rows = len(found)
    return {"seconds": seconds, "parts": parts, "windows": rows, "cpus": sorted(os.sched_getaffinity(0)),
            "peak_rss_mb": peak_rss_mb()}


def run(workdir: Path) -> dict[str, Any]:
    from egosonics.media.video import video_duration_s

    result = new_result(NAME, TITLE)
    src = workdir / "src"
    src.mkdir()
    gen_s, _ = time_call(lambda: [write_av_file(src / f"walk{i}.mp4", DURATION_S, seed=10 + i)
                                  for i in range(FILES)])
    video_s = sum(video_duration_s(p) for p in sorted(src.iterdir()))
    result["info"] = {"files": FILES, "video_s": round(video_s, 1), "source": "320x240@30 H.264 + AAC 48 kHz stereo",
                      "MB": round(sum(p.stat().st_size for p in src.iterdir()) / 1e6, 1),
                      "generate_s": round(gen_s, 1), "runs": RUNS}
    rows = []
    for case, label in (("scan_video", "prepare._scan_video per file"),
                        ("prepare", "prepare() on the folder, all windows rejected")):
        child = run_child(__file__, [case, str(src), str(workdir / f"out-{case}"), str(RUNS)], one_core=True)
        assert child["cpus"] == [0], child["cpus"]
        t = median(child["seconds"])
        row = {"case": label, "median_s": t, "first_s": child["seconds"][0], "windows": child["windows"],
               "video_h_per_h_per_core": video_s / t, "peak_rss_MB": child["peak_rss_mb"]}
        if child["parts"]:
            for name, column in PART_COLUMNS.items():
                row[column] = median([p.get(name, 0.0) for p in child["parts"]])
        rows.append(row)
    result["rows"] = rows
    scan = rows[0]
    result["notes"].append(f"of _scan_video's time: video_duration_s (demuxes every video packet) "
                           f"{scan['duration_s'] / scan['median_s']:.0%}, read_audio (decode + resample to 22,050 Hz "
                           f"mono) {scan['read_audio_s'] / scan['median_s']:.0%}, rms_dbfs "
                           f"{scan['rms_s'] / scan['median_s']:.0%}")
    result["notes"].append("no issue target is recorded for the scan throughput; compare with audio_decode (the "
                           "same decode on a 10-minute file)")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4, metavar=("CASE", "SRC", "OUT", "RUNS"), required=True)
    args = parser.parse_args()
    child_reply(_child(args.child[0], args.child[1], args.child[2], int(args.child[3])))
    sys.exit(0)
