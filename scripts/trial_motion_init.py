"""The motion trial's starting model: a ``tiny`` model with its frame encoder swapped for ``motion``.

    .venv/bin/python scripts/trial_motion_init.py OUT_FOLDER [--from FOLDER]

The base UNet, the super-resolution CNN and the scheduler do not depend on the frame encoder and are kept as they
are; Syncronet and the video-to-text MLP keep their weights too (same 512-d E_V contract), but what their input means
changes, so the trial fine-tunes both on E_V of ``egosonics prepare --encoder motion``. The folder's preset becomes
``tiny-motion``. The source folder itself is only read. The trials started from the default model shipped before
2026-12-01 (``tiny``); scripts/train_motion_trial.sh takes it from the repository's history and passes it with
``--from`` (the one shipped since is ``tiny-power``, refused here).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="model folder to write")
    parser.add_argument("--from", dest="source", help="model folder to start from (default: the shipped default)")
    args = parser.parse_args()

    from egosonics.loading import load_pipeline
    from egosonics.models.frame_encoder import build_frame_encoder

    pipe = load_pipeline(args.source)
    if pipe.config.preset != "tiny":
        raise SystemExit(f"{args.source or 'default model'}: preset {pipe.config.preset!r}, expected 'tiny' (the model "
                         "shipped before 2026-12-01: scripts/train_motion_trial.sh extracts it from git history)")
    encoder = build_frame_encoder("motion")
    if encoder.embedding_dim != pipe.syncronet.config.video_dim:
        raise SystemExit(f"motion E_V is {encoder.embedding_dim}-d, "
                         f"Syncronet expects {pipe.syncronet.config.video_dim}")
    pipe.frame_encoder = encoder
    pipe.register_to_config(preset="tiny-motion")
    pipe.save_pretrained(Path(args.out))
    print(f"wrote {args.out} (tiny-motion: shipped UNet, Syncronet, super-resolution and MLP; motion encoder)")


if __name__ == "__main__":
    main()
