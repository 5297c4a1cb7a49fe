"""``egosonics evaluate``: generated audio scored against ground truth, beside baselines and reference rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from egosonics.errors import EgoSonicsError
from egosonics.options import SEED, whole

SHORT_SIDE = whole(16, 4096)


def run(args: argparse.Namespace) -> int:
    from egosonics.evaluation.evaluate import PROTOCOLS, WeightBasedConfig, evaluate
    from egosonics.evaluation.report import markdown_table
    from egosonics.evaluation.sync.pooled import markdown as pooled_markdown

    baselines, protocols = {}, {}
    for spec in args.baseline or []:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise EgoSonicsError(f"--baseline {spec!r}: expected NAME=FOLDER, e.g. diff-foley=outputs/difffoley")
        baselines[name] = folder
        if name.lower() in PROTOCOLS:
            protocols[name] = PROTOCOLS[name.lower()]
    weights = WeightBasedConfig(alignment_model=args.alignment_model, inception=args.inception_weights,
                                melception=args.melception_weights, melception_stats=args.melception_stats,
                                clip_dir=args.clip_dir)
    report = evaluate(args.pred, args.gt, args.out, baselines=baselines, protocols=protocols, events=args.events,
                      references=tuple(args.references.split(",")) if args.references else (),
                      short_side=args.short_side, seed=args.seed, weights=weights)
    print(markdown_table(report["table"]))
    print("\n" + pooled_markdown(report["pooled_sync"], per_clip=False))
    if report["failed"]:
        print(f"egosonics: {len(report['failed'])} clip(s) could not be evaluated:", file=sys.stderr)
        for clip, reason in report["failed"]:
            print(f"  {clip}: {reason}", file=sys.stderr)
    print(f"wrote {Path(args.out) / 'report.html'} and report.json")
    return 1 if report["failed"] else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="score generated audio against ground truth, beside baselines and reference rows",
        description="Pair the files of --pred and --gt by name and compute every weight-free metric (Frechet "
                    "distance and KID of log-mel statistics, paired spectral metrics, AV-Align, onset accuracy, AP "
                    "and F1, cross-correlation offset and its course over time; onset F1 pooled over clips, the best "
                    "lag of the onset envelopes and paired bootstrap intervals against another clip's audio, with a "
                    "per-clip table). Ground truth is cut and resampled "
                    "to each system's protocol (baseline names diff-foley, im2wav, make-an-audio get theirs). "
                    "Weight-based metrics run only when their local files are given: the Alignment Score, FID of "
                    "spectrogram images (Inception-v3), SpecVQGAN's Melception protocol; nothing is downloaded. "
                    "Writes OUT/report.json, report.md and report.html.")
    p.add_argument("--pred", required=True, help="folder of generated clips (ours): NAME.mp4 or NAME.wav")
    p.add_argument("--gt", required=True, help="folder of ground-truth videos with their audio: NAME.mp4")
    p.add_argument("--baseline", action="append", metavar="NAME=FOLDER", help="another system's outputs (repeatable)")
    p.add_argument("--events", help="folder of timeline JSON files (NAME.json, as 'egosonics synth' writes): "
                                    "onsets are also scored against the true event times")
    p.add_argument("--references", default="ground-truth,vocoder-ceiling",
                   help="reference rows, from ground-truth, vocoder-ceiling, silence, noise, other-clip (the chance "
                        "row of the pooled bootstrap), shifted-0.5s, click-stops (a click at each sudden stop of "
                        "motion) (default: ground-truth,vocoder-ceiling)")
    p.add_argument("--short-side", type=SHORT_SIDE, default=224,
                   help=f"video resolution for optical flow, {SHORT_SIDE.describe()} pixels (default: 224)")
    p.add_argument("--seed", type=SEED, default=0,
                   help="seed of the noise row, the vocoder and the pooled bootstrap (default: 0)")
    p.add_argument("--alignment-model", metavar="FOLDER",
                   help="Alignment Score at 30, 15 and 4 fps with this classifier (the model/ folder of 'egosonics "
                        "train alignment')")
    p.add_argument("--clip-dir", help="local CLIP ViT-B/32 folder, when the classifier's E_V came from it and its "
                                      "recorded folder moved")
    p.add_argument("--inception-weights", metavar="FILE",
                   help="spectrogram FID with pytorch-fid's Inception weights (pt_inception-2015-12-05-6726825d.pth, "
                        "a local file; never downloaded)")
    p.add_argument("--melception-weights", metavar="FILE",
                   help="SpecVQGAN's Melception FID/KID/KL/ISc: melception-21-05-10T09-28-40.pt (needs "
                        "--melception-stats)")
    p.add_argument("--melception-stats", metavar="FILE",
                   help="SpecVQGAN's train_means_stds_melspec_10s_22050hz.txt (80 rows: mean std)")
    p.add_argument("-o", "--out", required=True, help="report folder")
    p.set_defaults(func=run)
