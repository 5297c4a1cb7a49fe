"""Errors a user can act on. The command line prints them as one line, without a traceback."""

from __future__ import annotations

from os import PathLike


class EgoSonicsError(Exception):
    """Base class for errors caused by input or environment, not by a bug."""


class MediaError(EgoSonicsError, ValueError):
    """A media file cannot be read or written; the message names the file and the problem."""

    def __init__(self, path: str | PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
