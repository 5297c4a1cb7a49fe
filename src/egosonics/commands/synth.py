"""``egosonics synth``: synthetic first-person clips whose sound events are known exactly."""

from __future__ import annotations

import argparse

from egosonics.errors import EgoSonicsError
from egosonics.options import SEED, WORKERS, whole
from egosonics.synth.settings import DURATION, EVENTS, FRAME_SIDE, MOTION, NOISE_DBFS, SILENT_OR_OFFSCREEN

CLIPS = whole(1, 1_000_000)
FRAME_SIZE_HELP = f"N (square) or HxW, each even and {FRAME_SIDE.describe()}"


def frame_size(text: str) -> tuple[int, int]:
    """argparse ``type=`` of ``--size``: (height, width)."""
    height, _, width = text.lower().partition("x")
    try:
        size = (int(height), int(width or height))
    except ValueError:
        size = (0, 0)
    if not all(FRAME_SIDE.contains(side) and side % 2 == 0 for side in size):
        raise argparse.ArgumentTypeError(f"must be {FRAME_SIZE_HELP}, got {text!r}")
    return size


def run(args: argparse.Namespace) -> int:
    from egosonics.clip_spec import ClipSpec
    from egosonics.synth.dataset import synthesize
    from egosonics.synth.settings import settings_for

    try:
        classes = tuple(c.strip() for c in args.classes.split(",") if c.strip()) if args.classes else None
        settings = settings_for(args.difficulty, clip=ClipSpec(duration_s=args.duration), height=args.size[0],
                                width=args.size[1], mode=args.mode, classes=classes, min_events=args.min_events,
                                max_events=args.max_events, head_motion=args.head_motion, camera_shake=args.shake,
                                distractors=args.distractors, offscreen=args.offscreen, noise_dbfs=args.noise_db,
                                sfx_dir=args.sfx_dir)
        report = synthesize(args.out, n=args.n, seed=args.seed, settings=settings, workers=args.workers)
    except ValueError as exc:
        raise EgoSonicsError(f"synth: {exc}") from None
    print(f"wrote {len(report.records)} clips to {args.out} ({report.clips_per_second:.2f} clips/s); "
          f"manifest: {report.manifest}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth", help="write synthetic first-person clips whose sound events are known exactly",
        description="Render N first-person workbench scenes (22,050 Hz audio) with sound events of six classes "
                    "(impact on wood/metal/glass, saw, chop, machine, pour, footsteps; realistic adds place, door, "
                    "water, roll), each sound starting at its visual contact (easy: on a frame boundary at 30 fps; "
                    "realistic: at the exact contact time, 24-60 fps). Writes OUT/NAME.mp4 (H.264 + AAC), NAME.wav "
                    "(the exact audio), NAME.json "
                    "(timeline: onset, offset, class, material, position; a one-line narration) and "
                    "OUT/manifest.jsonl. The same seed gives the same clips.")
    p.add_argument("out", help="output folder (created if missing)")
    p.add_argument("--n", type=CLIPS, default=10, help="number of clips; pairs in --mode pair (default: 10)")
    p.add_argument("--seed", type=SEED, default=0, help="seed; clip i of seed S is always the same (default: 0)")
    p.add_argument("--mode", default="scene", choices=["scene", "single", "pair"],
                   help="scene: mixed actions; single: one class per clip (classes in turn); pair: the same "
                        "motion striking wood, then metal (default: scene)")
    p.add_argument("--classes", help="comma-separated classes allowed (default: all of the difficulty's: six; "
                                     "realistic: ten)")
    p.add_argument("--duration", type=DURATION, default=10.0,
                   help=f"clip length, {DURATION.describe()} (default: 10)")
    p.add_argument("--size", type=frame_size, default=(128, 128),
                   help=f"frame size: {FRAME_SIZE_HELP}, e.g. 120x160 (default: 128)")
    p.add_argument("--min-events", type=EVENTS, default=None, help="fewest visible events per clip (default: 3)")
    p.add_argument("--max-events", type=EVENTS, default=None, help="most visible events per clip (default: 12)")
    p.add_argument("--difficulty", default="realistic", choices=["easy", "medium", "hard", "realistic"],
                   help="realistic: physical motion (contacts decelerate and stop, no pixel jumps), textures, hands, "
                        "blur, shake, light changes, noise, H.264 at drawn bitrates, 24-60 fps, drawn frame sizes "
                        "around --size, 10 classes (place, door, water, roll added; door, water, roll and some floors "
                        "are CC0 / CC BY recordings from --sfx-dir), exact sub-frame onsets; easy / medium / hard: "
                        "the original cue-style scenes at 30 fps, the knobs below preset (default: realistic)")
    p.add_argument("--sfx-dir", help="realistic: folder of sound recordings with a SOURCES.md (only CC0 / CC BY "
                                     "files are used; default: ../shared/data/sfx when present)")
    p.add_argument("--shake", type=MOTION, default=None,
                   help=f"camera shake, RMS pixels at 128 px, {MOTION.describe()} (easy: 0, realistic: 0.8)")
    p.add_argument("--head-motion", type=MOTION, default=None,
                   help=f"scale of head sway and bob, {MOTION.describe()} (easy: 1)")
    p.add_argument("--distractors", type=SILENT_OR_OFFSCREEN, default=None,
                   help="silent motions per clip (easy: 0, realistic: 2)")
    p.add_argument("--offscreen", type=SILENT_OR_OFFSCREEN, default=None,
                   help="off-screen sounds per clip (easy: 0, realistic: 1)")
    p.add_argument("--noise-db", type=NOISE_DBFS, default=None,
                   help=f"background noise RMS, {NOISE_DBFS.describe()} (easy: -60, realistic: -48)")
    p.add_argument("--workers", type=WORKERS, default=1, help="processes rendering in parallel (default: 1)")
    p.set_defaults(func=run)
