"""The order of training samples: a function of (seed, epoch) only, so that a run resumes exactly.

After a restart the trainer asks for the same positions again, on any number of processes. The samples themselves
are read by ``preprocess.shards.ShardDataset``.
"""

from __future__ import annotations

import numpy as np

from egosonics.errors import EgoSonicsError


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
