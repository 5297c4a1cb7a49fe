"""Train the onset head of a ``motion-onset`` model on real clips with their recorded sound, and write the model.

    .venv/bin/python scripts/train_onset_head.py --model FOLDER --out FOLDER [--holdout-sources A,B,...]
        [--synth FOLDER ... [--synth-only] [--scene-onsets {audio,events}]] [--real-weight N] [--epochs 60]
        [--seed 0] [--workers 2]
        [--track-gain G] [--track {picks,soft}] [--inputs {globals,all}]
    .venv/bin/python scripts/train_onset_head.py --model FOLDER --out FOLDER --head-from MODEL

1. Every clip of ../shared/data/real_clips and real_clips_more whose source repository (their SOURCES.md) is not in
   ``--holdout-sources``: the ``motion`` encoder's E_V of the whole clip (30 fps, 128 × 128 centre crop, as
   ``generate`` decodes) and the onsets of its recorded audio (``detect_onsets``, as the evaluation).
   ``--synth FOLDER`` (repeatable) adds the scenes of ``egosonics synth`` folders (the onsets of the sound in their
   videos, or with ``--scene-onsets events`` the onsets of their visible events, from each scene's timeline JSON:
   ``training.onset.with_scene_events``); ``--real-weight N`` then counts every real clip N times, so a few real
   clips are not drowned; ``--synth-only`` trains on the scenes alone (no footage: the weights carry no research terms).
2. ``training.onset.fit_onset_head``: the head learns which frames start a sound; its threshold is set so it predicts
   as many onsets as the training clips have.
3. The held-out clips (when given): pooled onset F1 (±50 ms, first 0.25 s left out) of the head's onsets, beside
   another held-out clip's recorded onsets (the chance row) and the click at motion stops.
4. ``--model``'s pipeline with its frame encoder replaced by the trained ``MotionOnsetEncoder`` (preset
   ``tiny-onset``), written to ``--out`` with ``onset_head.json`` (training clips, held-out sources, the numbers of
   step 3). Unless ``--synth-only``, the weights inherit the footage's terms: non-commercial research use (the
   clips' SOURCES.md).

``--head-from MODEL`` skips steps 1–3: the trained head of another ``tiny-onset`` model folder goes in front of
``--model``'s generator as it is (the same head before two generators), with that folder's ``onset_head.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from real_clips_eval import SETS  # the real clip folders (scripts/ is on the path of a script run from it)


def real_clips(holdout: set[str]) -> tuple[list[Path], list[Path], dict[str, str]]:
    """(training clips, held-out clips, clip stem → source) of both sets."""
    from egosonics.training.vocoder import read_sources_table

    train, held, source = [], [], {}
    for folder in SETS.values():
        if not folder.is_dir():
            raise SystemExit(f"{folder}: not found (the real clips live in ../shared/data)")
        table = read_sources_table(folder)
        for video in sorted(folder.glob("*.mp4")):
            source[video.stem] = table.get(video.name, {}).get("source", "")
            (held if source[video.stem] in holdout else train).append(video)
    unknown = holdout - set(source.values())
    if unknown:
        raise SystemExit(f"--holdout-sources: no clip comes from {sorted(unknown)}")
    return train, held, source


def clip_features(path: Path) -> tuple:
    """``training.onset.recorded_onset_clip`` in a worker process (one torch thread)."""
    import torch

    torch.set_num_threads(1)
    from egosonics.training.onset import recorded_onset_clip

    return recorded_onset_clip(path)  # at the clip spec's 30 fps, as generate decodes


def untrained_head(pipe, model: str, track_gain: float | None, track: str = "picks", inputs: str = "globals"):
    """A ``MotionOnsetEncoder`` with the motion settings of ``pipe``'s frame encoder (a motion or motion-onset model
    folder ``model``), ``track_gain`` (None: the model's own when it is already tiny-onset, else the encoder's
    default, 8), ``track`` (what the head writes into the track: its picks or the soft track) and ``inputs`` (what it
    reads: the 16 global features or every column)."""
    from egosonics.models.frame_encoder import MotionFrameEncoder, MotionOnsetEncoder

    motion = pipe.frame_encoder.motion if isinstance(pipe.frame_encoder, MotionOnsetEncoder) else pipe.frame_encoder
    if not isinstance(motion, MotionFrameEncoder):
        raise SystemExit(f"{model}: its frame encoder is not a motion encoder; train its generator on motion "
                         "E_V first (preset tiny-motion or tiny-onset)")
    settings = {k: motion.config[k] for k in ("input_size", "grid", "colour_grid", "flow_scale", "diff_scale")}
    if track_gain is not None:
        settings["track_gain"] = track_gain
    elif isinstance(pipe.frame_encoder, MotionOnsetEncoder):
        settings["track_gain"] = pipe.frame_encoder.config.track_gain  # what its generator was trained with
    return MotionOnsetEncoder(**settings, track=track, inputs=inputs)


def add_head_options(parser: argparse.ArgumentParser) -> None:
    """--track and --inputs: ``MotionOnsetEncoder``'s settings of the same names (``ONSET_TRACKS``,
    ``ONSET_HEAD_INPUTS``; spelled out here so that --help needs no torch, kept equal by a test)."""
    parser.add_argument("--track", choices=("picks", "soft"), default="picks",
                        help="what the head writes into the track for silent video: the track of its onsets "
                             "(default) or its probability as a soft track (MotionOnsetEncoder's docstring)")
    parser.add_argument("--inputs", choices=("globals", "all"), default="globals",
                        help="what the head reads: the 16 per-frame global features (default; they transfer to real "
                             "footage) or all 512 columns (they find synthesized scenes' contacts)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model folder to start from (its generator is kept)")
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--holdout-sources", default="", help="comma-separated source repositories never trained on")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="processes for decoding and flow (default: 2)")
    parser.add_argument("--synth", action="append", default=[], metavar="FOLDER",
                        help="also train on the scenes of this egosonics synth folder (repeatable)")
    parser.add_argument("--scene-onsets", choices=("audio", "events"), default="audio",
                        help="what the head learns as a scene's onsets: those found in its sound (default, as for "
                             "real clips) or its visible events' onsets from its timeline JSON, which have neither "
                             "the detector's latency nor off-screen sounds (docs/TRAINING.md, \"Longer training, "
                             "and a scene head that learns the events\")")
    parser.add_argument("--real-weight", type=int, default=1, help="each real clip counts this many times (default: 1)")
    parser.add_argument("--track-gain", type=float,
                        help="the track's value at an onset (default: the model's when it is already tiny-onset, "
                             "else 8, what the generator's training shards have; a larger value than in training "
                             "makes the generator follow the track more closely: docs/TRAINING.md)")
    add_head_options(parser)
    parser.add_argument("--synth-only", action="store_true",
                        help="train on the --synth scenes alone: no real clip is read, every one is held out")
    parser.add_argument("--head-from", metavar="MODEL",
                        help="take the trained head of this tiny-onset model folder instead of training one")
    args = parser.parse_args()
    if args.head_from:
        attach_head(args.model, args.head_from, Path(args.out))
        return
    if args.synth_only and not args.synth:
        raise SystemExit("--synth-only needs --synth FOLDER")
    if args.scene_onsets == "events" and not args.synth:
        raise SystemExit("--scene-onsets events needs --synth FOLDER")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    import torch

    from egosonics.loading import load_pipeline
    from egosonics.training.onset import fit_onset_head, pooled_onset_rows, with_scene_events

    torch.set_num_threads(1)
    holdout = {s.strip() for s in args.holdout_sources.split(",") if s.strip()}
    synth_paths = [v for folder in args.synth for v in sorted(Path(folder).glob("*.mp4"))]
    if args.real_weight < 1:
        raise SystemExit(f"--real-weight must be ≥ 1, got {args.real_weight}")
    if args.synth and not synth_paths:
        raise SystemExit(f"--synth {args.synth}: no .mp4 scenes found")
    if args.scene_onsets == "events":  # before the features, which take minutes
        missing = [p.with_suffix(".json") for p in synth_paths if not p.with_suffix(".json").is_file()]
        if missing:
            raise SystemExit(f"{missing[0]}: no timeline JSON beside the scene (--scene-onsets events reads the "
                             f"visible events from it; {len(missing)} scene(s) lack one)")
    train_paths, held_paths, source = real_clips(holdout)
    if args.synth_only:
        train_paths, held_paths = [], train_paths + held_paths
    everything = train_paths + held_paths + synth_paths
    with ProcessPoolExecutor(args.workers) as pool:
        features = dict(zip(everything, pool.map(clip_features, everything, chunksize=4), strict=True))

    if args.scene_onsets == "events":
        for p in synth_paths:
            features[p] = (with_scene_events(features[p][0], p.with_suffix(".json")), features[p][1])

    pipe = load_pipeline(args.model)
    encoder = untrained_head(pipe, args.model, args.track_gain, args.track, args.inputs)
    training = [features[p][0] for p in train_paths] * args.real_weight + [features[p][0] for p in synth_paths]
    summary = fit_onset_head(encoder, training, epochs=args.epochs, seed=args.seed)
    result = {"training_clips": [{"clip": p.stem, "source": source[p.stem]} for p in train_paths],
              "synth": {"folders": args.synth, "scenes": len(synth_paths), "onsets": args.scene_onsets},
              "real_weight": args.real_weight,
              "holdout_sources": sorted(holdout), "heldout_clips": [p.stem for p in held_paths], "fit": summary,
              "terms": ("synthesized scenes only: no footage's terms" if args.synth_only else
                        "non-commercial research use (the real clips' footage; their SOURCES.md)")}
    if held_paths:
        result["heldout"] = pooled_onset_rows([encoder] * len(held_paths), [features[p][0] for p in held_paths],
                                              [features[p][1] for p in held_paths])
        for name, r in result["heldout"].items():
            print(f"held out, {name}: pooled F1 {r['f1']:.3f} (hits {r['hits']} / est. {r['n_estimated']} / "
                  f"ref. {r['n_reference']})")

    write_model(pipe, encoder, Path(args.out), result)


def write_model(pipe, encoder, out: Path, record: dict) -> None:
    """``pipe`` with ``encoder`` as its frame encoder (preset tiny-onset, or tiny-onset-power on power rows) → ``out``,
    with ``record`` as its onset_head.json."""
    pipe.frame_encoder = encoder.eval()
    pipe.register_to_config(preset="tiny-onset-power" if pipe.config.preset.endswith("-power") else "tiny-onset")
    pipe.save_pretrained(out)
    (out / "onset_head.json").write_text(json.dumps(record, indent=1, default=float))
    print(f"wrote {out} (onset head: {record['fit']['clips']} clips, threshold {encoder.config.threshold:.2f})")


def attach_head(model: str, head_from: str, out: Path) -> None:
    """The trained head of the tiny-onset folder ``head_from`` in front of ``model``'s generator, written to ``out``."""
    from egosonics.loading import load_pipeline
    from egosonics.models.frame_encoder import MotionOnsetEncoder

    source = load_pipeline(head_from)
    record_path = Path(head_from) / "onset_head.json"
    if not isinstance(source.frame_encoder, MotionOnsetEncoder) or not record_path.is_file():
        raise SystemExit(f"{head_from}: not a tiny-onset model with the onset_head.json train_onset_head.py writes")
    pipe = load_pipeline(model)
    fresh = untrained_head(pipe, model, None)  # refuses a generator that was not trained on motion E_V
    keys = ("input_size", "grid", "colour_grid", "flow_scale", "diff_scale")
    if any(fresh.config[k] != source.frame_encoder.config[k] for k in keys):
        raise SystemExit(f"{head_from}: its motion settings differ from {model}'s; the head would read another E_V")
    write_model(pipe, source.frame_encoder, out, {**json.loads(record_path.read_text()), "head_from": head_from})


if __name__ == "__main__":
    main()
