"""Does the onset head transfer to footage of sources it never saw? Leave-one-source-out over the real clips.

    .venv/bin/python scripts/onset_head_cv.py [--synth FOLDER] [--synth-only] [--epochs 60] [--seed 0]
        [--out FILE.json]

For every source repository of ../shared/data/real_clips and real_clips_more (their SOURCES.md): train the head
(``training.onset.fit_onset_head``) on the clips of all other sources, predict the onsets of that source's clips; then
pooled onset F1 over all clips (``training.onset.pooled_onset_rows``: ±50 ms, first 0.25 s left out) beside another
clip's recorded onsets (chance) and the click at motion stops. ``--synth FOLDER`` adds the scenes of an
``egosonics synth`` folder (the onsets of the sound in their videos) to every fold's training clips; ``--synth-only``
trains once on those scenes alone. Decoding and flow run in 2 processes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from real_clips_eval import SETS  # the real clip folders (scripts/ is on the path of a script run from it)
from train_onset_head import clip_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synth", help="a folder of synthesized scenes to add to the training clips")
    parser.add_argument("--synth-only", action="store_true", help="train on the synthesized scenes alone")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="JSON file for the numbers")
    args = parser.parse_args()
    if args.synth_only and not args.synth:
        raise SystemExit("--synth-only needs --synth FOLDER")
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    import torch

    from egosonics.models.frame_encoder import MotionOnsetEncoder
    from egosonics.training.onset import fit_onset_head, pooled_onset_rows
    from egosonics.training.vocoder import read_sources_table

    torch.set_num_threads(1)
    videos = [v for folder in SETS.values() for v in sorted(folder.glob("*.mp4"))]
    source = {v: read_sources_table(v.parent).get(v.name, {}).get("source", "") for v in videos}
    synth = sorted(Path(args.synth).glob("*.mp4")) if args.synth else []
    with ProcessPoolExecutor(2) as pool:
        data = dict(zip(videos + synth, pool.map(clip_features, videos + synth, chunksize=4), strict=True))
    synth_clips = [data[v][0] for v in synth]
    heads: dict[Path, MotionOnsetEncoder] = {}
    if args.synth_only:
        encoder = MotionOnsetEncoder()
        fit_onset_head(encoder, synth_clips, epochs=args.epochs, seed=args.seed)
        heads = dict.fromkeys(videos, encoder)
    else:
        for held in sorted(set(source.values())):
            encoder = MotionOnsetEncoder()
            train = [data[v][0] for v in videos if source[v] != held] + synth_clips
            fit_onset_head(encoder, train, epochs=args.epochs, seed=args.seed)
            heads.update({v: encoder for v in videos if source[v] == held})
            print(f"fold {held}: {sum(source[v] == held for v in videos)} clips held out", flush=True)
    # each clip scored with the head that never saw its source
    result = pooled_onset_rows([heads[v] for v in videos], [data[v][0] for v in videos], [data[v][1] for v in videos])
    for name, r in result.items():
        print(f"{name}: pooled F1 {r['f1']:.3f} (hits {r['hits']} / est. {r['n_estimated']} / ref. {r['n_reference']})")
    if args.out:
        Path(args.out).write_text(json.dumps({"synth": args.synth, "synth_only": args.synth_only,
                                              "epochs": args.epochs, "seed": args.seed, "rows": result}, indent=1))


if __name__ == "__main__":
    main()
