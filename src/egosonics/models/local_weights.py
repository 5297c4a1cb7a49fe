"""Third-party weight files (Inception for FID, Melception, ImageNet ViT-B/32) read from a path the user gives.

Nothing here downloads: a missing file is an ``EgoSonicsError`` that names the path and the file expected, and the
sha256 of every file that is read is logged, so a report can say exactly which weights produced its numbers.
``.safetensors`` files are read with safetensors; anything else with ``torch.load(weights_only=True)`` (tensors and
plain containers only, no arbitrary pickled code).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import torch

from egosonics.errors import EgoSonicsError

log = logging.getLogger(__name__)


def sha256_file(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def load_state_dict_file(path: str | os.PathLike[str] | None, *, what: str, expected: str,
                         key: str | None = None) -> tuple[dict[str, torch.Tensor], str]:
    """Read a state dict from a local file; returns (state dict, sha256).

    Args:
        path: the file the user gave (None counts as missing).
        what: what the weights are for, for messages ("spectrogram FID").
        expected: the file that is expected there ("pytorch-fid's pt_inception-2015-12-05-6726825d.pth").
        key: when the file holds a dict with this entry (SpecVQGAN checkpoints keep the weights under "model"),
            use that entry; a file that is already a flat state dict is accepted as is.
    """
    if path is None or not str(path):
        raise EgoSonicsError(f"{what} needs a local weight file ({expected}); none was given. EgoSonics never "
                             "downloads weights: pass the path of a copy you have")
    file = Path(path)
    if not file.is_file():
        raise EgoSonicsError(f"{file}: weight file not found; {what} needs {expected} as a local file (EgoSonics "
                             "never downloads weights)")
    digest = sha256_file(file)
    log.info("%s: loading %s (sha256 %s)", what, file, digest)
    try:
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(file))
        else:
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # any reader failure means "not a weight file we can read"
        raise EgoSonicsError(f"{file}: cannot read weights for {what} ({type(exc).__name__}: {exc}); expected "
                             f"{expected}") from None
    if key is not None and isinstance(state, dict) and key in state and isinstance(state[key], dict):
        state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise EgoSonicsError(f"{file}: not a state dict of tensors (got {type(state).__name__}); expected {expected}")
    return dict(state), digest


def load_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], *, source: str | os.PathLike[str],
                expected: str) -> None:
    """``module.load_state_dict(state, strict=True)``, with an ``EgoSonicsError`` listing a few missing and
    unexpected keys (a wrong file, or the right file for another architecture)."""
    result = module.state_dict()
    missing = sorted(set(result) - set(state))
    unexpected = sorted(set(state) - set(result))
    # BatchNorm fills in num_batches_tracked when a file predates it (torch's own rule); the rest must match.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise EgoSonicsError(f"{source}: does not match the expected architecture ({expected}): "
                             f"{len(missing)} missing key(s) {missing[:5]}, {len(unexpected)} unexpected key(s) "
                             f"{unexpected[:5]}")
    shapes = [(k, tuple(state[k].shape), tuple(v.shape)) for k, v in result.items()
              if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if shapes:
        k, got, want = shapes[0]
        raise EgoSonicsError(f"{source}: {len(shapes)} tensor(s) have the wrong shape, e.g. {k}: {got} in the file, "
                             f"{want} expected ({expected})")
    module.load_state_dict(state, strict=True)
