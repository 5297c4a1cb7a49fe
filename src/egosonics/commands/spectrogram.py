"""``egosonics spectrogram``: a spectrogram figure of any file with audio, or the model-input PNG itself."""

from __future__ import annotations

import argparse
from pathlib import Path

from egosonics.options import real

START = real(0, unit="s")
DURATION = real(0, low_open=True, unit="s")


def run(args: argparse.Namespace) -> int:
    import torch

    from egosonics.clip_spec import DEFAULT_CLIP
    from egosonics.media.audio import read_audio
    from egosonics.spectrogram.figure import plot_spectrograms
    from egosonics.spectrogram.params import DEFAULT_PARAMS
    from egosonics.spectrogram.png import load_spectrogram_png, save_spectrogram_png
    from egosonics.spectrogram.transform import to_model_image, to_superres_image, waveform_to_unit

    source = Path(args.input)
    if source.suffix.lower() == ".png":
        image, params, meta = load_spectrogram_png(source)
        plot_spectrograms(args.output, [(source.name, image)], params, duration_s=meta.get("duration_s"))
        print(f"wrote {args.output}")
        return 0
    params = DEFAULT_PARAMS
    duration = args.duration if args.raw == "full" or args.raw is None else DEFAULT_CLIP.duration_s
    audio = read_audio(source, sample_rate=params.sample_rate, start_s=args.start, duration_s=duration)
    unit = waveform_to_unit(torch.from_numpy(audio), params)  # [1024, n // hop]
    span = len(audio) / params.sample_rate
    if args.raw is None:
        plot_spectrograms(args.output, [(f"{source.name} from {args.start:g} s", unit)], params, duration_s=span)
    else:
        image = {"full": unit, "model": to_model_image(unit, params), "superres": to_superres_image(unit, params)}
        save_spectrogram_png(args.output, image[args.raw], params, layout=args.raw, duration_s=span,
                             source=str(source), start_s=args.start)
    print(f"wrote {args.output}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spectrogram", help="draw a spectrogram figure, or write the model-input PNG",
        description="Draw INPUT's spectrogram (time in s, frequency in Hz, level in dB) as a PNG figure. INPUT is "
                    "any file with audio, or a spectrogram PNG written with --raw. With --raw, write instead the "
                    "normalised spectrogram image itself (16-bit PNG, low frequencies at the bottom, parameters in "
                    "its metadata): 'model' is the 512 x 512 diffusion input of the first 10 s from --start, "
                    "'superres' the 1024 x 512 super-resolution target, 'full' the 1024-bin STFT grid.")
    p.add_argument("input", help="audio/video file, or a spectrogram PNG written by --raw")
    p.add_argument("-o", "--output", required=True, help="output PNG")
    p.add_argument("--raw", choices=["model", "superres", "full"], help="write the image itself, not a figure")
    p.add_argument("--start", type=START, default=0.0, help="start time in s (default: 0)")
    p.add_argument("--duration", type=DURATION, default=None, help="seconds to draw (default: to the end)")
    p.set_defaults(func=run)
