"""Occlusion and noise: ``RandomErasing`` (a random box per image set to a value or to noise) and
``GaussianNoise`` (additive, optionally clipped to [0, 1]); both need float images ``(..., C, H, W)``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import RandomTransform, check_image, check_prob

__all__ = ["RandomErasing", "GaussianNoise"]

_ATTEMPTS = 10  # as torchvision: up to 10 tries for a box that fits, else the image is left unchanged


class RandomErasing(RandomTransform):
    """With probability ``p``, set a random box of each image to ``value`` (``torchvision.transforms.RandomErasing``):
    its area is a ``scale`` fraction of the image's, its aspect ratio log-uniform in ``ratio``; ``value`` is a number,
    one per channel, or ``"random"`` (standard normal noise).

    >>> import numpy as np
    >>> from gradlab.backend import Generator
    >>> out = RandomErasing(p=1.0, value=7.0, generator=Generator(0)).apply_batch(np.zeros((4, 1, 10, 10)))
    >>> bool((out == 7).any(axis=(1, 2, 3)).all())
    True
    """

    min_ndim = 3

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33), ratio: Sequence[float] = (0.3, 3.3),
                 value: Any = 0.0, inplace: bool = False, generator: Any = None) -> None:
        super().__init__(generator)
        self.p = check_prob(p, "RandomErasing")
        if not isinstance(scale, Sequence) or len(scale) != 2 or not 0 <= scale[0] <= scale[1] <= 1:
            raise ValueError(f"RandomErasing: scale should be an increasing range within [0, 1], got {scale!r}")
        if not isinstance(ratio, Sequence) or len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"RandomErasing: ratio should be an increasing range of positive numbers, got {ratio!r}")
        if isinstance(value, str):
            if value != "random":
                raise ValueError(f"RandomErasing: the only string value is 'random', got {value!r}")
            self.value: np.ndarray | None = None
        else:
            self.value = np.atleast_1d(np.asarray(value, dtype=np.float64))
            if self.value.ndim != 1:
                raise ValueError(f"RandomErasing: value should be a number or a sequence, got {value!r}")
        self.scale = (float(scale[0]), float(scale[1]))
        self.ratio = (float(ratio[0]), float(ratio[1]))
        self.inplace = bool(inplace)

    def sample(self, n: int, shape: tuple[int, ...], rng: np.random.Generator) -> dict[str, np.ndarray]:
        c, h, w = shape[-3:]
        if self.value is not None and len(self.value) not in (1, c):
            raise ValueError(f"RandomErasing: value should have 1 or {c} (the number of channels) values, "
                             f"got {len(self.value)}")
        apply = rng.random(n) < self.p
        area = h * w * rng.uniform(self.scale[0], self.scale[1], size=(n, _ATTEMPTS))
        aspect = np.exp(rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]), size=(n, _ATTEMPTS)))
        bh = np.round(np.sqrt(area * aspect)).astype(np.int64)
        bw = np.round(np.sqrt(area / aspect)).astype(np.int64)
        fits = (bh < h) & (bw < w)
        first = fits.argmax(axis=1)  # the first attempt that fits, as torchvision's loop
        rows = np.arange(n)
        bh, bw = bh[rows, first], bw[rows, first]
        apply &= fits.any(axis=1)
        bh, bw = np.where(apply, bh, 0), np.where(apply, bw, 0)
        top = rng.integers(0, h - bh + 1)  # uniform over the box's valid positions, per image
        left = rng.integers(0, w - bw + 1)
        params: dict[str, np.ndarray] = {"top": top, "left": left, "height": bh, "width": bw}
        if self.value is None:
            params["noise"] = rng.standard_normal((n, *shape), dtype=np.float32)
        return params

    def apply_params(self, arr: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        check_image(arr, "RandomErasing", 4, float_only=True)
        n, h, w = arr.shape[0], arr.shape[-2], arr.shape[-1]
        lead = (n,) + (1,) * (arr.ndim - 3)
        top, left = params["top"].reshape(lead + (1, 1)), params["left"].reshape(lead + (1, 1))
        bottom, right = top + params["height"].reshape(lead + (1, 1)), left + params["width"].reshape(lead + (1, 1))
        r = np.arange(h)[:, None]
        col = np.arange(w)[None, :]
        box = (r >= top) & (r < bottom) & (col >= left) & (col < right)  # (N, 1.., H, W)
        if self.value is None:
            fill: Any = params["noise"].astype(arr.dtype, copy=False)
        else:
            fill = self.value.astype(arr.dtype)[:, None, None]
        if self.inplace and arr.flags.writeable:
            np.copyto(arr, np.broadcast_to(fill, arr.shape), where=np.broadcast_to(box, arr.shape))
            return arr
        return np.where(box, fill, arr)

    def __repr__(self) -> str:
        value = "random" if self.value is None else self.value.tolist()
        return f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={value})"


class GaussianNoise(RandomTransform):
    """Add ``mean + sigma * N(0, 1)`` noise to a float image, then clip to [0, 1] when ``clip``
    (``torchvision.transforms.v2.GaussianNoise``).

    >>> import numpy as np
    >>> from gradlab.backend import Generator
    >>> out = GaussianNoise(sigma=0.1, generator=Generator(0))(np.full((1, 4, 4), 0.5, dtype=np.float32))
    >>> out.dtype, bool(((out >= 0) & (out <= 1)).all())
    (dtype('float32'), True)
    """

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip: bool = True, generator: Any = None) -> None:
        super().__init__(generator)
        if not isinstance(sigma, (int, float)) or sigma < 0:
            raise ValueError(f"GaussianNoise: sigma shouldn't be negative, got {sigma!r}")
        self.mean, self.sigma, self.clip = float(mean), float(sigma), bool(clip)

    def sample(self, n: int, shape: tuple[int, ...], rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"noise": rng.standard_normal((n, *shape), dtype=np.float32)}

    def apply_params(self, arr: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        check_image(arr, "GaussianNoise", 3, float_only=True)
        out = arr + (params["noise"].astype(arr.dtype, copy=False) * arr.dtype.type(self.sigma)
                     + arr.dtype.type(self.mean))
        if self.clip:
            np.clip(out, 0, 1, out=out)
        return out

    def __repr__(self) -> str:
        return f"GaussianNoise(mean={self.mean}, sigma={self.sigma}, clip={self.clip})"
