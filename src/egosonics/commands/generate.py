"""``egosonics generate``: videos in, the same videos with a generated soundtrack out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from egosonics.errors import EgoSonicsError
from egosonics.options import (
    BATCH_SIZE,
    DEFAULTS,
    WINDOW_OVERLAP,
    add_model_options,
    add_sampling_options,
    generate_options,
    load_model,
)


def run(args: argparse.Namespace) -> int:
    from egosonics.generate import collect_inputs, generate_files

    options = generate_options(args, batch_size=args.batch_size, overlap_s=args.overlap, write_wav=args.wav,
                               write_png=args.png)
    inputs = collect_inputs(args.inputs)
    if not inputs:
        raise EgoSonicsError(f"no video files found in {', '.join(args.inputs)}")
    pipe = load_model(args)
    report = generate_files(pipe, inputs, Path(args.output), options)
    for path in report.written:
        print(f"wrote {path}")
    if report.failed:
        print(f"egosonics: {len(report.failed)} of {len(inputs)} input(s) failed:", file=sys.stderr)
        for _, reason in report.failed:
            print(f"  {reason}", file=sys.stderr)
        return 1
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate", help="write videos with a generated, synchronized soundtrack",
        description="Generate audio for each INPUT video (files or folders of videos; any length and frame rate) "
                    "and write the video with the new audio track. The video stream is copied, not re-encoded. "
                    "Videos longer than 10 s are generated in overlapping 10 s windows joined by an equal-power "
                    "crossfade. Folders are searched recursively, skipping earlier outputs (NAME.egosonics.EXT) and "
                    "hidden files; the output folder mirrors the inputs' tree. An output that would replace an input, "
                    "or that two inputs would share, is refused before anything is generated. One bad file is "
                    "reported and the others go on; the exit status is 0 only if all succeeded.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files or folders of videos")
    p.add_argument("-o", "--output", required=True,
                   help="output video for a single input, else a folder: DIR/a/x.mp4 gets OUTPUT/a/x.egosonics.mp4 "
                        "(the tree below the folder all inputs share)")
    add_model_options(p)
    add_sampling_options(p)
    p.add_argument("--batch-size", type=BATCH_SIZE, default=DEFAULTS.batch_size,
                   help=f"10 s windows generated together (default: {DEFAULTS.batch_size})")
    p.add_argument("--overlap", type=WINDOW_OVERLAP, default=DEFAULTS.overlap_s,
                   help=f"seconds of overlap between windows, {WINDOW_OVERLAP.describe()} "
                        f"(default: {DEFAULTS.overlap_s:g})")
    p.add_argument("--wav", action="store_true", help="also write NAME.wav beside each output video")
    p.add_argument("--png", action="store_true", help="also write NAME.png, a figure of the generated spectrogram")
    p.set_defaults(func=run)
