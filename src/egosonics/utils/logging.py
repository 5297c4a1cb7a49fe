"""Logging set-up for the command line and a progress-bar factory (stderr, hidden when not a terminal)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def setup_logging(verbosity: int = 0) -> None:
    """Configure the root logger: -1 quiet (warnings), 0 info, 1+ debug."""
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party libraries stay at warnings unless debugging.
    for name in ("matplotlib", "PIL", "libav", "urllib3", "filelock"):
        logging.getLogger(name).setLevel(logging.WARNING if verbosity < 2 else logging.DEBUG)


def progress(iterable: Iterable[T], *, desc: str, total: int | None = None, unit: str = "it",
             disable: bool | None = None) -> Iterable[T]:
    """A tqdm progress bar on stderr; ``disable=None`` hides it when stderr is not a terminal."""
    return tqdm(iterable, desc=desc, total=total, unit=unit, disable=disable, file=sys.stderr, leave=False)
