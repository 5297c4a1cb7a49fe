"""How much of a sound's class survives the model image? The ceiling of timbre for a frequency-row layout.

    .venv/bin/python scripts/timbre_ceiling.py [--rows 32,128,512] [--model FOLDER ...] [--out outputs/timbre_ceiling]

Ground-truth audio of synthesized single-event clips (seed 3, 10 per class; the model card's set) goes through one
path and back through Griffin-Lim (32 iterations, seed 0), and ``scripts/model_card.py``'s classifier (a linear
discriminant on log-mel, attack and envelope statistics, fitted on the ground truth of seed 4) names its class:

    full                  the 1024 × 430 spectrogram itself (the vocoder ceiling)
    POOL:ROWS             the model image with ROWS frequency rows (256 time columns, as ``tiny``) and back by
                          ``from_model_image`` (linear in frequency), the rows merged by dB means (POOL ``db``, the
                          model shipped until 2026-12-01) or by power (``power``, the one shipped since;
                          ``SpectrogramParams.freq_pooling``)
    default+superres      the shipped model's image layout and its super-resolution CNN: what its generator's best
                          image becomes (since 2026-12-01 power rows and an untrained CNN, so the same as power:32)
    FOLDER+superres       the same for each ``--model`` folder (its own row layout and CNN)

No generator is involved: a layout that loses a class here loses it for every model trained on it. Writes
OUT/timbre_ceiling.json and .md (accuracy per path and per class; log-spectral distance to the original, mean over
clips; FD log-mel between the originals' and the path's log-mel statistics, as ``egosonics evaluate`` computes it).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from model_card import event_class, event_classifier, scenes, single_clips  # scripts/ is on a script's path

REPO = Path(__file__).resolve().parents[1]


def through(unit: torch.Tensor, path: str, pipes: dict) -> torch.Tensor:
    """A unit spectrogram [1024, T] through ``path`` (module docstring; ``pipes``: name → pipeline, "default" the
    shipped one) and back to [1024, T]."""
    from egosonics.spectrogram.transform import from_model_image, from_superres_image, to_model_image

    if path == "full":
        return unit
    if path.endswith("+superres"):
        pipe = pipes[path.removesuffix("+superres")]
        params = pipe.spectrogram_params
        with torch.no_grad():
            high = pipe.superres(to_model_image(unit, params)[None, None])[0, 0]
        return from_superres_image(high, unit.shape[-1], params)
    params = pipes["default"].spectrogram_params
    pool, rows = path.split(":")
    layout = replace(params, model_size=(int(rows), params.model_size[1]), freq_pooling=pool)
    return from_model_image(to_model_image(unit, layout), unit.shape[-1], layout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="32,128,512", help="comma-separated row counts (dividing 1024)")
    parser.add_argument("--model", action="append", default=[], metavar="FOLDER",
                        help="also the path through this model folder's image and super-resolution (repeatable)")
    parser.add_argument("--out", default=str(REPO / "outputs" / "timbre_ceiling"))
    parser.add_argument("--scenes", default=str(REPO / "outputs" / "default_model" / "eval"),
                        help="model_card.py's --out, where its single-event clips are (made when missing)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from egosonics.evaluation.embeddings import logmel_stats
    from egosonics.evaluation.frechet import frechet_distance_from_embeddings
    from egosonics.evaluation.spectral import log_spectral_distance
    from egosonics.loading import DEFAULT_MODEL_DIR
    from egosonics.media.audio import read_audio
    from egosonics.pipeline import EgoSonicsPipeline
    from egosonics.spectrogram.griffin_lim import griffin_lim
    from egosonics.spectrogram.transform import unit_to_magnitude, waveform_to_unit

    rows = [int(r) for r in args.rows.split(",")]
    if any(r < 1 or 1024 % r for r in rows):
        raise SystemExit(f"--rows {args.rows}: every count must divide 1024")
    pipes = {"default": EgoSonicsPipeline.from_pretrained(DEFAULT_MODEL_DIR)}  # its settings and super-resolution
    pipes |= {folder: EgoSonicsPipeline.from_pretrained(folder) for folder in args.model}
    layouts = [f"{pool}:{r}" for r in rows for pool in ("db", "power")]
    paths = ["full", *(f"{name}+superres" for name in pipes), *layouts]
    params, n = pipes["default"].spectrogram_params, pipes["default"].clip_spec.num_samples
    fit = scenes(Path(args.scenes), kind="single", n=60, seed=4, difficulty="easy", redo=False)
    test = scenes(Path(args.scenes), kind="single", n=60, seed=3, difficulty="easy", redo=False)
    classes, predict = event_classifier(fit)
    results = {p: {"clips": []} for p in paths}
    embeddings: dict[str, list] = {p: [] for p in ["original", *paths]}
    for clip in single_clips(test):
        wave = torch.from_numpy(read_audio(clip.with_suffix(".wav"))[:n]).float()
        embeddings["original"].append(logmel_stats(wave.numpy()))
        unit = waveform_to_unit(torch.nn.functional.pad(wave, (0, n - len(wave))), params)
        for p in paths:
            out = griffin_lim(unit_to_magnitude(through(unit, p, pipes), params), n, params, n_iter=32,
                              generator=torch.Generator().manual_seed(0))[:len(wave)]
            embeddings[p].append(logmel_stats(out.numpy()))
            results[p]["clips"].append({"clip": clip.stem, "class": event_class(clip), "heard": predict(out.numpy()),
                                        "lsd": float(log_spectral_distance(wave, out, params))})
        print(clip.stem, flush=True)
    lines = ["| path | class accuracy | " + " | ".join(classes) + " | LSD | FD log-mel |",
             "|---|---|" + "---|" * len(classes) + "---|---|"]
    for p, r in results.items():
        clips = r["clips"]
        r["accuracy"] = float(np.mean([c["heard"] == c["class"] for c in clips]))
        r["per_class"] = {k: f"{sum(c['heard'] == k for c in clips if c['class'] == k)}/"
                             f"{sum(c['class'] == k for c in clips)}" for k in classes}
        r["lsd"] = float(np.mean([c["lsd"] for c in clips]))
        r["fd_logmel"] = frechet_distance_from_embeddings(np.stack(embeddings["original"]), np.stack(embeddings[p]))
        lines.append(f"| {p} | {r['accuracy']:.2f} | " + " | ".join(r["per_class"].values()) +
                     f" | {r['lsd']:.3f} | {r['fd_logmel']:.1f} |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "timbre_ceiling.json").write_text(json.dumps(results, indent=1))
    (out / "timbre_ceiling.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
