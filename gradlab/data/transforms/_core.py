"""The transform protocol: ``Transform`` (one image, or a whole batch with per-image random parameters),
``RandomTransform`` (seeded by a ``gradlab.Generator``), ``Compose`` and ``Lambda``, and the input checks they share.

A transform is called on one sample, as torchvision's are (``t(img)``; leading dimensions of ``img`` share the
same random parameters, as in torchvision). ``t.apply_batch(batch, generator)`` takes a stack of ``N`` samples and
returns the stack of ``N`` outputs, each image with its own random parameters, in one vectorised numpy pass: this
is what the ``DataLoader``'s fast path calls, with its own generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._utils import is_tensor, numpy_rng, wrap

__all__ = ["Transform", "RandomTransform", "Compose", "Lambda"]


def to_array(x: Any, who: str) -> tuple[np.ndarray, bool]:
    """``(array, was_tensor)``: the numpy array behind a gradlab Tensor or numpy array (TypeError otherwise)."""
    if is_tensor(x):
        return np.asarray(x._data), True
    if isinstance(x, np.ndarray):
        return x, False
    raise TypeError(f"{who} expects a numpy array or a gradlab Tensor image, got {type(x).__name__}")


def like(out: np.ndarray, was_tensor: bool) -> Any:
    """``out`` as the caller gave its input: a Tensor for a Tensor, an array for an array."""
    return wrap(np.ascontiguousarray(out)) if was_tensor else out


def check_image(arr: np.ndarray, who: str, min_ndim: int = 2, float_only: bool = False) -> None:
    """ValueError/TypeError unless ``arr`` is an image ``(..., H, W)`` of a supported dtype."""
    if arr.ndim < min_ndim:
        shape = "(N, ..., H, W)" if min_ndim > 2 else "(..., H, W)"
        raise ValueError(f"{who} expects images of shape {shape} (at least {min_ndim} dimensions), got {arr.shape}")
    if float_only and arr.dtype.kind != "f":
        raise TypeError(f"{who} expects a floating-point image (use ToTensor first), got dtype {arr.dtype}")
    if arr.dtype.kind not in "fui":
        raise TypeError(f"{who} expects images of a numeric dtype (uint8, float32, ...), got dtype {arr.dtype}")


def check_prob(p: float, who: str) -> float:
    """``p`` as a float, ValueError unless it lies in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{who}: p should be a probability in [0, 1], got {p!r}")
    return float(p)


def pair(value: Any, name: str, who: str) -> tuple[int, int]:
    """An ``(h, w)`` size from an int or a 1- or 2-sequence of positive ints (torchvision's size arguments)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        h = w = int(value)
    elif isinstance(value, Sequence) and len(value) in (1, 2) and all(isinstance(v, (int, np.integer)) for v in value):
        h, w = int(value[0]), int(value[-1])
    else:
        raise ValueError(f"{who}: {name} should be an int or a sequence of 1 or 2 ints, got {value!r}")
    if h <= 0 or w <= 0:
        raise ValueError(f"{who}: {name} should be positive, got {value!r}")
    return h, w


class Transform:
    """Base class: subclasses implement ``apply(arr)`` on a numpy array (deterministic transforms) or, for random
    ones, see :class:`RandomTransform`. ``t(x)`` accepts a numpy array or a gradlab Tensor and returns the same kind.

    >>> import numpy as np
    >>> class Double(Transform):
    ...     def apply(self, arr):
    ...         return arr * 2
    >>> Double()(np.ones((2, 2))).tolist()
    [[2.0, 2.0], [2.0, 2.0]]
    """

    min_ndim = 2

    def apply(self, arr: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement apply")

    def __call__(self, x: Any) -> Any:
        arr, was_tensor = to_array(x, type(self).__name__)
        check_image(arr, type(self).__name__, self.min_ndim)
        return like(self.apply(arr), was_tensor)

    def apply_batch(self, batch: Any, generator: Any = None) -> Any:
        """The transform of each sample of ``batch`` (a stack of samples along axis 0), stacked."""
        arr, was_tensor = to_array(batch, type(self).__name__)
        check_image(arr, f"{type(self).__name__}.apply_batch", self.min_ndim + 1)
        return like(self.apply(arr), was_tensor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RandomTransform(Transform):
    """Base class of random transforms: ``sample(n, shape, rng)`` draws the parameters of ``n`` images as arrays
    (``shape`` is one image's), ``apply_params(arr, params)`` applies them to a batch ``arr`` (``N`` leading).

    The generator: ``generator=`` given to the transform, else the one ``apply_batch`` receives (the DataLoader's),
    else gradlab's default generator (``gradlab.manual_seed`` reproduces a run).

    >>> import numpy as np
    >>> from gradlab.backend import Generator
    >>> from gradlab.data.transforms import RandomHorizontalFlip
    >>> t = RandomHorizontalFlip(p=1.0)
    >>> t(np.array([[1, 2, 3]], dtype=np.uint8)).tolist()
    [[3, 2, 1]]
    """

    def __init__(self, generator: Any = None) -> None:
        numpy_rng(generator)  # TypeError now, not at the first batch
        self.generator = generator

    def sample(self, n: int, shape: tuple[int, ...], rng: np.random.Generator) -> dict[str, np.ndarray]:
        raise NotImplementedError(f"{type(self).__name__} must implement sample")

    def apply_params(self, arr: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement apply_params")

    def _rng(self, generator: Any = None) -> np.random.Generator:
        return numpy_rng(self.generator if self.generator is not None else generator)

    def apply(self, arr: np.ndarray) -> np.ndarray:  # one sample: every leading dimension shares the parameters
        params = self.sample(1, arr.shape, self._rng())
        out = self.apply_params(arr[None], params)
        return out[0]

    def apply_batch(self, batch: Any, generator: Any = None) -> Any:
        arr, was_tensor = to_array(batch, type(self).__name__)
        check_image(arr, f"{type(self).__name__}.apply_batch", self.min_ndim + 1)
        params = self.sample(arr.shape[0], arr.shape[1:], self._rng(generator))
        return like(self.apply_params(arr, params), was_tensor)


class Compose(Transform):
    """Several transforms one after the other (``torchvision.transforms.Compose``).

    >>> import numpy as np
    >>> from gradlab.data.transforms import ToTensor, Normalize
    >>> t = Compose([ToTensor(), Normalize([0.5], [0.5])])
    >>> t(np.full((2, 2), 255, dtype=np.uint8)).tolist()
    [[[1.0, 1.0], [1.0, 1.0]]]
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        if isinstance(transforms, (str, bytes)) or not isinstance(transforms, Sequence):
            raise TypeError(f"Compose expects a list of transforms, got {type(transforms).__name__}")
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform at position {i} is not callable: {t!r}")
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def apply_batch(self, batch: Any, generator: Any = None) -> Any:
        for t in self.transforms:
            batch = apply_batch(t, batch, generator)
        return batch

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class Lambda(Transform):
    """A user function as a transform (``torchvision.transforms.Lambda``). With ``batched=True`` the function also
    accepts a whole batch and ``apply_batch`` calls it once; otherwise ``apply_batch`` calls it per sample.

    >>> import numpy as np
    >>> Lambda(lambda x: x + 1)(np.zeros(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, lambd: Callable[[Any], Any], batched: bool = False) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd
        self.batched = bool(batched)

    def __call__(self, x: Any) -> Any:
        return self.lambd(x)

    def apply_batch(self, batch: Any, generator: Any = None) -> Any:
        if self.batched:
            return self.lambd(batch)
        arr, was_tensor = to_array(batch, "Lambda")
        outs = [np.asarray(getattr(o, "data", o)) for o in (self.lambd(like(a, was_tensor)) for a in arr)]
        return like(np.stack(outs), was_tensor)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.lambd, '__name__', repr(self.lambd))}, batched={self.batched})"


def apply_batch(t: Callable, batch: Any, generator: Any = None) -> Any:
    """``t.apply_batch(batch, generator)`` for gradlab transforms; a plain callable is applied per sample."""
    method = getattr(t, "apply_batch", None)
    if method is not None:
        return method(batch, generator)
    return Lambda(t).apply_batch(batch, generator)
