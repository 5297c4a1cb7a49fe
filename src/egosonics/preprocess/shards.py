"""WebDataset shards written deterministically and atomically.

A shard is a plain tar of ``<key>.<ext>`` members (WebDataset's format). Every member gets mtime 0, uid/gid 0 and
mode 0644, and samples keep their order, so the same inputs give byte-identical shards. A shard is written to a
temporary name and renamed when complete: a crash or a full disk never leaves a shard that looks complete.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from egosonics.media.files import atomic_output


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
