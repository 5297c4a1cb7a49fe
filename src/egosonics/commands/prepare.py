"""``egosonics prepare``: long videos cut into 10 s training clips (WebDataset shards + manifest)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from egosonics.options import SEED, WORKERS, real, whole

MAX_WINDOWS = whole(1)
RMS_THRESHOLD = real(-200, 0, unit="dBFS")
RMS_PERCENTILE = real(0, 100)
VIDEOS_PER_SHARD = whole(1, 100_000)


def run(args: argparse.Namespace) -> int:
    from egosonics.preprocess.prepare import PrepareConfig, format_summary, prepare

    scenarios = None
    if args.scenarios is not None:
        scenarios = [s.strip().lower() for s in args.scenarios.split(",") if s.strip()]
    elif args.metadata:
        from egosonics.preprocess.metadata import DEFAULT_SCENARIOS

        scenarios = list(DEFAULT_SCENARIOS)
    config = PrepareConfig(src=str(Path(args.src).resolve()), out=str(Path(args.out).resolve()), seed=args.seed,
                           max_windows_per_video=args.max_windows, rms_threshold_dbfs=args.rms_threshold,
                           rms_percentile=args.rms_percentile, encoder=args.encoder, clip_dir=args.clip_dir,
                           videos_per_shard=args.videos_per_shard, metadata=args.metadata,
                           narrations=args.narrations, scenarios=scenarios,
                           exclude=[g.strip() for g in args.exclude.split(",") if g.strip()])
    summary = prepare(config, workers=args.workers)
    if int(os.environ.get("RANK", "0")) == 0:
        print(format_summary(summary))
        print(f"manifest: {Path(args.out) / 'manifest.jsonl'}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prepare", help="cut long videos into 10 s training clips (WebDataset shards + manifest)",
        description="Walk SRC for videos (any container/codec), pick seeded random non-overlapping 10 s windows, "
                    "keep those whose audio RMS passes the threshold, and write WebDataset shards to OUT/shards "
                    "(normalised spectrogram float32 [1024, 430], E_V float16 [300, 512], metadata JSON) with "
                    "OUT/manifest.jsonl listing every window kept or rejected and why. Resumable: rerun the same "
                    "command after a crash and only the missing work is done. Under 'accelerate launch' each rank "
                    "takes its share of shards.")
    p.add_argument("src", help="folder of videos (searched recursively)")
    p.add_argument("out", help="output folder")
    p.add_argument("--seed", type=SEED, default=0, help="window placement seed (default: 0)")
    p.add_argument("--max-windows", type=MAX_WINDOWS, default=None, help="at most this many windows per video")
    level = p.add_mutually_exclusive_group()
    level.add_argument("--rms-threshold", type=RMS_THRESHOLD, default=None,
                       help=f"keep windows above this RMS, {RMS_THRESHOLD.describe()}")
    level.add_argument("--rms-percentile", type=RMS_PERCENTILE, default=None,
                       help="keep windows above this percentile of all windows' RMS (0-100)")
    p.add_argument("--encoder", default="pixels", choices=["pixels", "motion", "motion-onset", "clip-vit-b32"],
                   help="frame encoder for E_V: pixels (the tiny preset's), motion (optical flow, the tiny-motion "
                        "preset's), motion-onset (motion with each window's own audio onsets as a track, to train a "
                        "tiny-onset generator) or clip-vit-b32 (default: pixels)")
    p.add_argument("--clip-dir", help="local CLIP ViT-B/32 folder (for --encoder clip-vit-b32)")
    p.add_argument("--videos-per-shard", type=VIDEOS_PER_SHARD, default=16,
                   help="source videos per shard (default: 16)")
    p.add_argument("--workers", type=WORKERS, default=1, help="worker processes on this machine (default: 1)")
    p.add_argument("--metadata", help="Ego4D-style ego4d.json (scenarios per video_uid = file name stem)")
    p.add_argument("--narrations", help="Ego4D-style narration.json (narrations attached to each window)")
    p.add_argument("--scenarios", help="comma-separated scenario words to keep (default with --metadata: "
                                       "cooking,carpentry,laundry,cleaning,working,farmer,mechanic,yardwork,blacksmith)")
    p.add_argument("--exclude", default="*.json,*.jsonl",
                   help="comma-separated file-name patterns to skip (default: *.json,*.jsonl: sidecar metadata; a "
                        "NAME.json beside NAME.mp4 with a 'narration' field is attached to its windows)")
    p.set_defaults(func=run)
