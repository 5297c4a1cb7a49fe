"""Sync of a model on synthesized scenes against their true event times, with its own and another clip's E_V.

    .venv/bin/python scripts/trial_synth_eval.py SCENES OUT [--model FOLDER] [--threads 1]

SCENES is a folder written by ``egosonics synth`` (NAME.mp4 + NAME.json timelines). 1. Generate every scene's audio
with ``egosonics generate``'s defaults (20 DDIM steps, guidance 3, seed 0; outputs already there are kept). 2. A
second row where clip i is scored with the audio generated for clip i+1 (E_V of another clip, as scripts/model_card.py
does). 3. ``egosonics evaluate`` against the recorded audio and the true event times (OUT/report); the summary rows
are printed and written to OUT/synth_eval.json. The model folder is recorded with the sha256 of its files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from pathlib import Path


def folder_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".json", ".safetensors")):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenes", help="folder of synthesized scenes (egosonics synth)")
    parser.add_argument("out", help="output folder")
    parser.add_argument("--model", help="model folder (default: the shipped default model)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import torch

    from egosonics.evaluation.evaluate import evaluate
    from egosonics.generate import GenerateOptions, generate_files, output_paths
    from egosonics.loading import DEFAULT_MODEL_DIR, load_pipeline

    scenes, out = Path(args.scenes), Path(args.out)
    model = Path(args.model) if args.model else DEFAULT_MODEL_DIR
    torch.set_num_threads(args.threads)
    # 1. Generate.
    targets = output_paths(sorted(scenes.glob("*.mp4")), out / "pred")
    todo = [v for v, t in targets.items() if not t.exists()]
    if todo:
        report = generate_files(load_pipeline(model), todo, out / "pred", GenerateOptions())
        if report.failed:
            raise SystemExit(f"generation failed: {report.failed}")
    # 2. Another clip's E_V: clip i gets the audio generated for clip i+1.
    swapped = out / "pred_other_ev"
    swapped.mkdir(parents=True, exist_ok=True)
    preds = sorted(targets.values())
    for i, p in enumerate(preds):
        if not (swapped / p.name).exists():
            shutil.copy(preds[(i + 1) % len(preds)], swapped / p.name)
    # 3. Evaluate.
    report = evaluate(out / "pred", scenes, out / "report", baselines={"other-clip E_V": str(swapped)}, events=scenes,
                      references=("ground-truth", "other-clip"), short_side=None)
    rows = {r["system"]: {k: r[k] for k in ("n", "onset F1 (events)", "hit acc (events)", "onset F1 (vs GT)",
                                            "hit acc (vs GT)")} for r in report["table"]}
    result = {"model": str(model), "model_sha256": folder_sha256(model), "scenes": str(scenes), "rows": rows,
              "failed": report["failed"]}
    (out / "synth_eval.json").write_text(json.dumps(result, indent=1, default=float))
    print(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
