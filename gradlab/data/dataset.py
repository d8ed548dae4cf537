"""Datasets: the map-style ``Dataset`` protocol, ``TensorDataset``, ``Subset``, ``ConcatDataset`` and ``random_split``.

The names and semantics follow ``torch.utils.data``.

A dataset may also offer a *batch fetcher*, an optional gradlab extension that ``DataLoader`` uses to build a
whole batch with one vectorised numpy operation instead of one ``__getitem__`` call per sample::

    def _batch_fetcher(self):
        # Return None (no fast path), or a function taking an int64 index array (or a slice)
        # and returning the collated batch, e.g. [X_batch, y_batch] as Tensors.

``TensorDataset``, ``Subset`` (when its dataset has one) and the MNIST datasets provide it.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ._utils import is_tensor, numpy_rng, wrap

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]

BatchFetcher = Callable[[Any], list]


class Dataset:
    """A map-style dataset: subclasses implement ``__getitem__(index)`` and ``__len__()``.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return i * i
    >>> ds = Squares()
    >>> len(ds), ds[3]
    (4, 9)
    >>> len(ds + ds)
    8
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        # TypeError (not NotImplementedError), as len() of an object without __len__: list(stream) still works
        raise TypeError(f"{type(self).__name__} has no length: map-style datasets must implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream of samples: subclasses implement ``__iter__``.

    ``DataLoader`` groups consecutive samples into batches (no shuffling, no sampler).

    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> list(Count())
    [0, 1, 2, 3, 4]
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index: Any) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead of indexing")

    def __add__(self, other: Any) -> Any:
        raise TypeError("an IterableDataset cannot be concatenated with +")


class TensorDataset(Dataset):
    """A dataset of tensors that share their first dimension: sample ``i`` is ``(t[i] for t in tensors)``.

    Numpy arrays are accepted and wrapped as Tensors without copying. ``DataLoader`` builds a batch from a
    ``TensorDataset`` by fancy-indexing the underlying arrays once per batch (no per-sample Python loop).

    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
    >>> len(ds)
    3
    >>> x, y = ds[1]
    >>> x.tolist(), y.item()
    ([2.0, 3.0], 1)
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        converted = []
        for i, t in enumerate(tensors):
            if not is_tensor(t):
                if isinstance(t, np.ndarray):
                    t = wrap(t)
                else:
                    raise TypeError(
                        f"TensorDataset expects Tensors or numpy arrays, got {type(t).__name__} at position {i}"
                    )
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor at position {i} is 0-dimensional; it needs a first dimension")
            converted.append(t)
        sizes = [int(t.shape[0]) for t in converted]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(
                f"Size mismatch between tensors: TensorDataset needs equal first dimensions, got sizes {sizes} "
                f"(shapes {[tuple(t.shape) for t in converted]})"
            )
        self.tensors: tuple = tuple(converted)

    def __getitem__(self, index: Any) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def _batch_fetcher(self) -> BatchFetcher:
        tensors = self.tensors

        def fetch(idx: Any) -> list:
            out = []
            for t in tensors:
                if t.requires_grad:
                    # keep the graph: a differentiable gather through Tensor indexing
                    out.append(t[idx])
                elif isinstance(idx, slice):
                    out.append(wrap(t._data[idx].copy()))
                else:
                    out.append(wrap(t._data[idx]))  # fancy indexing already returns a fresh array
            return out

        return fetch

    def __repr__(self) -> str:
        return f"TensorDataset({', '.join(str(tuple(t.shape)) for t in self.tensors)})"


class Subset(Dataset):
    """The samples of ``dataset`` at positions ``indices``, in that order.

    >>> ds = Subset(list("abcdef"), [4, 0, 2])
    >>> len(ds), ds[0], ds[[1, 2]]
    (3, 'e', ['a', 'c'])
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            items = [self.indices[i] for i in idx]
            try:
                return self.dataset[items]
            except TypeError:
                return [self.dataset[i] for i in items]
        return self.dataset[int(self.indices[idx]) if _is_int(idx) else self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)

    def _batch_fetcher(self) -> BatchFetcher | None:
        inner_factory = getattr(self.dataset, "_batch_fetcher", None)
        if inner_factory is None:
            return None
        inner = inner_factory()
        if inner is None:
            return None
        index = np.asarray(self.indices, dtype=np.int64)  # one conversion per epoch, not per batch

        def fetch(idx: Any) -> list:
            return inner(index[idx])

        return fetch

    def __repr__(self) -> str:
        return f"Subset({type(self.dataset).__name__}, {len(self)} of {_safe_len(self.dataset)} samples)"


class ConcatDataset(Dataset):
    """Several datasets one after the other.

    >>> ds = ConcatDataset([[1, 2], [3, 4, 5]])
    >>> len(ds), ds[2], ds[-1], ds.cumulative_sizes
    (5, 3, 5, [2, 5])
    """

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise IndexError(f"index {idx} is out of range for a dataset of length {n}")
            idx += n
        if idx >= n:
            raise IndexError(f"index {idx} is out of range for a dataset of length {n}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[d - 1] if d > 0 else 0
        return self.datasets[d][idx - start]


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Any = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping ``Subset`` s of the given lengths (as ``torch``).

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1: each split gets
    ``floor(frac * len(dataset))`` samples and the remainder is dealt out one by one, round-robin from the first.
    ``generator`` (a ``gradlab.Generator``; default: the default generator) makes the split reproducible.

    >>> from gradlab.backend import Generator
    >>> a, b = random_split(range(10), [0.7, 0.3], generator=Generator(0))
    >>> len(a), len(b), sorted(list(a) + list(b)) == list(range(10))
    (7, 3, True)
    """
    lengths = list(lengths)
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        sizes: list[int] = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(math.floor(n * frac))
        remainder = n - sum(sizes)
        for i in range(remainder):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=2
                )
        lengths = sizes
    for i, entry in enumerate(lengths):
        if not _is_int(entry) or entry < 0:
            raise ValueError(
                f"random_split: lengths must be non-negative integers summing to len(dataset) = {n}, or fractions "
                f"summing to 1; got {lengths!r} (sum {total:g}), bad entry {entry!r} at index {i}"
            )
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input dataset ({n})!")
    perm = numpy_rng(generator).permutation(n).tolist()
    out = []
    offset = 0
    for entry in lengths:
        out.append(Subset(dataset, perm[offset : offset + int(entry)]))
        offset += int(entry)
    return out


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _safe_len(d: Any) -> Any:
    try:
        return len(d)
    except Exception:  # noqa: BLE001
        return "?"
