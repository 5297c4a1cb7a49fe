"""Random access over prepared WebDataset shards, and a deterministic sample order that resumes exactly.

Shards are indexed once (member offsets read from the tar headers) and samples are read by seeking, so any sample
can be fetched in any order. The order of training is a function of (seed, epoch) only: after a restart the trainer
asks for the same positions again, on any number of processes.
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

log = logging.getLogger(__name__)


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


def epoch_order(num_samples: int, seed: int, epoch: int) -> np.ndarray:
    """The permutation of sample indices for an epoch: a function of (seed, epoch) alone."""
    return np.random.default_rng([seed, epoch]).permutation(num_samples)


def global_batch_indices(num_samples: int, seed: int, micro_step: int, global_batch: int) -> list[int]:
    """The sample indices of global micro-batch ``micro_step`` (epochs follow one another; a partial last batch of an
    epoch is dropped so every step sees ``global_batch`` samples)."""
    per_epoch = num_samples // global_batch
    if per_epoch == 0:
        raise EgoSonicsError(f"{num_samples} samples are fewer than one global batch of {global_batch}")
    epoch, position = divmod(micro_step, per_epoch)
    order = epoch_order(num_samples, seed, epoch)
    return order[position * global_batch:(position + 1) * global_batch].tolist()
