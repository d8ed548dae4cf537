"""Divergence guards: is every parameter (and buffer) of a model finite? Checked before each save.

The check costs one float64 sum per array (a float32 array's float64 sum cannot overflow, so it is non-finite
exactly when an element is NaN or infinite; float64 arrays fall back to ``np.isfinite(...).all()``), done once per
checkpoint or save, never per batch.

>>> from gradlab import nn
>>> m = nn.Linear(2, 1)
>>> first_nonfinite(m) is None
True
>>> m.weight.data[0, 0] = float("inf")
>>> check_finite(m, "after epoch 3 (step 120)")
Traceback (most recent call last):
FloatingPointError: parameter 'weight' holds NaN or infinite values after epoch 3 (step 120): training diverged \
(try a lower learning rate, gradient clipping or normalised inputs); nothing was saved
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["first_nonfinite", "check_finite", "ON_NAN_CHOICES", "check_on_nan"]

#: What :func:`gradlab.train.fit` does when the loss, the gradients or the weights stop being finite.
ON_NAN_CHOICES = ("raise", "stop", "skip-batch")


def check_on_nan(on_nan: str) -> str:
    """``on_nan`` if it is one of :data:`ON_NAN_CHOICES`, else ValueError.

    >>> check_on_nan("stop")
    'stop'
    """
    if on_nan not in ON_NAN_CHOICES:
        raise ValueError(f"on_nan must be one of {', '.join(map(repr, ON_NAN_CHOICES))}, got {on_nan!r}")
    return on_nan


def _finite(a: Any) -> bool:
    """Whether array ``a`` (numpy, or any array with numpy's methods and ufunc support) is all finite."""
    if a.dtype.kind not in "fc" or a.size == 0:
        return True
    with np.errstate(all="ignore"):  # inf - inf in the sum: the answer, not a warning
        if a.dtype.itemsize <= 4 and a.dtype.kind == "f":
            return math.isfinite(float(a.sum(dtype=np.float64)))
        return bool(np.isfinite(a).all())


def first_nonfinite(model: Any) -> str | None:
    """The name of the first entry of ``model.state_dict()`` holding a NaN or an infinity, or ``None``.

    >>> from gradlab import nn
    >>> first_nonfinite(nn.Linear(2, 2)) is None
    True
    """
    for name, value in model.state_dict().items():
        arr = getattr(value, "_data", value)
        if not _finite(arr if hasattr(arr, "dtype") else np.asarray(arr)):
            return str(name)
    return None


def check_finite(model: Any, where: str) -> None:
    """Raise FloatingPointError naming the parameter and ``where`` (e.g. the epoch and step) when the model holds a
    non-finite value; return quietly otherwise.

    >>> from gradlab import nn
    >>> check_finite(nn.Linear(2, 2), "after epoch 1")
    """
    name = first_nonfinite(model)
    if name is not None:
        raise FloatingPointError(
            f"parameter {name!r} holds NaN or infinite values {where}: training diverged (try a lower learning "
            "rate, gradient clipping or normalised inputs); nothing was saved")
