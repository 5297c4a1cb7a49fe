"""Writing outputs safely: never over an input, never half-written (a temporary file renamed when complete)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from egosonics.errors import MediaError


def check_writable(out_path: str | os.PathLike[str], *, inputs: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Refuse an output that would overwrite an input or land in a folder that cannot be written."""
    out = Path(out_path)
    for src in inputs:
        same = Path(src).resolve() == out.resolve()
        if not same and out.exists() and Path(src).exists():  # a hard link, or another spelling resolve() misses
            same = os.path.samefile(src, out)
        if same:
            raise MediaError(out, f"output path is the input file {src}; refusing to overwrite an input")
    folder = out.parent if str(out.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise MediaError(out, f"output folder {folder} is a file, not a folder")
    if not folder.is_dir():
        raise MediaError(out, f"output folder {folder} does not exist")
    if out.is_dir():
        raise MediaError(out, "output path is a folder")
    _probe_folder(out, folder)
    return out


def _probe_folder(out: Path, folder: Path) -> None:
    """Create and remove a file in ``folder``: the one test that holds for root too (``os.access`` says yes to root
    for a read-only folder, and for /proc, where no file can be created)."""
    probe = folder / f".{out.name}.probe-{uuid.uuid4().hex[:8]}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise MediaError(out, f"output folder {folder} is not writable ({exc.strerror or exc})") from None
    os.close(fd)
    probe.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(out_path: str | os.PathLike[str], *,
                  inputs: tuple[str | os.PathLike[str], ...] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``out_path``; rename it into place only if the block succeeds.

    The temporary file keeps the output's extension so that format guessing works, and is removed on any failure,
    so a reader never sees a half-written output.
    """
    out = check_writable(out_path, inputs=inputs)
    tmp = out.with_name(f".{out.stem}.partial-{uuid.uuid4().hex[:8]}{out.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise MediaError(out, "nothing was written (the writer created no file)")
        os.replace(tmp, out)
    except OSError as exc:  # disk full, permission lost mid-write, ... (PyAV's errno errors are OSErrors too)
        tmp.unlink(missing_ok=True)
        raise MediaError(out, f"cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
