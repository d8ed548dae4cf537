"""Geometric transforms: ``Pad``, ``CenterCrop``, ``Resize`` (deterministic) and ``RandomCrop``,
``RandomHorizontalFlip``, ``RandomVerticalFlip`` (per-image random parameters in ``apply_batch``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import RandomTransform, Transform, check_prob, pair
from .functional import PAD_MODES, center_crop, crop_batch, hflip_batch, pad, parse_padding, resize, vflip_batch

__all__ = ["Pad", "CenterCrop", "Resize", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip"]

INTERPOLATIONS = ("nearest", "bilinear")


def _check_mode(padding_mode: str, who: str) -> str:
    if padding_mode not in PAD_MODES:
        raise ValueError(f"{who}: padding_mode should be one of {sorted(PAD_MODES)}, got {padding_mode!r}")
    return padding_mode


def interpolation_name(interpolation: Any, who: str) -> str:
    """``'nearest'``/``'bilinear'`` from a string or an enum whose value is one (torchvision's InterpolationMode)."""
    name = str(getattr(interpolation, "value", interpolation)).lower()
    if name not in INTERPOLATIONS:
        raise ValueError(f"{who}: interpolation should be one of {INTERPOLATIONS}, got {interpolation!r}")
    return name


class Pad(Transform):
    """Pad the image's borders (``torchvision.transforms.Pad``): ``padding`` is an int, ``(left/right,
    top/bottom)`` or ``(left, top, right, bottom)``; ``padding_mode`` constant (with ``fill``), edge, reflect or
    symmetric.

    >>> import numpy as np
    >>> Pad(1)(np.ones((1, 1), dtype=np.uint8)).tolist()
    [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    """

    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        self.padding = parse_padding(padding, "Pad")
        self.fill = fill
        self.padding_mode = _check_mode(padding_mode, "Pad")

    def apply(self, arr: np.ndarray) -> np.ndarray:
        return pad(arr, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return f"Pad(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class CenterCrop(Transform):
    """The central ``size`` box (``torchvision.transforms.CenterCrop``; zero-padded when the image is smaller).

    >>> import numpy as np
    >>> CenterCrop(1)(np.arange(9).reshape(3, 3)).tolist()
    [[4]]
    """

    def __init__(self, size: Any) -> None:
        self.size = pair(size, "size", "CenterCrop")

    def apply(self, arr: np.ndarray) -> np.ndarray:
        return center_crop(arr, self.size)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class Resize(Transform):
    """Resize to ``size`` (``torchvision.transforms.v2.Resize``): ``(h, w)``, or an int for the smaller edge
    (the other keeps the aspect ratio, capped by ``max_size``); bilinear (antialiased when shrinking, by default)
    or nearest.

    >>> import numpy as np
    >>> Resize((2, 4))(np.ones((1, 2, 2), dtype=np.float32)).shape
    (1, 2, 4)
    """

    def __init__(self, size: Any, interpolation: Any = "bilinear", max_size: int | None = None,
                 antialias: bool = True) -> None:
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            if size <= 0:
                raise ValueError(f"Resize: size should be positive, got {size}")
            self.size: int | tuple[int, int] = int(size)
        else:
            self.size = pair(size, "size", "Resize")
            if max_size is not None:
                raise ValueError("Resize: max_size is only allowed when size is an int (the smaller edge)")
        if max_size is not None and (not isinstance(size, int) or max_size <= size):
            raise ValueError(f"Resize: max_size = {max_size} must be strictly greater than size = {size}")
        self.max_size = max_size
        self.interpolation = interpolation_name(interpolation, "Resize")
        self.antialias = bool(antialias)

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """The ``(h, w)`` an image of ``(h, w)`` is resized to."""
        if isinstance(self.size, tuple):
            return self.size
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = self.size, int(self.size * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)

    def apply(self, arr: np.ndarray) -> np.ndarray:
        return resize(arr, self.output_size(*arr.shape[-2:]), self.interpolation, self.antialias)

    def __repr__(self) -> str:
        return f"Resize(size={self.size}, interpolation={self.interpolation}, antialias={self.antialias})"


class RandomCrop(RandomTransform):
    """A random ``size`` box (``torchvision.transforms.RandomCrop``), after optional ``padding`` (as ``Pad``);
    ``pad_if_needed`` pads images smaller than ``size``. Offsets are uniform over the valid positions.

    >>> import numpy as np
    >>> from gradlab.backend import Generator
    >>> t = RandomCrop(28, padding=4, generator=Generator(0))
    >>> t.apply_batch(np.zeros((5, 1, 28, 28), dtype=np.float32)).shape
    (5, 1, 28, 28)
    """

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False, fill: Any = 0,
                 padding_mode: str = "constant", generator: Any = None) -> None:
        super().__init__(generator)
        self.size = pair(size, "size", "RandomCrop")
        self.padding = None if padding is None else parse_padding(padding, "RandomCrop")
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = fill
        self.padding_mode = _check_mode(padding_mode, "RandomCrop")

    def _padding(self, h: int, w: int) -> tuple[int, int, int, int]:
        left, top, right, bottom = self.padding or (0, 0, 0, 0)
        th, tw = self.size
        if self.pad_if_needed:
            ph, pw = h + top + bottom, w + left + right
            if ph < th:
                top, bottom = top + th - ph, bottom + th - ph
            if pw < tw:
                left, right = left + tw - pw, right + tw - pw
        return left, top, right, bottom

    def sample(self, n: int, shape: tuple[int, ...], rng: np.random.Generator) -> dict[str, np.ndarray]:
        left, top, right, bottom = self._padding(*shape[-2:])
        h, w = shape[-2] + top + bottom, shape[-1] + left + right
        th, tw = self.size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the (padded) input image "
                             f"size {(h, w)}")
        return {"top": rng.integers(0, h - th + 1, size=n), "left": rng.integers(0, w - tw + 1, size=n)}

    def apply_params(self, arr: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        ltrb = self._padding(*arr.shape[-2:])
        if any(ltrb):
            arr = pad(arr, ltrb, self.fill, self.padding_mode)
        return crop_batch(arr, params["top"], params["left"], *self.size)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding}, padding_mode={self.padding_mode})"


class RandomHorizontalFlip(RandomTransform):
    """Mirror left-right with probability ``p`` (``torchvision.transforms.RandomHorizontalFlip``).

    >>> import numpy as np
    >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2]])).tolist()
    [[2, 1]]
    """

    def __init__(self, p: float = 0.5, generator: Any = None) -> None:
        super().__init__(generator)
        self.p = check_prob(p, type(self).__name__)

    def sample(self, n: int, shape: tuple[int, ...], rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"flip": rng.random(n) < self.p}

    def apply_params(self, arr: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        return hflip_batch(arr, params["flip"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p`` (``torchvision.transforms.RandomVerticalFlip``).

    >>> import numpy as np
    >>> RandomVerticalFlip(p=1.0)(np.array([[1], [2]])).tolist()
    [[2], [1]]
    """

    def apply_params(self, arr: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        return vflip_batch(arr, params["flip"])
