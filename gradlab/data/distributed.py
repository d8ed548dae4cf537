"""``DistributedSampler``: each rank's share of a dataset, as ``torch.utils.data.distributed.DistributedSampler``.

Every rank draws the same permutation (seeded with ``seed + epoch``), pads it by repeating its head to a multiple of
the number of replicas (or, with ``drop_last``, cuts the tail), and takes every ``num_replicas``-th index from
``rank``. The permutation is torch's own: torch's CPU ``randperm`` (a swap per position driven by the 32-bit outputs
of MT19937 seeded with ``seed + epoch``) replayed on numpy's ``RandomState``, which is the same MT19937, so a
gradlab job and a torch job with the same seed visit the same samples in the same order.

>>> s = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
>>> list(s), len(s)
([1, 4, 7, 0], 4)
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler", "torch_randperm"]


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))``, as an int64 numpy array.

    The swaps depend on one another, so they run as a loop over ``n`` plain ints (30-80 ms for 60,000: once per
    epoch, not per batch).

    >>> sorted(torch_randperm(5, 0).tolist())
    [0, 1, 2, 3, 4]
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    perm = list(range(n))
    if n < 2:
        return np.asarray(perm, dtype=np.int64)
    rs = np.random.RandomState(seed & 0xFFFFFFFF)
    if n < (2**32 - 1) // 20:
        draws = rs.randint(0, 2**32, size=n - 1, dtype=np.uint32).astype(np.int64)
    else:  # torch switches to 64-bit draws (hi << 32 | lo) for huge n
        words = rs.randint(0, 2**32, size=2 * (n - 1), dtype=np.uint32).astype(np.uint64)
        draws_u = (words[0::2] << np.uint64(32)) | words[1::2]
        draws = (draws_u % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
        targets = (draws + np.arange(n - 1)).tolist()
        return _swaps(perm, targets)
    targets = (draws % np.arange(n, 1, -1, dtype=np.int64) + np.arange(n - 1, dtype=np.int64)).tolist()
    return _swaps(perm, targets)


def _swaps(perm: list[int], targets: list[int]) -> np.ndarray:
    for i, j in enumerate(targets):
        perm[i], perm[j] = perm[j], perm[i]
    return np.asarray(perm, dtype=np.int64)


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` visits this epoch (call ``set_epoch``).

    Args:
        dataset: anything with ``len``.
        num_replicas, rank: default: the default process group's world size and rank.
        shuffle: a permutation seeded by ``seed + epoch`` (the same on every rank), else ``0 .. n-1``.
        seed: shared by all ranks.
        drop_last: drop the tail so every rank gets ``floor(n / num_replicas)`` samples; else pad by repeating
            indices from the start so every rank gets ``ceil(n / num_replicas)``.

    >>> s = DistributedSampler(range(7), num_replicas=2, rank=0, shuffle=True, seed=0)
    >>> len(s), sorted(set(s.index_array().tolist()) | set(DistributedSampler(range(7), 2, 1).index_array().tolist()))
    (4, [0, 1, 2, 3, 4, 5, 6])
    >>> s.set_epoch(1); len(list(s))
    4
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from gradlab.distributed import get_rank, get_world_size

            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        for name, v in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise TypeError(f"{name} must be an int, got {v!r}")
        if num_replicas < 1:
            raise ValueError(f"num_replicas must be at least 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def index_array(self) -> np.ndarray:
        """This rank's indices for the current epoch, as int64."""
        n = len(self.dataset)
        if self.shuffle:
            indices = torch_randperm(n, self.seed + self.epoch)
        else:
            indices = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                if n == 0:
                    raise ValueError("DistributedSampler: the dataset is empty")
                indices = np.concatenate([indices, np.resize(indices, pad)])
        else:
            indices = indices[: self.total_size]
        return indices[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``seed + epoch`` for the next permutation (call it at the start of every epoch, on every rank)."""
        self.epoch = int(epoch)
