"""Affine warps: the batched kernel ``affine_batch`` (one gather for all images, nearest or bilinear, as
torchvision's ``affine`` on tensors) and ``RandomAffine`` (rotation, translation, scale, shear per image)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import RandomTransform
from .geometry import interpolation_name

__all__ = ["inverse_affine_matrix", "affine_batch", "RandomAffine"]


def inverse_affine_matrix(angle: Any, translate: Any, scale: Any, shear: Any = (0.0, 0.0)) -> np.ndarray:
    """The ``(N, 2, 3)`` output->input pixel maps (about the image centre) of ``N`` affine warps given as arrays:
    ``angle`` (degrees, clockwise in the displayed image), ``translate`` ``(N, 2)`` pixels, ``scale``,
    ``shear`` ``(N, 2)`` degrees; torchvision's ``_get_inverse_affine_matrix`` vectorised.

    >>> (inverse_affine_matrix([0.0], [[1.0, 0.0]], [1.0]).round(6) + 0.0).tolist()
    [[[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]]
    """
    angle = np.atleast_1d(np.asarray(angle, dtype=np.float64))
    n = angle.shape[0]
    translate = np.broadcast_to(np.asarray(translate, dtype=np.float64), (n, 2))
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,))
    shear = np.broadcast_to(np.asarray(shear, dtype=np.float64), (n, 2))
    rot, sx, sy = np.radians(angle), np.radians(shear[:, 0]), np.radians(shear[:, 1])
    a = np.cos(rot - sy) / np.cos(sy)
    b = -(a * np.tan(sx) + np.sin(rot))
    c = np.sin(rot - sy) / np.cos(sy)
    d = np.cos(rot) - c * np.tan(sx)
    m = np.stack([d / scale, -b / scale, np.zeros(n), -c / scale, a / scale, np.zeros(n)], axis=1)
    tx, ty = translate[:, 0], translate[:, 1]
    m[:, 2] -= m[:, 0] * tx + m[:, 1] * ty
    m[:, 5] -= m[:, 3] * tx + m[:, 4] * ty
    return m.reshape(n, 2, 3)


def affine_batch(arr: np.ndarray, matrix: np.ndarray, interpolation: str = "nearest", fill: Any = 0) -> np.ndarray:
    """Warp image ``n`` of ``arr`` ``(N, ..., H, W)`` by ``matrix[n]`` (output pixel -> input pixel, coordinates
    about the image centre), zero padding blended with ``fill`` as torchvision's tensor ``affine``.

    >>> x = np.arange(4.0).reshape(1, 1, 2, 2)
    >>> affine_batch(x, inverse_affine_matrix([180.0], [[0, 0]], [1.0])).tolist()
    [[[[3.0, 2.0], [1.0, 0.0]]]]
    """
    n = arr.shape[0]
    h, w = arr.shape[-2:]
    ftype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
    # the pixel centres about the image centre, mapped through each matrix (in the image's float type, as torch)
    xs = np.linspace((1.0 - w) * 0.5, (w - 1.0) * 0.5, w, dtype=ftype)
    ys = np.linspace((1.0 - h) * 0.5, (h - 1.0) * 0.5, h, dtype=ftype)
    m = matrix.astype(ftype)
    half = np.array([0.5 * w, 0.5 * h], dtype=ftype)
    theta = m.transpose(0, 2, 1) / half  # (N, 3, 2): torch's rescaled theta, normalised coordinates
    gx = xs[None, None, :] * theta[:, 0, 0, None, None] + ys[None, :, None] * theta[:, 1, 0, None, None]
    gx = gx + theta[:, 2, 0, None, None]
    gy = xs[None, None, :] * theta[:, 0, 1, None, None] + ys[None, :, None] * theta[:, 1, 1, None, None]
    gy = gy + theta[:, 2, 1, None, None]
    ix = ((gx + 1) * w - 1) / 2  # grid_sample's unnormalisation, align_corners=False: (N, H, W) input pixels
    iy = ((gy + 1) * h - 1) / 2
    flat = arr.reshape(n, -1, h * w)  # (N, C, H*W): one gather per corner for all images and channels
    if interpolation == "nearest":
        jx, jy = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        inside = (jx >= 0) & (jx < w) & (jy >= 0) & (jy < h)
        idx = np.where(inside, jy * w + jx, 0).reshape(n, 1, h * w)
        out = np.take_along_axis(flat, idx, axis=2).astype(ftype, copy=False)
        fill_v = _fill(fill, out.shape[1], ftype)
        out = np.where(inside.reshape(n, 1, h * w), out, fill_v)
    else:
        x0f, y0f = np.floor(ix), np.floor(iy)
        fx, fy = ix - x0f, iy - y0f
        x0, y0 = x0f.astype(np.int64), y0f.astype(np.int64)
        out = np.zeros((n, flat.shape[1], h * w), dtype=ftype)
        mask = np.zeros((n, 1, h * w), dtype=ftype)
        for dy, dx, wt in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
            cx, cy = x0 + dx, y0 + dy
            ok = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
            wt = np.where(ok, wt, 0).reshape(n, 1, h * w).astype(ftype, copy=False)
            idx = np.where(ok, cy * w + cx, 0).reshape(n, 1, h * w)
            out += np.take_along_axis(flat, idx, axis=2) * wt
            mask += wt
        fill_v = _fill(fill, out.shape[1], ftype)
        out = (out - fill_v) * mask + fill_v
    out = out.reshape(arr.shape[:-2] + (h, w))
    if arr.dtype.kind in "ui":
        info = np.iinfo(arr.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(arr.dtype)
    return out


def _fill(fill: Any, channels: int, ftype: Any) -> np.ndarray:
    f = np.asarray(0.0 if fill is None else fill, dtype=ftype).reshape(-1)
    if f.size not in (1, channels):
        raise ValueError(f"affine: fill should be a number or one value per channel ({channels}), got {fill!r}")
    return f.reshape(1, -1, 1)


def _range(value: Any, name: str, symmetric: bool, low: float | None = None) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        if symmetric:
            if value < 0:
                raise ValueError(f"RandomAffine: if {name} is a single number, it must be non-negative, got {value}")
            return -float(value), float(value)
        raise ValueError(f"RandomAffine: {name} should be a sequence of 2 numbers, got {value!r}")
    if not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"RandomAffine: {name} should be a number or a sequence of 2 numbers, got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if lo > hi or (low is not None and lo < low):
        raise ValueError(f"RandomAffine: {name} should be an increasing range{'' if low is None else f' >= {low}'}, "
                         f"got {value!r}")
    return lo, hi


class RandomAffine(RandomTransform):
    """A random affine warp about the centre (``torchvision.transforms.RandomAffine``): angle (degrees,
    clockwise) uniform in ``degrees`` (a number d means (-d, d)), integer shifts up to ``translate = (fx, fy)``
    times the width/height, ``scale`` uniform in ``(a, b)``, ``shear`` in degrees along x (a number or a range);
    ``interpolation`` nearest (default) or bilinear, outside pixels set to ``fill``.

    >>> import numpy as np
    >>> from gradlab.backend import Generator
    >>> t = RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1), generator=Generator(0))
    >>> t.apply_batch(np.zeros((3, 1, 8, 8), dtype=np.float32)).shape
    (3, 1, 8, 8)
    """

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None, scale: Sequence[float] | None = None,
                 shear: Any = None, interpolation: Any = "nearest", fill: Any = 0, generator: Any = None) -> None:
        super().__init__(generator)
        self.degrees = _range(degrees, "degrees", symmetric=True)
        if translate is not None:
            if not isinstance(translate, Sequence) or len(translate) != 2 or not all(0 <= t <= 1 for t in translate):
                raise ValueError(f"RandomAffine: translate should be a sequence of 2 fractions in [0, 1], "
                                 f"got {translate!r}")
            translate = (float(translate[0]), float(translate[1]))
        self.translate = translate
        self.scale = _range(scale, "scale", symmetric=False, low=0.0)
        if self.scale is not None and self.scale[0] <= 0:
            raise ValueError(f"RandomAffine: scale values should be positive, got {scale!r}")
        self.shear = _range(shear, "shear", symmetric=True)
        self.interpolation = interpolation_name(interpolation, "RandomAffine")
        self.fill = fill

    def sample(self, n: int, shape: tuple[int, ...], rng: np.random.Generator) -> dict[str, np.ndarray]:
        h, w = shape[-2:]
        assert self.degrees is not None
        angle = rng.uniform(self.degrees[0], self.degrees[1], size=n)
        translate = np.zeros((n, 2))
        if self.translate is not None:
            max_d = np.array([self.translate[0] * w, self.translate[1] * h])
            translate = np.round(rng.uniform(-max_d, max_d, size=(n, 2)))
        scale = np.ones(n) if self.scale is None else rng.uniform(self.scale[0], self.scale[1], size=n)
        shear = np.zeros((n, 2))
        if self.shear is not None:
            shear[:, 0] = rng.uniform(self.shear[0], self.shear[1], size=n)
        return {"angle": angle, "translate": translate, "scale": scale, "shear": shear}

    def apply_params(self, arr: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        matrix = inverse_affine_matrix(params["angle"], params["translate"], params["scale"], params["shear"])
        return affine_batch(arr, matrix, self.interpolation, self.fill)

    def __repr__(self) -> str:
        return (f"RandomAffine(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
                f"shear={self.shear}, interpolation={self.interpolation})")
