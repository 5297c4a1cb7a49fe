"""Split the real clips by source repository for the motion trial (docs/TRAINING.md, "Trial: motion encoder").

    .venv/bin/python scripts/trial_real_clips.py OUT [--holdout-sources A,B,...] [--min-length 30] [--short-side 224]

1. Read the source repository of every clip of ../shared/data/real_clips and real_clips_more (their SOURCES.md).
2. Clips whose source is in ``--holdout-sources`` are evaluation clips: never written anywhere, only listed.
3. Every other clip is written to OUT/real_train/NAME.mp4 for ``egosonics prepare``: decoded at 30 fps, scaled to
   ``--short-side`` (even sizes), and looped, video and audio together, until it lasts at least ``--min-length`` s
   (prepare needs 10 s windows; most clips are 2-10 s). The seams are cuts in both picture and sound, so sync holds.
4. OUT/real_split.json lists both parts with their sources. These copies are research footage (non-commercial terms):
   keep OUT outside the repository (outputs/ is ignored).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SETS = {"real_clips": REPO.parent / "shared" / "data" / "real_clips",
        "real_clips_more": REPO.parent / "shared" / "data" / "real_clips_more"}
# The vocoder's held-out sources (configs/vocoder/train_vocoder.yaml): 27 clips, all the egocentric ones among them.
HOLDOUT = ("open-mmlab/FoleyCrafter,jvoas655/avsync-ego4d.github.io,Donghyeok-Jo/Ego-OSS,"
           "frieren-v2a/frieren-v2a.github.io,OpenNLPLab/AVSBench,aashishrai3799/EgoSonics,facebookresearch/EgoBlur")
FPS = 30
SAMPLE_RATE = 22050


def clip_sources() -> dict[str, tuple[str, str, Path]]:
    """Clip stem → (set name, source repository, path)."""
    from egosonics.training.vocoder import read_sources_table

    clips = {}
    for set_name, folder in SETS.items():
        table = read_sources_table(folder)
        for video in sorted(folder.glob("*.mp4")):
            row = table.get(video.name)
            if row is None or not row["source"]:
                raise SystemExit(f"{folder / 'SOURCES.md'}: no source listed for {video.name}")
            clips[video.stem] = (set_name, row["source"], video)
    return clips


def loop_clip(src: Path, dst: Path, min_length_s: float, short_side: int) -> float:
    """Write ``src`` looped (picture and sound together) to at least ``min_length_s``; returns the new length."""
    from egosonics.media.audio import read_audio
    from egosonics.media.files import probe
    from egosonics.media.video import read_frames, video_duration_s, write_video

    duration = video_duration_s(src)
    info = probe(src)
    width, height = info.width, info.height
    scale = short_side / min(width, height)
    size = (max(2, round(height * scale / 2) * 2), max(2, round(width * scale / 2) * 2))
    n_frames = int(math.floor(duration * FPS))
    frames = read_frames(src, duration_s=n_frames / FPS, fps=FPS, size=size).frames  # [N, H, W, 3]
    audio = read_audio(src, sample_rate=SAMPLE_RATE, duration_s=n_frames / FPS)  # [n_frames / FPS * SAMPLE_RATE]
    loops = max(1, math.ceil(min_length_s / (n_frames / FPS)))
    write_video(dst, np.concatenate([frames] * loops), FPS, audio=np.tile(audio, loops), sample_rate=SAMPLE_RATE,
                options={"crf": "20", "preset": "veryfast"})
    return loops * n_frames / FPS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output folder (outside the repository's tracked files)")
    parser.add_argument("--holdout-sources", default=HOLDOUT, help="comma-separated source repositories kept out")
    parser.add_argument("--min-length", type=float, default=30.0, help="loop training clips to this length (s)")
    parser.add_argument("--short-side", type=int, default=224, help="training copies' short side (px)")
    args = parser.parse_args()

    out = Path(args.out)
    holdout = {s.strip() for s in args.holdout_sources.split(",") if s.strip()}
    clips = clip_sources()
    unknown = holdout - {source for _, source, _ in clips.values()}
    if unknown:
        raise SystemExit(f"--holdout-sources: no clip comes from {sorted(unknown)}")
    train_dir = out / "real_train"
    train_dir.mkdir(parents=True, exist_ok=True)
    split: dict[str, list[dict]] = {"train": [], "heldout": []}
    for stem, (set_name, source, path) in sorted(clips.items()):
        row = {"clip": stem, "set": set_name, "source": source}
        if source in holdout:
            split["heldout"].append(row)
            continue
        dst = train_dir / f"{stem}.mp4"
        if not dst.exists():
            row["looped_s"] = round(loop_clip(path, dst, args.min_length, args.short_side), 2)
        split["train"].append(row)
        print(f"{stem}: {source}", file=sys.stderr)
    split["holdout_sources"] = sorted(holdout)
    (out / "real_split.json").write_text(json.dumps(split, indent=1))
    print(f"train {len(split['train'])} clips, held out {len(split['heldout'])} clips "
          f"({len(holdout)} sources) -> {out / 'real_split.json'}")


if __name__ == "__main__":
    main()
