"""``default_collate`` and ``default_convert``: how ``DataLoader`` turns a list of samples into a batch (as torch)."""

from __future__ import annotations

import collections.abc
from typing import Any

import numpy as np

from ._utils import is_tensor, wrap

__all__ = ["default_collate", "default_convert"]

_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _ctor(obj: Any) -> Any:
    """The type of ``obj``, to rebuild a container of the same kind."""
    return type(obj)


def _stack_tensors(batch: list) -> Any:
    shapes = [tuple(t.shape) for t in batch]
    for i, s in enumerate(shapes):
        if s != shapes[0]:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shapes[0])} at entry 0 "
                f"and {list(s)} at entry {i}"
            )
    if any(t.requires_grad for t in batch):
        from .. import stack  # differentiable stack from the core

        return stack(batch)
    return wrap(np.stack([t._data for t in batch]))


def default_collate(batch: list) -> Any:
    """Merge a list of samples into a batch, recursively (same rules as ``torch.utils.data.default_collate``).

    Tensors and numpy arrays are stacked along a new first dimension; Python ``int`` s become an int64 Tensor,
    ``float`` s a float64 Tensor, ``bool`` s a bool Tensor and numpy scalars keep their dtype; strings stay a list;
    dicts, tuples and lists are collated field by field (a tuple sample gives a list of batched fields).

    >>> import numpy as np
    >>> xb, yb = default_collate([(np.zeros(3, dtype=np.float32), 1), (np.ones(3, dtype=np.float32), 0)])
    >>> xb.shape, str(xb.dtype), yb.tolist(), str(yb.dtype)
    (gradlab.Size([2, 3]), 'float32', [1, 0], 'int64')
    >>> default_collate([{"a": 1.5}, {"a": 2.5}])["a"].tolist()
    [1.5, 2.5]
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        batch = list(batch)
    if len(batch) == 0:
        raise ValueError("default_collate: cannot collate an empty batch")
    elem = batch[0]
    if is_tensor(elem):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "SUOV":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        shapes = [np.shape(a) for a in batch]
        for i, s in enumerate(shapes):
            if s != shapes[0]:
                raise RuntimeError(
                    f"stack expects each array to be equal size, but got {list(shapes[0])} at entry 0 "
                    f"and {list(s)} at entry {i}"
                )
        return wrap(np.stack(batch))
    if isinstance(elem, np.generic):
        if elem.dtype.kind in "SUOV":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return wrap(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return _ctor(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return _ctor(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [list(samples) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        try:
            return _ctor(elem)([default_collate(samples) for samples in transposed])
        except TypeError:
            return [default_collate(samples) for samples in transposed]
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Turn numpy arrays (and numpy scalars) into Tensors, recursively; leave everything else as is.

    ``DataLoader`` applies it to each sample when ``batch_size=None`` (automatic batching off).

    >>> import numpy as np
    >>> out = default_convert({"x": np.arange(3), "name": "a"})
    >>> out["x"].tolist(), out["name"]
    ([0, 1, 2], 'a')
    """
    if is_tensor(data):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "SUOV" else wrap(data)
    if isinstance(data, np.generic):
        return data if data.dtype.kind in "SUOV" else wrap(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return _ctor(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return _ctor(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return _ctor(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
