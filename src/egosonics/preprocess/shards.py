"""The shard format of ``prepare``, in one place: the writer, the random-access reader, and the run's settings.

A shard is a plain tar of ``<key>.<ext>`` members (WebDataset's format). Every member gets mtime 0, uid/gid 0 and
mode 0644, and samples keep their order, so the same inputs give byte-identical shards. A shard is written to a
temporary name and renamed when complete: a crash or a full disk never leaves a shard that looks complete.

Shards are read by indexing them once (member offsets read from the tar headers) and seeking, so any sample can be
fetched in any order. ``prepare`` writes ``OUT/shards/*.tar`` and records its settings in ``OUT/config.json``
(``PREPARE_CONFIG``); ``prepare_settings`` finds that file from anything that names the shards.
"""

from __future__ import annotations

import glob
import io
import json
import logging
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.errors import EgoSonicsError
from egosonics.utils.output import atomic_output

log = logging.getLogger(__name__)

# The file in prepare's output folder that records the settings of the run (beside ``shards/``).
PREPARE_CONFIG = "config.json"


def encode_sample(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> dict[str, bytes]:
    """Arrays as ``.npy`` bytes and metadata as sorted ``.json`` bytes."""
    members = {}
    for name, array in arrays.items():
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        members[f"{name}.npy"] = buffer.getvalue()
    members["json"] = json.dumps(meta, sort_keys=True).encode()
    return members


def write_shard(path: str | os.PathLike[str], samples: list[tuple[str, dict[str, bytes]]]) -> Path:
    """Write ``[(key, {ext: bytes})]`` as a tar at ``path``, atomically and reproducibly."""
    with atomic_output(path) as tmp, tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
        for key, members in samples:
            if "." in key or "/" in key:
                raise ValueError(f"sample key {key!r} may not contain '.' or '/' (WebDataset splits on them)")
            for ext in sorted(members):
                data = members[ext]
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
    return Path(path)


def read_shard(path: str | os.PathLike[str]) -> list[tuple[str, dict[str, Any]]]:
    """Read a shard back: ``[(key, {name: array | metadata dict})]`` in order (for tests and tools)."""
    samples: dict[str, dict[str, Any]] = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            key, ext = member.name.split(".", 1)
            data = tar.extractfile(member).read()
            value = json.loads(data) if ext == "json" else np.load(io.BytesIO(data), allow_pickle=False)
            samples.setdefault(key, {})[ext.removesuffix(".npy")] = value
    return list(samples.items())


@dataclass(frozen=True)
class SampleRef:
    """Where one sample's members lie: shard path and (offset, size) per extension."""

    key: str
    shard: str
    members: tuple[tuple[str, int, int], ...]


def resolve_shards(pattern: str | os.PathLike[str]) -> list[Path]:
    """A shard folder (``OUT`` of prepare, or its ``shards/``), a glob, or a single tar → sorted tar paths."""
    path = Path(pattern)
    if path.is_dir():
        path = path / "shards" if (path / "shards").is_dir() else path
        found = sorted(path.glob("*.tar"))
    else:
        found = sorted(Path(p) for p in glob.glob(str(pattern)))
    if not found:
        raise EgoSonicsError(f"{pattern}: no .tar shards found")
    return found


def index_shards(paths: list[Path]) -> list[SampleRef]:
    """Read the tar headers of every shard; samples in shard order, then in tar order."""
    refs: list[SampleRef] = []
    for shard in paths:
        members: dict[str, list[tuple[str, int, int]]] = {}
        order: list[str] = []
        try:
            with tarfile.open(shard) as tar:
                for info in tar:
                    key, ext = info.name.split(".", 1)
                    if key not in members:
                        members[key] = []
                        order.append(key)
                    members[key].append((ext, info.offset_data, info.size))
        except (tarfile.TarError, OSError) as exc:
            raise EgoSonicsError(f"{shard}: not a readable shard ({exc})") from None
        refs.extend(SampleRef(key, str(shard), tuple(members[key])) for key in order)
    return refs


class ShardDataset(torch.utils.data.Dataset):
    """Samples of prepared shards: ``{"key", "spec" [1024, 430] float32, "ev" [300, 512] float32, "meta" dict}``.

    A sample that cannot be read is logged with its key and returned as None; ``collate`` drops it and counts it.
    """

    def __init__(self, shards: str | os.PathLike[str] | list[Path]) -> None:
        paths = shards if isinstance(shards, list) else resolve_shards(shards)
        self.refs = index_shards(paths)
        if not self.refs:
            raise EgoSonicsError(f"{shards}: the shards hold no samples")

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        ref = self.refs[index]
        try:
            out: dict[str, Any] = {"key": ref.key}
            with open(ref.shard, "rb") as f:
                for ext, offset, size in ref.members:
                    f.seek(offset)
                    data = f.read(size)
                    if ext == "json":
                        out["meta"] = json.loads(data)
                    elif ext.endswith(".npy"):
                        out[ext.removesuffix(".npy")] = torch.from_numpy(
                            np.load(io.BytesIO(data), allow_pickle=False).astype(np.float32))
            if "spec" not in out or "ev" not in out:
                raise KeyError("spec.npy or ev.npy missing")
            return out
        except (OSError, ValueError, KeyError) as exc:
            log.warning("skipping sample %s in %s: %s", ref.key, ref.shard, exc)
            return None


def collate(batch: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Stack the readable samples; ``skipped`` counts the ones that were not."""
    good = [b for b in batch if b is not None]
    out: dict[str, Any] = {"skipped": len(batch) - len(good), "keys": [b["key"] for b in good],
                           "meta": [b.get("meta", {}) for b in good]}
    if good:
        out["spec"] = torch.stack([b["spec"] for b in good])  # [B, 1024, 430]
        out["ev"] = torch.stack([b["ev"] for b in good])  # [B, 300, 512]
    return out


def prepare_settings(shards: str | os.PathLike[str]) -> dict[str, Any]:
    """The settings ``prepare`` recorded for these shards (``PREPARE_CONFIG`` in the folder of the first shard or the
    one above it); {} when there is none (shards written by other tools)."""
    first = resolve_shards(shards)[0].resolve()
    for folder in (first.parent, first.parent.parent):
        path = folder / PREPARE_CONFIG
        if path.is_file():
            try:
                settings = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise EgoSonicsError(f"{path}: not a readable prepare config ({exc})") from None
            return settings if isinstance(settings, dict) else {}
    return {}
