"""Learned vocoder vs Griffin-Lim on held-out real audio, from the same magnitudes (issue 16's quality check).

    OMP_NUM_THREADS=1 .venv/bin/python scripts/eval_vocoder.py --vocoder outputs/train/vocoder/model \
        --out outputs/eval_vocoder [--refine 0,8] [--path full,model]

Clips: the ``heldout`` files of the vocoder's ``training_data.json`` (sources never used in training), or ``--clips``
(files or folders; a clip the vocoder was trained on, by its ``training_data.json``, is refused).
Each clip's audio (22,050 Hz mono, up to 10 s) becomes one 10 s window's magnitude [1024, 430], by one of two paths:
``full`` (the STFT grid the pipeline hands to the waveform stage, dB-clipped) or ``model`` (through the diffusion
model's 512 × 512 image and back, as ``egosonics resynth``). From that same magnitude: Griffin-Lim 32 and 100
iterations (momentum 0.99, random start seed 0), the non-learned phase-gradient retrieval the ``gradient`` vocoder
starts from (``spectrogram.phase_gradient``; with the same ``--refine`` iterations: the learned part's ablation) and
the learned vocoder (with ``--refine`` Griffin-Lim iterations from its phase). Metrics against the original, on the
clip's length: log-spectral distance, multi-resolution STFT, mel L1 (``evaluation/spectral.py``), onset F1
(``evaluation/sync/onset.py``, 50 ms window); and seconds per window.
Writes OUT/per_clip.csv and OUT/summary.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.evaluation.spectral import log_spectral_distance, mel_l1, multi_resolution_stft
from egosonics.evaluation.sync.onset import onset_f1, onset_times
from egosonics.loading import load_vocoder
from egosonics.media.audio import read_audio
from egosonics.spectrogram.griffin_lim import griffin_lim, pad_to_stft_grid
from egosonics.spectrogram.params import DEFAULT_PARAMS
from egosonics.spectrogram.phase_gradient import phase_from_magnitude
from egosonics.spectrogram.transform import from_model_image, istft, to_model_image, unit_to_magnitude, waveform_to_unit
from egosonics.training.vocoder import media_files

SPECTRAL = ("lsd", "mrstft", "mel_l1")


def magnitude_of(audio: np.ndarray, path: str) -> torch.Tensor:
    """Audio [n ≤ 220500] → the 10 s window's magnitude [1024, 430] by the ``full`` or ``model`` path."""
    window = torch.nn.functional.pad(torch.from_numpy(audio), (0, DEFAULT_CLIP.num_samples - len(audio)))
    unit = waveform_to_unit(window, DEFAULT_PARAMS)  # [1024, 430]
    if path == "model":
        unit = from_model_image(to_model_image(unit, DEFAULT_PARAMS), unit.shape[-1], DEFAULT_PARAMS)
    return unit_to_magnitude(unit, DEFAULT_PARAMS)


def phase_gradient_waveform(mag: torch.Tensor, n: int, iters: int) -> torch.Tensor:
    """The non-learned phase-gradient retrieval, then ``iters`` fast Griffin-Lim iterations (0: none)."""
    if iters:
        return griffin_lim(mag, n, DEFAULT_PARAMS, n_iter=iters, momentum=0.99, init="phase-gradient")
    full = pad_to_stft_grid(mag.float(), n, DEFAULT_PARAMS)
    hop = DEFAULT_PARAMS.hop_length
    return istft(full * phase_from_magnitude(full, DEFAULT_PARAMS), DEFAULT_PARAMS, hop * -(-n // hop))[:n]


def scores(reference: np.ndarray, estimate: np.ndarray) -> dict[str, float]:
    ref, est = torch.from_numpy(reference), torch.from_numpy(estimate)
    sr = DEFAULT_CLIP.sample_rate
    ref_onsets, est_onsets = onset_times(reference, sr), onset_times(estimate, sr)
    return {"lsd": float(log_spectral_distance(ref, est, DEFAULT_PARAMS)),
            "mrstft": float(multi_resolution_stft(ref, est)), "mel_l1": float(mel_l1(ref, est)),
            "onset_f1": onset_f1(ref_onsets, est_onsets, window_s=0.05).f1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocoder", required=True, help="vocoder folder (save_pretrained format)")
    parser.add_argument("--clips", nargs="*",
                        help="audio/video files or folders (default: the vocoder's held-out files)")
    parser.add_argument("--refine", default="0", help="comma-separated Griffin-Lim refinement iterations to test")
    parser.add_argument("--path", default="full", help="comma-separated magnitude paths: full, model")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    folder = Path(args.vocoder)
    vocoder = load_vocoder(folder, DEFAULT_PARAMS)
    record_file = folder / "training_data.json"
    record = json.loads(record_file.read_text()) if record_file.is_file() else {"train": [], "heldout": []}
    if args.clips:
        clips = [str(f) for c in args.clips for f in (media_files(Path(c)) if Path(c).is_dir() else [Path(c)])]
    else:
        clips = [item["path"] for item in record["heldout"]]
    trained = {Path(item["path"]).resolve() for item in record["train"]}
    seen = [c for c in clips if Path(c).resolve() in trained]
    if seen:
        parser.error(f"{seen[0]}: the vocoder was trained on this clip ({len(seen)} such); evaluate on held-out audio")
    refines = [int(r) for r in args.refine.split(",")]
    paths = args.path.split(",")
    n = DEFAULT_CLIP.num_samples
    rows = []
    for clip in clips:
        audio = read_audio(clip, sample_rate=DEFAULT_CLIP.sample_rate)[:n]
        if len(audio) < DEFAULT_PARAMS.n_fft:
            continue
        for path in paths:
            mag = magnitude_of(audio, path)
            methods = {f"gl{k}": (lambda k=k, mag=mag: griffin_lim(mag, n, DEFAULT_PARAMS, n_iter=k, momentum=0.99,
                                                                   generator=torch.Generator().manual_seed(0)))
                       for k in (32, 100)}
            for r in refines:
                name = "phase-gradient" if r == 0 else f"phase-gradient+gl{r}"
                methods[name] = lambda r=r, mag=mag: phase_gradient_waveform(mag, n, r)
            for r in refines:
                name = "learned" if r == 0 else f"learned+gl{r}"
                methods[name] = lambda r=r, mag=mag: vocoder(mag[None], n, refine_iters=r)[0]
            for name, fn in methods.items():
                with torch.inference_mode():
                    start = time.perf_counter()
                    wave = fn()
                    seconds = time.perf_counter() - start
                estimate = wave.numpy()[: len(audio)].astype(np.float32)
                rows.append({"clip": Path(clip).name, "path": path, "method": name, "seconds": seconds,
                             **scores(audio, estimate)})
            print(f"{Path(clip).name} [{path}]: " + ", ".join(
                f"{r['method']} lsd {r['lsd']:.3f} mr {r['mrstft']:.3f} mel {r['mel_l1']:.3f} f1 {r['onset_f1']:.2f}"
                for r in rows if r["clip"] == Path(clip).name and r["path"] == path), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "per_clip.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary: dict[str, dict[str, dict[str, float]]] = {}
    lines = ["| path | method | LSD | MR-STFT | mel L1 | onset F1 | s / 10 s | beats GL32 on all 3 spectral | "
             "beats GL32 LSD / MR / mel | onset F1 ≥ GL32 |", "|---|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        by = {}
        for r in rows:
            if r["path"] == path:
                by.setdefault(r["method"], {})[r["clip"]] = r
        base = by["gl32"]
        summary[path] = {}
        for method, per_clip in by.items():
            clips_ = sorted(per_clip)
            mean = {k: float(np.mean([per_clip[c][k] for c in clips_])) for k in (*SPECTRAL, "onset_f1", "seconds")}
            wins = {k: float(np.mean([per_clip[c][k] < base[c][k] for c in clips_])) for k in SPECTRAL}
            all3 = float(np.mean([all(per_clip[c][k] < base[c][k] for k in SPECTRAL) for c in clips_]))
            f1_ok = float(np.mean([per_clip[c]["onset_f1"] >= base[c]["onset_f1"] for c in clips_]))
            summary[path][method] = {**mean, **{f"share_beats_gl32_{k}": v for k, v in wins.items()},
                                     "share_beats_gl32_all_spectral": all3, "share_onset_f1_ge_gl32": f1_ok,
                                     "clips": len(clips_)}
            lines.append(f"| {path} | {method} | {mean['lsd']:.3f} | {mean['mrstft']:.3f} | {mean['mel_l1']:.3f} | "
                         f"{mean['onset_f1']:.3f} | {mean['seconds']:.2f} | {all3:.0%} | "
                         f"{wins['lsd']:.0%} / {wins['mrstft']:.0%} / {wins['mel_l1']:.0%} | {f1_ok:.0%} |")
    (out / "summary.json").write_text(json.dumps({"clips": len({r['clip'] for r in rows}), "torch_threads":
                                                  torch.get_num_threads(), "summary": summary}, indent=1))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
