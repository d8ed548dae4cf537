"""Data helpers on label tensors: ``one_hot`` (as ``torch.nn.functional.one_hot``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._utils import is_tensor, wrap

__all__ = ["one_hot"]


def one_hot(tensor: Any, num_classes: int = -1) -> Any:
    """One-hot encode integer class labels: a ``shape + (num_classes,)`` int64 Tensor of zeros and ones.

    ``num_classes=-1`` uses ``max(tensor) + 1``. Labels must be integers in ``[0, num_classes)``.
    Accepts a gradlab Tensor or anything numpy can turn into an integer array. Not differentiable (as torch).

    >>> import gradlab
    >>> one_hot(gradlab.tensor([0, 2, 1])).tolist()
    [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    >>> one_hot(gradlab.tensor([1]), num_classes=4).tolist()
    [[0, 1, 0, 0]]
    """
    arr = tensor._data if is_tensor(tensor) else np.asarray(tensor)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensors (integer dtype), got dtype {arr.dtype}")
    if not isinstance(num_classes, (int, np.integer)) or isinstance(num_classes, bool):
        raise TypeError(f"num_classes must be an int, got {type(num_classes).__name__}")
    num_classes = int(num_classes)
    if arr.size and int(arr.min()) < 0:
        raise ValueError(f"Class values must be non-negative, got {int(arr.min())}")
    if num_classes == -1:
        if arr.size == 0:
            raise ValueError("Can not infer total number of classes from empty tensor.")
        num_classes = int(arr.max()) + 1
    elif num_classes < 0:
        raise ValueError(f"num_classes must be -1 or non-negative, got {num_classes}")
    elif arr.size and int(arr.max()) >= num_classes:
        raise ValueError(f"Class values must be smaller than num_classes ({num_classes}), got {int(arr.max())}")
    out = np.zeros(arr.shape + (num_classes,), dtype=np.int64)
    if arr.size:
        np.put_along_axis(out, arr.astype(np.int64)[..., None], 1, axis=-1)
    return wrap(out)
