"""The ``egosonics`` command: global options, then one subcommand from ``egosonics.commands``.

Each subcommand's parser sits beside its handler in ``egosonics/commands/NAME.py``; the handler turns the parsed
arguments into typed values and calls library functions. Errors a user can fix (a missing file, a file that is not a
video, an output folder that cannot be written, an option out of its range) print one line and exit non-zero:
``egosonics: error: FILE: PROBLEM`` with status 1 from the library, ``egosonics COMMAND: error: argument --OPTION:
...`` with status 2 from the parser. Nothing partial is left behind.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from egosonics import __version__
from egosonics.commands import COMMANDS
from egosonics.errors import EgoSonicsError
from egosonics.options import THREADS

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (the usage itself is one ``--help`` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="egosonics",
        description="EgoSonics: synchronized audio for silent egocentric videos. "
                    "Video in, the same video with a generated soundtrack out.",
        epilog="Run 'egosonics COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"egosonics {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="count", default=0,
                           help="debug log output (-vv: also from libraries)")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("--threads", dest="torch_threads", type=THREADS, default=None, metavar="N",
                        help="CPU threads for torch (default: one per core that other processes leave idle, measured "
                             "over 0.1 s at start, or OMP_NUM_THREADS when set). torch's threads slow down sharply "
                             "when they must wait for busy cores")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)  # subparsers are OneLineParsers
    for name in COMMANDS:
        importlib.import_module(f"egosonics.commands.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)  # --help and usage errors end here, before anything heavy is imported
    from egosonics.utils.logging import setup_logging  # tqdm

    setup_logging(-1 if args.quiet else args.verbose)
    if args.torch_threads is not None:  # not `threads`: `experiment summarize` has its own --threads
        import torch

        torch.set_num_threads(args.torch_threads)
    else:  # one thread per idle core (torch's own default, one per core, is much slower on a busy machine)
        from egosonics.utils.threads import set_default_threads_env

        set_default_threads_env()
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except EgoSonicsError as exc:
        print(f"egosonics: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # the environment, not a bug: a disk that fills, a folder that goes away mid-run
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"egosonics: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("egosonics: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
