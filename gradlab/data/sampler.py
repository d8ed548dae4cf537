"""Samplers: the orders in which ``DataLoader`` visits a map-style dataset (as ``torch.utils.data``).

Each sampler also has ``index_array()``, the whole epoch's order as one int64 numpy array, which
``DataLoader`` uses to cut batches without a Python loop over samples.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ._utils import numpy_rng, unwrap

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


class Sampler:
    """Base class: an iterable over dataset indices.

    Subclasses implement ``__iter__`` (and usually ``__len__``); overriding ``index_array`` is optional.

    >>> class EvenIndices(Sampler):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(0, self.n, 2))
    ...     def __len__(self):
    ...         return (self.n + 1) // 2
    >>> list(EvenIndices(5)), EvenIndices(5).index_array().tolist()
    ([0, 2, 4], [0, 2, 4])
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError

    def index_array(self) -> np.ndarray:
        """One epoch's indices as an int64 array (the default implementation iterates)."""
        return np.fromiter((int(i) for i in self), dtype=np.int64)

    def index_chunks(self) -> Iterator[np.ndarray]:
        """One epoch's indices as consecutive int64 arrays (default: ``index_array()`` in one piece); a sampler
        with a very long epoch yields it in pieces so that no O(epoch) array is ever built."""
        yield self.index_array()


#: How many indices a lazily drawing sampler draws at a time.
CHUNK = 1 << 16


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the dataset's indices, drawn afresh each epoch from ``generator``.

    Without replacement, ``num_samples`` larger than the dataset chains several permutations (as torch).

    >>> from gradlab.backend import Generator
    >>> sorted(RandomSampler(range(5), generator=Generator(0)))
    [0, 1, 2, 3, 4]
    """

    def __init__(
        self, data_source: Any, replacement: bool = False, num_samples: int | None = None, generator: Any = None
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def index_chunks(self) -> Iterator[np.ndarray]:
        """The epoch drawn lazily: ``CHUNK`` indices at a time with replacement, one permutation at a time
        without (so ``num_samples=10**10`` costs no memory up front, as torch)."""
        n = len(self.data_source)
        rng = numpy_rng(self.generator)
        left = self.num_samples
        while left > 0:
            if self.replacement:
                part = rng.integers(0, n, size=min(CHUNK, left), dtype=np.int64)
            else:
                part = rng.permutation(n)[:left].astype(np.int64, copy=False)
            left -= len(part)
            yield part

    def index_array(self) -> np.ndarray:
        return np.concatenate(list(self.index_chunks()))

    def __iter__(self) -> Iterator[int]:
        for part in self.index_chunks():
            yield from part.tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a new one each epoch).

    >>> sorted(SubsetRandomSampler([7, 3, 5]))
    [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator

    def index_array(self) -> np.ndarray:
        idx = np.asarray(self.indices, dtype=np.int64)
        return idx[numpy_rng(self.generator).permutation(len(idx))]

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    >>> s = WeightedRandomSampler([0.0, 1.0, 0.0], 4)
    >>> list(s)
    [1, 1, 1, 1]
    """

    def __init__(
        self, weights: Sequence[float], num_samples: int, replacement: bool = True, generator: Any = None
    ) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        w = np.asarray(unwrap(weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1-d sequence but given weights have shape {w.shape}")
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > int((w > 0).sum()):
            raise ValueError("cannot draw more samples than there are non-zero weights without replacement")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def index_array(self) -> np.ndarray:
        p = self.weights / self.weights.sum()
        rng = numpy_rng(self.generator)
        return rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p).astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    >>> list(BatchSampler(range(5), batch_size=2, drop_last=True))
    [[0, 1], [2, 3]]
    """

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def index_batches(self) -> Iterator[np.ndarray | slice]:
        """The batches as int64 arrays (or slices, for a ``SequentialSampler``), cut from one index array."""
        bs = self.batch_size
        if type(self.sampler) is SequentialSampler:
            n = len(self.sampler)
            stop = n - n % bs if self.drop_last else n
            for start in range(0, stop, bs):
                yield slice(start, min(start + bs, n))
            return
        if isinstance(self.sampler, Sampler):
            chunks = self.sampler.index_chunks()
        else:
            chunks = iter([np.fromiter((int(i) for i in self.sampler), dtype=np.int64)])
        carry = np.empty(0, dtype=np.int64)
        for part in chunks:
            order = np.concatenate([carry, part]) if len(carry) else part
            full = len(order) - len(order) % bs
            for start in range(0, full, bs):
                yield order[start : start + bs]
            carry = order[full:]
        if len(carry) and not self.drop_last:
            yield carry

    def __iter__(self) -> Iterator[list[int]]:
        for b in self.index_batches():
            if isinstance(b, slice):
                yield list(range(b.start, b.stop))
            else:
                yield b.tolist()

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
