"""Measure the default model the way its issue asks, and write the model card's metrics table.

    .venv/bin/python scripts/model_card.py [--model FOLDER] [--n 100] [--out outputs/default_model/eval]

1. Synthesize held-out scenes (seed 2, never used in training) and single-event clips (seeds 3 and 4).
2. Generate their audio with the model (``egosonics generate``'s library function, the model loaded once).
3. ``egosonics evaluate`` against ground truth and the true event times, with every reference row, and a row where
   each clip gets the audio generated for another clip (E_V from a different clip).
4. Sound fits the event: a nearest-centroid classifier on log-mel statistics, fitted on ground-truth single-event
   clips (seed 4), classifies the generated audio of other single-event clips (seed 3).
5. The same table on the real clips of ../shared/data/real_clips (when present).
Writes OUT/model_card_metrics.md and OUT/model_card_metrics.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from egosonics.evaluation.embeddings import logmel_stats
from egosonics.evaluation.evaluate import evaluate
from egosonics.evaluation.report import markdown_table
from egosonics.generate import GenerateOptions, generate_files
from egosonics.loading import load_pipeline
from egosonics.media.audio import read_audio
from egosonics.synth.dataset import synthesize
from egosonics.synth.settings import settings_for

REPO = Path(__file__).resolve().parents[1]
REAL_CLIPS = REPO.parent / "shared" / "data" / "real_clips"


def generate_folder(pipe, src: Path, dst: Path, options: GenerateOptions) -> None:
    videos = sorted(src.glob("*.mp4"))
    dst.mkdir(parents=True, exist_ok=True)
    todo = [v for v in videos if not (dst / f"{v.stem}.egosonics.mp4").exists()]
    if todo:
        report = generate_files(pipe, todo, dst, options)
        if report.failed:
            raise SystemExit(f"generation failed: {report.failed}")


def classify(pipe, out: Path, options: GenerateOptions, n: int) -> dict:
    fit_dir, test_dir = out / "single_fit", out / "single_test"
    if not (fit_dir / "manifest.jsonl").exists():
        synthesize(fit_dir, n=n, seed=4, settings=settings_for("easy", mode="single"))
    if not (test_dir / "manifest.jsonl").exists():
        synthesize(test_dir, n=n, seed=3, settings=settings_for("easy", mode="single"))
    generate_folder(pipe, test_dir, out / "single_pred", options)

    def label(json_path: Path) -> str:
        events = json.loads(json_path.read_text())["events"]
        return events[0]["class"] if events else "none"

    fit = [(label(p), logmel_stats(read_audio(p.with_suffix(".wav")))) for p in sorted(fit_dir.glob("*-*.json"))
           if p.name.startswith(("single", "scene"))]
    classes = sorted({c for c, _ in fit})
    centroids = {c: np.mean([e for k, e in fit if k == c], axis=0) for c in classes}
    scale = np.std([e for _, e in fit], axis=0) + 1e-6

    def predict(embedding: np.ndarray) -> str:
        return min(classes, key=lambda c: float(np.sum(((embedding - centroids[c]) / scale) ** 2)))

    truth, generated, gt_pred = [], [], []
    for p in sorted(test_dir.glob("*-*.json")):
        if not p.name.startswith(("single", "scene")):
            continue
        wav = out / "single_pred" / f"{p.stem}.egosonics.mp4"
        truth.append(label(p))
        generated.append(predict(logmel_stats(read_audio(wav))))
        gt_pred.append(predict(logmel_stats(read_audio(p.with_suffix(".wav")))))
    acc = float(np.mean([a == b for a, b in zip(truth, generated, strict=True)]))
    gt_acc = float(np.mean([a == b for a, b in zip(truth, gt_pred, strict=True)]))
    return {"n": len(truth), "generated_accuracy": acc, "ground_truth_accuracy": gt_acc, "classes": classes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model folder (default: the installed default model)")
    parser.add_argument("--n", type=int, default=100, help="held-out scenes (default: 100)")
    parser.add_argument("--n-single", type=int, default=60, help="single-event clips per set (default: 60)")
    parser.add_argument("--out", default="outputs/default_model/eval")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance", type=float, default=3.0)
    args = parser.parse_args()
    out = Path(args.out)
    started = time.perf_counter()
    pipe = load_pipeline(args.model)
    options = GenerateOptions(steps=args.steps, guidance=args.guidance, seed=0)
    # 1-2. Held-out scenes and their generated audio.
    gt = out / "scenes"
    if not (gt / "manifest.jsonl").exists():
        synthesize(gt, n=args.n, seed=2, settings=settings_for("easy"))
    generate_folder(pipe, gt, out / "pred", options)
    generation_s = time.perf_counter() - started
    # 3. E_V from a different clip: clip i is scored with the audio generated for clip i+1.
    swapped = out / "pred_other_ev"
    swapped.mkdir(exist_ok=True)
    preds = sorted((out / "pred").glob("*.egosonics.mp4"))
    for i, p in enumerate(preds):
        target = swapped / p.name
        if not target.exists():
            shutil.copy(preds[(i + 1) % len(preds)], target)
    report = evaluate(out / "pred", gt, out / "report", baselines={"other-clip E_V": str(swapped)}, events=gt,
                      references=("ground-truth", "vocoder-ceiling", "silence", "noise", "other-clip",
                                  "shifted-0.5s"), short_side=None)
    # 4. Classification.
    classes = classify(pipe, out, options, args.n_single)
    result = {"table": report["table"], "classification": classes, "n_scenes": args.n,
              "generation_s": round(generation_s, 1), "total_s": round(time.perf_counter() - started, 1)}
    # 5. Real clips.
    if REAL_CLIPS.is_dir():
        generate_folder(pipe, REAL_CLIPS, out / "real_pred", options)
        real = evaluate(out / "real_pred", REAL_CLIPS, out / "real_report",
                        references=("ground-truth", "vocoder-ceiling", "other-clip", "shifted-0.5s"))
        result["real_table"] = real["table"]
    (out / "model_card_metrics.json").write_text(json.dumps(result, indent=1))
    lines = [f"Held-out synthesized scenes (seed 2, n = {args.n}):", "", markdown_table(report["table"]), "",
             f"Nearest-centroid class of generated single-event audio: {classes['generated_accuracy']:.2f} "
             f"(ground truth itself: {classes['ground_truth_accuracy']:.2f}; n = {classes['n']})"]
    if "real_table" in result:
        lines += ["", "Real clips (../shared/data/real_clips, never seen in training):", "",
                  markdown_table(result["real_table"])]
    (out / "model_card_metrics.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
