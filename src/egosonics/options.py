"""Option values checked where they are parsed, and the sampling settings every generating command shares.

A ``Bounded`` range is written once and used twice: as the argparse ``type=`` of a command-line option (a bad value
ends in one line naming the option and the range) and by the option dataclasses (``GenerateOptions`` raises
``EgoSonicsError`` for a library caller). Light on purpose (no torch): ``egosonics --help`` imports it.
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from egosonics.errors import EgoSonicsError

if TYPE_CHECKING:
    from egosonics.pipeline import EgoSonicsPipeline


class OptionError(EgoSonicsError, ValueError):
    """An option value outside its range; the message names the option and the range."""


@dataclass(frozen=True)
class Bounded:
    """A whole or real number in [low, high] (an end is open when its flag says so; None: unbounded).

    Calling it parses a command-line string (argparse's ``type=``); ``check`` validates a value a library caller passed.
    Real numbers must be finite: nan and inf are outside every range.
    """

    kind: type  # int or float
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    unit: str = ""

    def describe(self) -> str:
        """The range in words: 'a whole number from 1 to 1000', 'a number > 0 and < 10 s', ..."""
        what = "a whole number" if self.kind is int else "a number"
        unit = f" {self.unit}" if self.unit else ""
        low = None if self.low is None else f"{self.low:g}"
        high = None if self.high is None else f"{self.high:g}"
        if low is not None and high is not None and not self.low_open and not self.high_open:
            return f"{what} from {low} to {high}{unit}"
        parts = []
        if low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {low}")
        if high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {high}")
        return f"{what} {' and '.join(parts)}{unit}" if parts else f"a finite {what[2:]}"

    def contains(self, value: float) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind is int and not float(value).is_integer():
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.high_open else value > self.high))

    def check(self, name: str, value: float) -> float:
        """``value`` itself, or an ``OptionError`` 'NAME must be RANGE, got VALUE'."""
        if not self.contains(value):
            raise OptionError(f"{name} must be {self.describe()}, got {value!r}")
        return value

    def __call__(self, text: str) -> float:
        """argparse ``type=``: the parsed value; argparse names the option in front of the message."""
        try:
            value = self.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}") from None
        if not self.contains(value):
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}")
        return value


def whole(low: int | None = None, high: int | None = None, unit: str = "") -> Bounded:
    return Bounded(int, low, high, unit=unit)


def real(low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False,
         unit: str = "") -> Bounded:
    return Bounded(float, low, high, low_open, high_open, unit)


# Ranges shared by several commands.
SEED = whole(0, 2**63 - 1)
STEPS = whole(1, 1000)  # DDIM picks its steps among the scheduler's 1000 training timesteps
GUIDANCE = real(1, 100)  # 1 disables guidance; below 1 would mean the same
GL_ITERS = whole(1, 10_000)
GL_INITS = ("random", "phase-gradient")  # Griffin-Lim's start: the paper's random phase, or spectrogram.phase_gradient
BATCH_SIZE = whole(1, 4096)
THREADS = whole(1, 4096)
WORKERS = whole(1, 1024)
WINDOW_OVERLAP = real(0, 10, high_open=True, unit="s")  # below the 10 s window (ClipSpec.duration_s)

DEVICE_HELP = "auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps"
DTYPES = ("auto", "float32", "float16", "bfloat16")
VOCODERS = ("griffin-lim", "learned")  # the waveform stage: the paper's Griffin-Lim, or a model folder's vocoder/
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def device(text: str) -> str:
    """argparse ``type=`` of ``--device``."""
    if not _DEVICE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"must be one of {DEVICE_HELP}, got {text!r}")
    return text


@dataclass(frozen=True)
class GenerateOptions:
    """Sampling settings for every file of a run (``egosonics generate``, ``demo``, ``app``); checked when made."""

    steps: int = 20
    guidance: float = 3.0
    seed: int = 0
    batch_size: int = 4
    overlap_s: float = 2.0
    griffin_lim_iters: int = 32
    griffin_lim_init: str = "random"
    write_wav: bool = False
    write_png: bool = False

    def __post_init__(self) -> None:
        ranges = {"steps": STEPS, "guidance": GUIDANCE, "seed": SEED, "batch_size": BATCH_SIZE,
                  "overlap_s": WINDOW_OVERLAP, "griffin_lim_iters": GL_ITERS}
        for name, bounded in ranges.items():
            bounded.check(name, getattr(self, name))
        if self.griffin_lim_init not in GL_INITS:
            raise EgoSonicsError(f"griffin_lim_init must be one of {list(GL_INITS)}, got {self.griffin_lim_init!r}")


DEFAULTS = GenerateOptions()


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model --device --dtype``: which weights, where and in what precision (one set of defaults)."""
    parser.add_argument("--model", help="model folder (save_pretrained format); default: the shipped default model")
    parser.add_argument("--device", type=device, default="auto", help=f"{DEVICE_HELP} (default: auto)")
    parser.add_argument("--dtype", default="auto", choices=DTYPES,
                        help="model precision (auto: float16 on cuda, float32 elsewhere)")


def add_sampling_options(parser: argparse.ArgumentParser, *, seed: bool = True) -> None:
    """``--steps --guidance --seed --gl-iters --gl-init``, with ``GenerateOptions``' defaults and ranges."""
    parser.add_argument("--steps", type=STEPS, default=DEFAULTS.steps,
                        help=f"DDIM steps, {STEPS.describe()} (default: {DEFAULTS.steps})")
    parser.add_argument("--guidance", type=GUIDANCE, default=DEFAULTS.guidance,
                        help=f"classifier-free guidance scale, {GUIDANCE.describe()}; 1 disables it "
                             f"(default: {DEFAULTS.guidance:g})")
    if seed:
        parser.add_argument("--seed", type=SEED, default=DEFAULTS.seed,
                            help=f"random seed; the same seed gives the same audio (default: {DEFAULTS.seed})")
    parser.add_argument("--gl-iters", type=GL_ITERS, default=DEFAULTS.griffin_lim_iters,
                        help=f"Griffin-Lim iterations (default: {DEFAULTS.griffin_lim_iters})")
    add_gl_init_option(parser)
    add_vocoder_option(parser)


def add_gl_init_option(parser: argparse.ArgumentParser) -> None:
    """``--gl-init``: where Griffin-Lim starts (generate, demo, app through the sampling options; resynth too)."""
    parser.add_argument("--gl-init", default=DEFAULTS.griffin_lim_init, choices=GL_INITS,
                        help="Griffin-Lim's starting phase: random (the paper's) or phase-gradient (integrated from "
                             "the magnitude, PGHI; with --gl-iters 20 it beats 32 iterations from random phase on 82%% "
                             "of 78 real clips, in less time: docs/TRAINING.md) (default: %(default)s)")


def add_vocoder_option(parser: argparse.ArgumentParser) -> None:
    """``--vocoder``: the waveform stage (generate, demo, app through the sampling options; resynth on its own)."""
    parser.add_argument("--vocoder", default=None, choices=VOCODERS,
                        help="waveform stage: Griffin-Lim (the paper's) or the learned vocoder in the model folder's "
                             "vocoder/ (default: learned when the model folder has one, else griffin-lim)")


def generate_options(args: argparse.Namespace, **extra: object) -> GenerateOptions:
    """``GenerateOptions`` from the parsed sampling options, with ``extra`` fields (batch size, WAV, ...)."""
    given: dict[str, object] = {"steps": args.steps, "guidance": args.guidance, "griffin_lim_iters": args.gl_iters,
                                "griffin_lim_init": args.gl_init}
    if hasattr(args, "seed"):
        given["seed"] = args.seed
    return GenerateOptions(**given, **extra)  # type: ignore[arg-type]


def load_model(args: argparse.Namespace) -> EgoSonicsPipeline:
    """The pipeline named by ``--model --device --dtype``; says so in one line when the model folder is missing."""
    from egosonics.loading import load_pipeline, resolve_device, resolve_dtype

    where = resolve_device(args.device)
    return load_pipeline(args.model, device=where, dtype=resolve_dtype(args.dtype, where),
                         vocoder=getattr(args, "vocoder", None))
