"""``egosonics train``: train one learned part on prepared shards."""

from __future__ import annotations

import argparse
import os

from egosonics.options import SEED, whole

MAX_STEPS = whole(1)


def run(args: argparse.Namespace) -> int:
    from egosonics.training.config import load_config
    from egosonics.training.trainer import train

    overrides = {"component": args.component, "data": args.data, "output_dir": args.output_dir,
                 "init_model": args.init_model, "max_steps": args.max_steps, "seed": args.seed}
    config = load_config(args.config, overrides)
    final = train(config)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"wrote {final}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train one learned part (base, syncronet, superres, video-to-text, alignment, vocoder)",
        description="Train COMPONENT with the settings in --config (YAML; see configs/). Resumes from the latest "
                    "checkpoint in the output folder. For several GPUs or machines, start it with "
                    "'accelerate launch -m egosonics.cli train ...'. Writes checkpoints, metrics.csv, TensorBoard "
                    "logs, validation outputs and the final model folder OUTPUT/model. 'alignment' trains the "
                    "Alignment Score classifier (paper Sec. H) and writes its held-out accuracy. 'vocoder' trains the "
                    "learned vocoder on audio folders instead of shards (see docs/TRAINING.md); copy its OUTPUT/model "
                    "to MODEL/vocoder.")
    p.add_argument("component", choices=["base", "syncronet", "superres", "video-to-text", "alignment", "vocoder"])
    p.add_argument("--config", required=True, help="YAML config file")
    p.add_argument("--data", help="prepared shards (overrides the config)")
    p.add_argument("--output-dir", help="output folder (overrides the config)")
    p.add_argument("--init-model", help="model folder to start from (overrides the config)")
    p.add_argument("--max-steps", type=MAX_STEPS, help="training steps (overrides the config)")
    p.add_argument("--seed", type=SEED, help="seed (overrides the config)")
    p.set_defaults(func=run)
