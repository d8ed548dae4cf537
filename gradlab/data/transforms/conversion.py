"""Conversion and normalisation: ``ToTensor`` (HWC uint8 -> CHW float in [0, 1]), ``Normalize`` (per channel) and
``SubtractMean`` (the mean image, as AlexNet, or any array broadcasting against the image)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._utils import is_tensor, wrap
from ._core import Transform, check_image

__all__ = ["ToTensor", "Normalize", "SubtractMean"]

_255 = np.float32(255)


class ToTensor(Transform):
    """A numpy image ``(H, W)`` or ``(H, W, C)`` to a float32 gradlab Tensor ``(C, H, W)``; uint8 pixels are scaled
    to [0, 1], other dtypes keep their values (``torchvision.transforms.ToTensor``). ``apply_batch`` maps
    ``(N, H, W[, C])`` to ``(N, C, H, W)``.

    >>> import numpy as np
    >>> x = ToTensor()(np.array([[0, 255]], dtype=np.uint8))
    >>> tuple(x.shape), x.tolist()
    ((1, 1, 2), [[[0.0, 1.0]]])
    """

    def _convert(self, arr: np.ndarray, batched: bool) -> Any:
        if is_tensor(arr) or not isinstance(arr, np.ndarray):
            raise TypeError(f"ToTensor expects a numpy array image (H, W) or (H, W, C), got {type(arr).__name__}")
        lo = 3 if batched else 2
        if arr.ndim not in (lo, lo + 1):
            shape = "(N, H, W) or (N, H, W, C)" if batched else "(H, W) or (H, W, C)"
            raise ValueError(f"ToTensor expects an image of shape {shape}, got {arr.shape}")
        check_image(arr, "ToTensor", lo)
        if arr.ndim == lo:
            arr = arr[..., None]
        arr = np.moveaxis(arr, -1, -3)
        if arr.dtype == np.uint8:
            out = np.divide(arr, _255, dtype=np.float32)
        else:
            out = np.array(arr, dtype=np.float32 if arr.dtype.kind != "f" else arr.dtype)
        return wrap(np.ascontiguousarray(out))

    def __call__(self, pic: Any) -> Any:
        return self._convert(pic, batched=False)

    def apply_batch(self, batch: Any, generator: Any = None) -> Any:
        return self._convert(batch, batched=True)


def _channel_values(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (int, float, np.number)) and not isinstance(values, bool):
        values = [values]
    arr = np.asarray(getattr(values, "data", values), dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(f"Normalize: {name} should be a number or a non-empty 1-D sequence of finite numbers, "
                         f"got {values!r}")
    return arr


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` for each channel ``c`` of a float image ``(..., C, H, W)``
    (``torchvision.transforms.Normalize``); ``mean`` and ``std`` have one value or one per channel.

    >>> import numpy as np
    >>> Normalize([0.5], [0.25])(np.ones((1, 1, 2), dtype=np.float32)).tolist()
    [[[2.0, 2.0]]]
    """

    min_ndim = 3

    def __init__(self, mean: Sequence[float] | np.ndarray, std: Sequence[float] | np.ndarray,
                 inplace: bool = False) -> None:
        self.mean = _channel_values(mean, "mean")
        self.std = _channel_values(std, "std")
        if (self.std == 0).any():
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float64, leading to division "
                             f"by zero (std={list(self.std)})")
        if len(self.mean) != len(self.std) and 1 not in (len(self.mean), len(self.std)):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has {len(self.std)}")
        self.inplace = bool(inplace)

    def apply(self, arr: np.ndarray) -> np.ndarray:
        check_image(arr, "Normalize", 3, float_only=True)
        c = arr.shape[-3]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError(f"Normalize: {name} has {len(v)} values but the image has {c} channels "
                                 f"(shape {arr.shape}; images are (..., C, H, W))")
        mean = self.mean.astype(arr.dtype)[:, None, None]
        std = self.std.astype(arr.dtype)[:, None, None]
        if self.inplace and arr.flags.writeable:
            arr -= mean
            arr /= std
            return arr
        return (arr - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class SubtractMean(Transform):
    """``x - mean`` with ``mean`` broadcasting against one image, e.g. the ``(C, H, W)`` mean image of
    ``compute_mean_std(ds, per="pixel")`` (the AlexNet preprocessing); optionally divided by ``std``.

    >>> import numpy as np
    >>> SubtractMean(np.ones((1, 2, 2)))(np.full((1, 2, 2), 3.0)).tolist()
    [[[2.0, 2.0], [2.0, 2.0]]]
    """

    min_ndim = 2

    def __init__(self, mean: Any, std: Any = None) -> None:
        self.mean = np.asarray(getattr(mean, "data", mean), dtype=np.float64)
        self.std = None if std is None else np.asarray(getattr(std, "data", std), dtype=np.float64)
        if self.std is not None and (self.std <= 0).any():
            raise ValueError("SubtractMean: std should be positive everywhere")

    def apply(self, arr: np.ndarray) -> np.ndarray:
        check_image(arr, "SubtractMean", 2, float_only=True)
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v is not None and v.ndim and (v.ndim > arr.ndim or arr.shape[arr.ndim - v.ndim:] != v.shape):
                raise ValueError(f"SubtractMean: {name} of shape {v.shape} does not match images of shape "
                                 f"{arr.shape}")
        out = arr - self.mean.astype(arr.dtype)
        if self.std is not None:
            out /= self.std.astype(arr.dtype)
        return out

    def __repr__(self) -> str:
        return f"SubtractMean(mean shape {self.mean.shape})"

