"""``egosonics resynth``: a video's own audio through the spectrogram path and back (the vocoder ceiling)."""

from __future__ import annotations

import argparse

from egosonics.options import DEFAULTS, GL_ITERS, SEED, add_gl_init_option, add_vocoder_option, real

MOMENTUM = real(0, 1)


def run(args: argparse.Namespace) -> int:
    from egosonics.loading import DEFAULT_MODEL_DIR, model_folder, resolve_vocoder
    from egosonics.resynth import resynthesize
    from egosonics.spectrogram.params import DEFAULT_PARAMS

    # The shipped model's vocoder/ when there is one (resynth needs no other part of a model).
    folder = model_folder(args.model) if args.model or args.vocoder == "learned" else DEFAULT_MODEL_DIR
    vocoder = resolve_vocoder(folder, args.vocoder, DEFAULT_PARAMS)
    result = resynthesize(args.video, args.output, n_iter=args.iters, momentum=args.momentum, seed=args.seed,
                          wav=args.wav, vocoder=vocoder, init=args.gl_init)
    print(f"wrote {result.output} ({result.duration_s:.2f} s, {result.windows} window(s) of 10 s)")
    if result.wav is not None:
        print(f"wrote {result.wav}")
    print(f"vocoder ceiling against the original audio: spectral convergence {result.spectral_convergence:.4f}, "
          f"log-spectral distance {result.log_spectral_distance:.4f} (log10 power; lower is better)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "resynth", help="round-trip a video's audio through the spectrogram path (the vocoder ceiling)",
        description="Take VIDEO's own audio through the method's 512 x 512 spectrogram and back with fast "
                    "Griffin-Lim (or the learned vocoder, see --vocoder), write the video with that audio (video "
                    "stream copied, not re-encoded), and print the spectral convergence and log-spectral distance "
                    "against the original: the best any generated spectrogram can sound.")
    p.add_argument("video", help="input video with an audio track (any container/codec PyAV reads)")
    p.add_argument("-o", "--output", required=True, help="output video (.mp4, .mkv, .mov; .webm gets Opus audio)")
    p.add_argument("--wav", help="also write the resynthesised audio as WAV or FLAC (by extension)")
    p.add_argument("--gl-iters", "--iters", dest="iters", metavar="N", type=GL_ITERS,
                   default=DEFAULTS.griffin_lim_iters,
                   help=f"Griffin-Lim iterations, as generate's (default: {DEFAULTS.griffin_lim_iters})")
    p.add_argument("--momentum", type=MOMENTUM, default=0.99,
                   help=f"fast Griffin-Lim momentum, {MOMENTUM.describe()}; 0 = classic (default 0.99)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the initial random phase (default: 0)")
    add_gl_init_option(p)
    p.add_argument("--model", help="model folder whose vocoder/ --vocoder uses (default: the shipped default model)")
    add_vocoder_option(p)
    p.set_defaults(func=run)
