"""``egosonics app``: the web demo. Upload a video, get it back with generated sound."""

from __future__ import annotations

import argparse
from pathlib import Path

from egosonics.errors import EgoSonicsError
from egosonics.options import STEPS, add_model_options, add_sampling_options, generate_options, load_model, real, whole

UPLOAD_MB = real(0, 1_000_000, low_open=True, unit="MB")
MAX_DURATION = real(0, 86_400, low_open=True, unit="s")
QUEUE_SIZE = whole(1, 10_000)
PORT = whole(1, 65_535)


def run(args: argparse.Namespace) -> int:
    import threading

    from egosonics.app.limits import Limits
    from egosonics.app.web import AppConfig, build_app

    try:
        limits = Limits(max_upload_mb=args.max_upload_mb, max_duration_s=args.max_duration, max_steps=args.max_steps)
    except ValueError as exc:
        raise EgoSonicsError(f"app: {exc}") from None
    config = AppConfig(limits=limits, options=generate_options(args), queue_size=args.queue_size,
                       output_dir=Path(args.output_dir) if args.output_dir else None,
                       model_label=args.model or "the default model")  # initial settings checked against limits
    pipe = load_model(args)  # says if no model exists
    app = build_app(pipe, config)
    url = app.launch(host=args.host, port=args.port)
    print(f"EgoSonics demo running at {url} (Ctrl+C to stop)", flush=True)
    try:
        threading.Event().wait()
    finally:
        app.close()
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "app", help="the web demo: upload a video, get it back with generated sound",
        description="Serve the Gradio web demo: upload a video (size and duration limits shown on the page), choose "
                    "steps, guidance and seed, and get the video with its new audio, the spectrogram figure and "
                    "the MP4 and WAV to download. One request is generated at a time; others wait in a queue. "
                    "Prints the address. --steps, --guidance and --seed set the page's initial values.")
    add_model_options(p)
    add_sampling_options(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 for other machines "
                                                       "(default: 127.0.0.1)")
    p.add_argument("--port", type=PORT, default=7860, help="port (default: 7860)")
    p.add_argument("--max-upload-mb", type=UPLOAD_MB, default=100.0, help="largest upload in MB (default: 100)")
    p.add_argument("--max-duration", type=MAX_DURATION, default=60.0, help="longest video in s (default: 60)")
    p.add_argument("--max-steps", type=STEPS, default=100, help="most DDIM steps a user may ask for (default: 100)")
    p.add_argument("--queue-size", type=QUEUE_SIZE, default=16, help="users who may wait their turn (default: 16)")
    p.add_argument("--output-dir", help="where generated files go (default: a temporary folder)")
    p.set_defaults(func=run)
