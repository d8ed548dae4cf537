"""``TransformedDataset``: a dataset with ``transform``/``target_transform`` applied to its samples, batched in
the ``DataLoader``'s fast path (one ``apply_batch`` per batch, seeded by the loader's generator)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..dataset import Dataset
from ._core import apply_batch

__all__ = ["TransformedDataset"]


class TransformedDataset(Dataset):
    """``dataset`` with ``transform`` applied to the first element of each sample (the input) and
    ``target_transform`` to the second (the label), e.g. augmentation on a ``TensorDataset`` or a ``Subset``.

    When ``dataset`` has a batch fetcher (``TensorDataset``, ``Subset`` of one, MNIST), the ``DataLoader`` builds
    a batch with one indexing operation and then calls ``transform.apply_batch(batch, generator)`` once: each
    image gets its own random parameters, drawn from the loader's ``generator`` (unless the transform has its own),
    so the same seed gives the same batches. ``ds[i]`` applies the transform to one sample (default generator).

    >>> import numpy as np
    >>> from gradlab.backend import Generator
    >>> from gradlab.data import DataLoader, TensorDataset
    >>> from gradlab.data.transforms import RandomHorizontalFlip
    >>> base = TensorDataset(np.arange(8, dtype=np.float32).reshape(4, 1, 1, 2), np.arange(4))
    >>> ds = TransformedDataset(base, RandomHorizontalFlip(p=1.0))
    >>> [x.tolist() for x, _ in DataLoader(ds, batch_size=4)][0][0]
    [[[1.0, 0.0]]]
    """

    def __init__(self, dataset: Any, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        for name, t in (("transform", transform), ("target_transform", target_transform)):
            if t is not None and not callable(t):
                raise TypeError(f"TransformedDataset: {name} should be callable, got {type(t).__name__}")
        self.dataset = dataset
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: Any) -> Any:
        sample = self.dataset[index]
        if not isinstance(sample, (tuple, list)):
            return self.transform(sample) if self.transform is not None else sample
        items = list(sample)
        if self.transform is not None:
            items[0] = self.transform(items[0])
        if self.target_transform is not None and len(items) > 1:
            items[1] = self.target_transform(items[1])
        return tuple(items)

    def _batch_fetcher(self, generator: Any = None) -> Callable[[Any], list] | None:
        factory = getattr(self.dataset, "_batch_fetcher", None)
        inner = factory() if factory is not None else None
        if inner is None:
            return None
        transform, target_transform = self.transform, self.target_transform

        def fetch(idx: Any) -> list:
            batch = list(inner(idx))
            if transform is not None:
                batch[0] = apply_batch(transform, batch[0], generator)
            if target_transform is not None and len(batch) > 1:
                batch[1] = apply_batch(target_transform, batch[1], generator)
            return batch

        return fetch

    def __repr__(self) -> str:
        return f"TransformedDataset({self.dataset!r}, transform={self.transform!r})"
