"""Run the EgoSonics benchmarks, print one table per benchmark, save JSON.

    .venv/bin/python benchmarks/run_all.py                 # all of them (``make bench``): ~10 min on 2 idle cores
    .venv/bin/python benchmarks/run_all.py --only griffin_lim --only video_decode
    .venv/bin/python benchmarks/run_all.py --only sd21_cpu --full   # all 20 sd21 steps (~5 min more)

Benchmarks and targets:
    griffin_lim    32 iterations on 1024 × 430: ours ≥ 3× faster than librosa.griffinlim at equal or lower SC
    audio_decode   audio-only decode + RMS of a 10-minute AAC track on one core: ≥ 300× real time
    video_decode   10 s 1080p H.264 → 300 frames at 224 × 224: read_frames(size=224) vs full-size decode + resize
    motion_encoder the motion frame encoder on a 10 s 1080p clip, decoding included, one core: ≥ 10× real time
    tiny_generate  tiny preset, 10 s 720p clip end to end (decode → 20 DDIM steps → SR → Griffin-Lim → mux), per
                   stage, guidance 3 and 1, 1 vs 2 threads, channels_last: real-time factor ≤ 0.2 (guidance 3)
    long_generate  default model on 1 and 5 min videos (30 min with --full): peak RSS flat (≤ 1 min + 50 MB), seconds,
                   level jumps at every window join no larger than elsewhere
    sd21_cpu       sd21 architecture with random weights on CPU: s per denoising step, VAE decode, CLIP on 300
                   frames, super-resolution; 20-step clip time extrapolated from 2 steps (measured with --full)
    rms_scan       prepare's audio RMS scan on one pinned core: hours of video per hour per core
    prepare_clips  prepare end to end: clips/s with the pixels encoder and a CLIP ViT-B/32-sized one
    train_tiny     tiny Syncronet and base training, batch 8: samples/s
    evaluation     weight-free evaluation of 25 ten-second clips: under 2 minutes
    synth          synth, easy vs realistic, 10 s scenes at --size 128 rendered and written on one core:
                   realistic ≤ 15 s per scene
    vocoder        Griffin-Lim 32 / 100 iterations vs the learned vocoder, s per 10 s: learned ≤ Griffin-Lim 32

Every benchmark writes its own test media (and random-weight models) into a temporary folder (nothing is downloaded
or read from ../shared).
Results go to benchmarks/results/<name>.json (the latest run) and benchmarks/results/run-<time>.json (all of it).
Other processes' CPU use during each benchmark is measured (/proc/stat) and reported; above 0.2 cores the numbers
are flagged as unreliable. Exit status: 0 when every benchmark ran, 2 when one failed; with ``--strict``, 1 when a
target was missed.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

import bench_audio_decode
import bench_evaluation
import bench_griffin_lim
import bench_long_generate
import bench_motion_encoder
import bench_prepare_clips
import bench_rms_scan
import bench_sd21_cpu
import bench_synth
import bench_tiny_generate
import bench_train_tiny
import bench_video_decode
import bench_vocoder
from common import RESULTS_DIR, background_cores, cpu_seconds, format_result, machine_info

BACKGROUND_WARN = 0.2  # cores busy with other work above which timings are flagged
BENCHMARKS = {module.NAME: module for module in (bench_griffin_lim, bench_audio_decode, bench_video_decode,
                                                 bench_motion_encoder, bench_tiny_generate, bench_long_generate,
                                                 bench_sd21_cpu, bench_rms_scan, bench_prepare_clips, bench_train_tiny,
                                                 bench_evaluation, bench_synth, bench_vocoder)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target is missed")
    parser.add_argument("--full", action="store_true",
                        help="long versions where a benchmark has one (sd21_cpu: all 20 steps, not 2 extrapolated; "
                             "long_generate: also a 30-minute video)")
    args = parser.parse_args(argv)
    names = [name for name in BENCHMARKS if not args.only or name in args.only]

    info = machine_info()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()), flush=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report: dict = {"started": stamp, "machine": info, "results": {}, "errors": {}}
    started = time.perf_counter()
    for name in names:
        print(f"\nrunning {name} ...", flush=True)
        t0, cpu0 = time.perf_counter(), cpu_seconds()
        try:
            with tempfile.TemporaryDirectory(prefix=f"egosonics-bench-{name}-") as tmp:
                run = BENCHMARKS[name].run
                options = {"full": args.full} if "full" in inspect.signature(run).parameters else {}
                result = run(Path(tmp), **options)
        except Exception as exc:  # one failing benchmark must not hide the others' numbers
            traceback.print_exc()
            report["errors"][name] = f"{type(exc).__name__}: {exc}"
            continue
        result["wall_s"] = round(time.perf_counter() - t0, 1)
        result["background_cores"] = round(background_cores(cpu0, cpu_seconds(), result["wall_s"]), 2)
        if result["background_cores"] > BACKGROUND_WARN:
            result["notes"].append(f"other processes kept {result['background_cores']:.2f} cores busy during this "
                                   f"benchmark: its timings are unreliable, rerun on a quiet machine")
        report["results"][name] = result
        (RESULTS_DIR / f"{name}.json").write_text(json.dumps({"machine": info, **result}, indent=1) + "\n")
        print(format_result(result) + f"\n({name} took {result['wall_s']} s; other processes used "
                                      f"{result['background_cores']:.2f} cores meanwhile)", flush=True)

    report["wall_s"] = round(time.perf_counter() - started, 1)
    report["load_avg_after"] = machine_info()["load_avg_1_5_15"]
    out = RESULTS_DIR / f"run-{stamp}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")

    targets = [(name, t) for name, r in report["results"].items() for t in r["targets"]]
    print(f"\n== summary ({report['wall_s']} s, load average before {info['load_avg_1_5_15'][0]}, "
          f"after {report['load_avg_after'][0]}) ==")
    for name, t in targets:
        print(f"[{'PASS' if t['ok'] else 'MISS'}] {name}: {t['what']}: {t['measured']:.2f}{t['unit']} "
              f"(target {t['threshold']:g}{t['unit']})")
    for name, r in report["results"].items():
        if r["background_cores"] > BACKGROUND_WARN:
            print(f"[WARN] {name}: background load {r['background_cores']:.2f} cores; timings unreliable")
    for name, err in report["errors"].items():
        print(f"[ERROR] {name}: {err}")
    print(f"results: {out}")
    if report["errors"]:
        return 2
    return 1 if args.strict and not all(t["ok"] for _, t in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
