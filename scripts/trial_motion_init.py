"""The motion trial's starting model: a ``tiny`` model with its frame encoder swapped for ``motion``.

    .venv/bin/python scripts/trial_motion_init.py OUT_FOLDER [--from FOLDER]

The base UNet, the super-resolution CNN and the scheduler do not depend on the frame encoder and are kept as they
are; Syncronet and the video-to-text MLP keep their weights too (same 512-d E_V contract), but what their input means
changes, so the trial fine-tunes both on E_V of ``egosonics prepare --encoder motion``. The folder's preset becomes
``tiny-motion`` (``tiny-motion-power`` from a ``tiny-power`` model, whose power-pooled rows it keeps). The source
folder itself is only read. The motion trial and the onset trial's stages A–C and S started from the default model
shipped before 2026-12-01 (``tiny``); scripts/train_motion_trial.sh takes it from the repository's history and passes
it with ``--from``. Stage S-power starts from the one shipped since (``tiny-power``, the default here).
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
    motion_presets = {"tiny": "tiny-motion", "tiny-power": "tiny-motion-power"}
    if pipe.config.preset not in motion_presets:
        raise SystemExit(f"{args.source or 'default model'}: preset {pipe.config.preset!r}, expected "
                         f"{' or '.join(motion_presets)}")
    encoder = build_frame_encoder("motion")
    if encoder.embedding_dim != pipe.syncronet.config.video_dim:
        raise SystemExit(f"motion E_V is {encoder.embedding_dim}-d, "
                         f"Syncronet expects {pipe.syncronet.config.video_dim}")
    pipe.frame_encoder = encoder
    preset = motion_presets[pipe.config.preset]
    pipe.register_to_config(preset=preset)
    pipe.save_pretrained(Path(args.out))
    print(f"wrote {args.out} ({preset}: the source's UNet, Syncronet, super-resolution and MLP; motion encoder)")


if __name__ == "__main__":
    main()
