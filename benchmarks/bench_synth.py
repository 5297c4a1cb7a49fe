"""``egosonics synth``: seconds per 10 s scene, easy vs realistic, rendered and written (MP4 + WAV + JSON), one core.

Measured in a fresh child process pinned to CPU 0 (one thread): ``synthesize(n=CLIPS, seed=0)`` with the CLI's
settings (``--size 128``, 10 s) for ``--difficulty easy`` and ``--difficulty realistic`` (realistic scenes draw their
frame rate from 24–60 fps and their height from 102–160 px, so the per-clip time varies with the seed; the mean over
the clips is reported). Recordings are read from ../shared/data/sfx when present; without it the realistic scenes use
the procedural classes only (noted).

Target (this project's, for training data on a small machine): realistic ≤ 15 s per 10 s scene on one core, so that
1,000 training scenes take under ~4 h on two cores.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from common import add_target, child_reply, new_result, pin_to_one_core, run_child

NAME = "synth"
TITLE = "s per 10 s scene, easy vs realistic (render + MP4/WAV/JSON), --size 128, one core"

CLIPS = 4
TARGET_S = 15.0


def _child(difficulty: str, out: str, clips: int) -> dict[str, Any]:
    pin_to_one_core()
    import time

    from egosonics.synth.dataset import synthesize
    from egosonics.synth.settings import settings_for
    from egosonics.synth.timeline import load_timeline

    settings = settings_for(difficulty)
    start = time.perf_counter()
    report = synthesize(out, n=clips, seed=0, settings=settings, show_progress=False)
    seconds = time.perf_counter() - start
    timelines = [load_timeline(Path(out) / r.timeline) for r in report.records]
    frames = sum(round(tl.duration_s * tl.fps) for tl in timelines)
    return {"seconds": seconds, "clips": len(report.records), "frames": frames,
            "sfx": settings.sfx_dir is not None, "classes": list(settings.classes)}


def run(workdir: Path) -> dict[str, Any]:
    result = new_result(NAME, TITLE)
    rows = []
    for difficulty in ("easy", "realistic"):
        child = run_child(__file__, [difficulty, str(workdir / difficulty), str(CLIPS)], one_core=True, timeout=900)
        per_clip = child["seconds"] / child["clips"]
        rows.append({"difficulty": difficulty, "clips": child["clips"], "s_per_10s_scene": per_clip,
                     "frames_per_s": child["frames"] / child["seconds"], "recordings": child["sfx"]})
        if difficulty == "realistic" and not child["sfx"]:
            result["notes"].append("no ../shared/data/sfx: realistic scenes used the procedural classes only")
    result["rows"] = rows
    result["info"] = {"clips": CLIPS, "size": 128, "duration_s": 10}
    realistic = rows[1]["s_per_10s_scene"]
    add_target(result, "realistic s per 10 s scene, one core", realistic, TARGET_S, unit=" s",
               ok=realistic <= TARGET_S)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("DIFFICULTY", "OUT", "CLIPS"))
    args = parser.parse_args()
    if args.child:
        child_reply(_child(args.child[0], args.child[1], int(args.child[2])))
        sys.exit(0)
    import tempfile

    from common import format_result

    with tempfile.TemporaryDirectory(prefix="egosonics-bench-synth-") as tmp:
        print(format_result(run(Path(tmp))))
