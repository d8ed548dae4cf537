"""``DataLoader``: batches (and shuffles) a dataset, with the ``torch.utils.data.DataLoader`` interface.

Speed: when the dataset offers a batch fetcher (``TensorDataset``, a ``Subset`` of one, ``MNIST`` without
transforms; see :mod:`gradlab.data.dataset`) and no ``collate_fn`` is given, each batch is one fancy-indexing
operation on the underlying numpy arrays, and the shuffled order is one ``permutation`` per epoch. Other datasets
fall back to ``dataset[i]`` per sample followed by ``collate_fn`` (``default_collate`` by default).

Batches are always fresh arrays: changing a batch in place never changes the dataset.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..devices import as_device
from ..tensor import Tensor
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader"]


def _to_device(batch: Any, device: Any) -> Any:
    """``batch`` with every Tensor in it (through tuples, lists and dicts) moved to ``device``."""
    if isinstance(batch, Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return type(batch)((k, _to_device(v, device)) for k, v in batch.items())
    if isinstance(batch, (list, tuple)) and not hasattr(batch, "_fields"):
        return type(batch)(_to_device(v, device) for v in batch)
    if isinstance(batch, tuple):  # a namedtuple
        return type(batch)(*(_to_device(v, device) for v in batch))
    return batch


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args (as torch):
        dataset: a map-style dataset (``__getitem__`` + ``__len__``) or an ``IterableDataset``.
        batch_size: samples per batch (default 1); ``None`` turns batching off (each sample is yielded alone).
        shuffle: a new random order every epoch, drawn from ``generator`` (default: gradlab's default generator,
            so ``gradlab.manual_seed`` reproduces the order).
        sampler / batch_sampler: custom index orders (mutually exclusive with ``shuffle``; ``batch_sampler`` also
            with ``batch_size``, ``drop_last`` and ``sampler``).
        num_workers: accepted for compatibility; loading always happens in the calling process.
        collate_fn: merges a list of samples into a batch (default ``default_collate``).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator: a ``gradlab.Generator`` for the shuffled order (and for the random transforms of a
            ``data.transforms.TransformedDataset``, applied per batch).
        device: (gradlab's addition) move every batch there, tensors inside tuples, lists and dicts included
            (``device="cuda"`` saves the ``.to(device)`` of each batch in the training loop).

    ``len(loader)`` is the number of batches per epoch.

    >>> import numpy as np
    >>> from gradlab.backend import Generator
    >>> from gradlab.data import TensorDataset
    >>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
    >>> loader = DataLoader(ds, batch_size=2)
    >>> len(loader)
    3
    >>> [y.tolist() for _, y in loader]
    [[0, 1], [2, 3], [4]]
    >>> a = [y.tolist() for _, y in DataLoader(ds, batch_size=2, shuffle=True, generator=Generator(1))]
    >>> b = [y.tolist() for _, y in DataLoader(ds, batch_size=2, shuffle=True, generator=Generator(1))]
    >>> a == b, sorted(sum(a, []))
    (True, [0, 1, 2, 3, 4])
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        device: Any = None,
    ) -> None:
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if num_workers > 0:
            warnings.warn(
                f"gradlab's DataLoader loads batches in the main process; num_workers={num_workers} is ignored",
                stacklevel=2,
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self.pin_memory_device = pin_memory_device
        self.device = None if device is None else as_device(device)
        self._is_iterable = isinstance(dataset, IterableDataset)

        if self._is_iterable:
            if shuffle not in (None, False):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError(
                    "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
                )
        elif not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        else:
            batch_size = int(batch_size)

        if sampler is None and not self._is_iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        self._own_batch_sampler = False
        if batch_size is not None and batch_sampler is None and not self._is_iterable:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))
            self._own_batch_sampler = True

        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (self._is_iterable and batch_size is not None)
        self._custom_collate = collate_fn is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    # ------------------------------------------------------------------ iteration
    def __iter__(self) -> Iterator[Any]:
        if self._is_iterable:
            it = self._iter_iterable()
        elif not self._auto_collation:
            it = self._iter_unbatched()
        else:
            it = self._iter_batches()
        if self.device is None or self.device.type == "cpu":
            return it
        return (_to_device(batch, self.device) for batch in it)

    def _fast_fetcher(self) -> Callable[[Any], Any] | None:
        if self._custom_collate:
            return None
        factory = getattr(self.dataset, "_batch_fetcher", None)
        if factory is None:
            return None
        # a fetcher that takes a generator (random transforms: data.transforms.TransformedDataset) gets the loader's
        if "generator" in inspect.signature(factory).parameters:
            return factory(generator=self.generator)
        return factory()

    def _iter_batches(self) -> Iterator[Any]:
        dataset = self.dataset
        collate = self.collate_fn
        fetch = self._fast_fetcher()
        if fetch is not None:
            if self._own_batch_sampler or isinstance(self.batch_sampler, BatchSampler):
                for idx in self.batch_sampler.index_batches():
                    yield fetch(idx)
            else:
                for indices in self.batch_sampler:
                    yield fetch(np.asarray(indices, dtype=np.int64))
            return
        getitems = getattr(dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            if getitems is not None:
                samples = getitems(list(indices))
            else:
                samples = [dataset[i] for i in indices]
            yield collate(samples)

    def _iter_unbatched(self) -> Iterator[Any]:
        dataset = self.dataset
        convert = self.collate_fn
        for i in self.sampler:
            yield convert(dataset[i])

    def _iter_iterable(self) -> Iterator[Any]:
        convert = self.collate_fn
        if self.batch_size is None:
            for sample in self.dataset:
                yield convert(sample)
            return
        batch: list = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield convert(batch)
                batch = []
        if batch and not self.drop_last:
            yield convert(batch)

    def __len__(self) -> int:
        if self._is_iterable:
            n = len(self.dataset)  # TypeError/NotImplementedError when the stream has no length
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={isinstance(self.sampler, RandomSampler)}, drop_last={self.drop_last})"
        )
