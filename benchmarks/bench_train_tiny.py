"""Training throughput of the ``tiny`` preset on CPU: Syncronet and base (UNet) training, samples per second.

Inputs (generated here, ~20 s): 2 × 60 s 320 × 240 H.264 + 48 kHz stereo AAC files, prepared by
``egosonics.preprocess.prepare`` with the pixels encoder into WebDataset shards (every window kept: 12 samples), and a
random-weight tiny model folder (``EgoSonicsPipeline.from_preset("tiny").save_pretrained``) as the starting model.

Measured, each run in a fresh child process (both cores, torch's default threads), with
``egosonics.training.trainer.train(TrainConfig(...))``, batch 8, ``STEPS`` steps, metrics every 5 steps, no
validation, a checkpoint only at the end:
  * component ``syncronet`` from the base model folder (``init_model``; the UNet frozen, context "text");
  * component ``base`` (the tiny UNet itself) from the same folder.
samples/s: from ``metrics.csv`` (the trainer's own rate over each 5-step window: the first window includes the
first-iteration warm-up, the later ones are steady state), and overall = steps × batch / wall time of ``train()``
(with model building, data indexing, the final checkpoint and the saved model).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from common import child_reply, median, new_result, peak_rss_mb, run_child, time_call
from testmedia import write_av_file

NAME = "train_tiny"
TITLE = "tiny preset training on CPU, batch 8: Syncronet and base UNet, samples/s"

FILES = 2
DURATION_S = 60.0
BATCH = 8
STEPS = 20
LOG_EVERY = 5


def _child(component: str, data: str, base: str, out: str) -> dict[str, Any]:
    import torch

    from egosonics.training.config import TrainConfig
    from egosonics.training.trainer import train

    config = TrainConfig(component=component, data=data, output_dir=out, preset="tiny", init_model=base,
                         batch_size=BATCH, max_steps=STEPS, log_every=LOG_EVERY, checkpointing_steps=10 * STEPS,
                         validation_steps=None, seed=0)
    wall, _ = time_call(lambda: train(config))
    with open(Path(out) / "metrics.csv") as f:
        metrics = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
    return {"wall_s": wall, "metrics": metrics, "threads": torch.get_num_threads(), "peak_rss_mb": peak_rss_mb()}


def run(workdir: Path) -> dict[str, Any]:
    from egosonics.pipeline import EgoSonicsPipeline
    from egosonics.preprocess.prepare import PrepareConfig, prepare

    result = new_result(NAME, TITLE)
    src, data, base = workdir / "src", workdir / "data", workdir / "base-model"
    src.mkdir()
    gen_s, _ = time_call(lambda: [write_av_file(src / f"walk{i}.mp4", DURATION_S, seed=30 + i, quiet_every_s=1e9)
                                  for i in range(FILES)])
    prep_s, summary = time_call(lambda: prepare(PrepareConfig(src=str(src), out=str(data), encoder="pixels")))
    if summary["kept"] < BATCH:
        raise RuntimeError(f"prepare kept {summary['kept']} samples, fewer than a batch of {BATCH}")
    EgoSonicsPipeline.from_preset("tiny").save_pretrained(base)
    result["info"] = {"samples": summary["kept"], "batch": BATCH, "steps": STEPS, "log_every": LOG_EVERY,
                      "generate_s": round(gen_s, 1), "prepare_s": round(prep_s, 1)}
    rows = []
    for component in ("syncronet", "base"):
        child = run_child(__file__, [component, str(data), str(base), str(workdir / f"run-{component}")])
        rates = [m["samples_per_s"] for m in child["metrics"]]
        rows.append({"component": component, "threads": child["threads"],
                     "samples_per_s_steady": median(rates[1:]) if len(rates) > 1 else rates[0],
                     "samples_per_s_first_window": rates[0], "samples_per_s_windows": [round(r, 1) for r in rates],
                     "s_per_step_steady": BATCH / (median(rates[1:]) if len(rates) > 1 else rates[0]),
                     "train_wall_s": child["wall_s"], "samples_per_s_overall": STEPS * BATCH / child["wall_s"],
                     "final_loss": child["metrics"][-1]["loss"], "peak_rss_MB": child["peak_rss_mb"]})
    result["rows"] = rows
    result["notes"].append("steady = median of the metrics.csv windows after the first; overall includes building "
                           "the model, indexing the shards, the final checkpoint and save_pretrained")
    result["notes"].append("no issue target is recorded for training throughput")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4, metavar=("COMPONENT", "DATA", "BASE", "OUT"), required=True)
    args = parser.parse_args()
    child_reply(_child(*args.child))
    sys.exit(0)
