"""The 2-D toy datasets of the TensorFlow Playground (playground.tensorflow.org, ``src/dataset.ts``).

Classification: ``make_circle``, ``make_xor``, ``make_gauss``, ``make_spiral`` return ``(X, y)`` with ``X`` a
float32 array ``(n_samples, 2)`` and ``y`` int64 labels in {0, 1} (the playground's +1 is 1, its -1 is 0).
Regression: ``make_plane``, ``make_regress_gauss`` return float32 targets in [-1, 1].

``noise`` follows the playground's slider divided by 100 (0 to 0.5). As in the playground, circle, xor and the
regression sets add the noise to the point *only when computing its label* (so labels near the boundary flip),
while gauss widens the clusters and spiral jitters the points themselves.

Randomness comes from ``generator`` (a ``gradlab.Generator``), else from ``seed`` (a fresh numpy generator),
else from gradlab's default generator. ``shuffle=True`` (default) mixes the two classes' rows; the playground
shuffles its points too before splitting them into train and test.

>>> X, y = make_circle(100, noise=0.0, seed=0)
>>> X.shape, str(X.dtype), str(y.dtype), sorted(set(y.tolist()))
((100, 2), 'float32', 'int64', [0, 1])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._utils import numpy_rng

__all__ = [
    "make_circle",
    "make_xor",
    "make_gauss",
    "make_spiral",
    "make_plane",
    "make_regress_gauss",
    "CLASSIFICATION_DATASETS",
    "REGRESSION_DATASETS",
]


def _rng(seed: int | None, generator: Any) -> np.random.Generator:
    if generator is not None:
        return numpy_rng(generator)
    if seed is not None:
        return np.random.default_rng(seed)
    return numpy_rng(None)


def _check(n_samples: int, noise: float) -> None:
    if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool) or n_samples < 0:
        raise ValueError(f"n_samples must be a non-negative integer, got {n_samples!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0 (the playground uses 0 to 0.5), got {noise!r}")


def _finish(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, shuffle: bool, y_dtype: Any) -> tuple:
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=y_dtype)
    if shuffle:
        p = rng.permutation(len(x))
        x, y = x[p], y[p]
    return x, y


def _uniform(rng: np.random.Generator, a: float, b: float, n: int) -> np.ndarray:
    return rng.random(n) * (b - a) + a


def make_circle(
    n_samples: int = 200, noise: float = 0.0, *, seed: int | None = None, generator: Any = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A disc of class 1 (radius < 2.5) inside a ring of class 0 (radius 3.5 to 5).

    >>> X, y = make_circle(200, seed=1)
    >>> r = np.hypot(X[:, 0], X[:, 1])
    >>> bool((r[y == 1] < 2.5).all() and (r[y == 0] >= 3.5).all())
    True
    """
    _check(n_samples, noise)
    rng = _rng(seed, generator)
    radius = 5.0
    n_pos = n_samples - n_samples // 2
    parts = []
    for n, lo, hi in ((n_pos, 0.0, radius * 0.5), (n_samples // 2, radius * 0.7, radius)):
        r = _uniform(rng, lo, hi, n)
        angle = _uniform(rng, 0.0, 2 * np.pi, n)
        parts.append(np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1))
    x = np.concatenate(parts).reshape(-1, 2)
    noisy = x + _uniform(rng, -radius, radius, 2 * len(x)).reshape(-1, 2) * noise
    y = (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype(np.int64)
    return _finish(x, y, rng, shuffle, np.int64)


def make_xor(
    n_samples: int = 200, noise: float = 0.0, *, seed: int | None = None, generator: Any = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-5.3, 5.3]^2 kept 0.3 away from the axes; class 1 where ``x * y >= 0`` (quadrants 1 and 3).

    >>> X, y = make_xor(100, seed=0)
    >>> bool(((X[:, 0] * X[:, 1] >= 0) == (y == 1)).all()), bool((np.abs(X) >= 0.3).all())
    (True, True)
    """
    _check(n_samples, noise)
    rng = _rng(seed, generator)
    pts = _uniform(rng, -5.0, 5.0, 2 * n_samples).reshape(-1, 2)
    pts = pts + np.where(pts > 0, 0.3, -0.3)
    noisy = pts + _uniform(rng, -5.0, 5.0, 2 * n_samples).reshape(-1, 2) * noise
    y = (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int64)
    return _finish(pts, y, rng, shuffle, np.int64)


def make_gauss(
    n_samples: int = 200, noise: float = 0.0, *, seed: int | None = None, generator: Any = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs: class 1 around (2, 2), class 0 around (-2, -2).

    The variance grows linearly with ``noise``: 0.5 at noise 0 to 4 at noise 0.5.

    >>> X, y = make_gauss(2000, seed=0)
    >>> np.round(X[y == 1].mean(0)).tolist(), np.round(X[y == 0].mean(0)).tolist()
    ([2.0, 2.0], [-2.0, -2.0])
    """
    _check(n_samples, noise)
    rng = _rng(seed, generator)
    variance = 0.5 + (4.0 - 0.5) * (noise / 0.5)
    std = np.sqrt(variance)
    n_pos = n_samples - n_samples // 2
    pos = rng.standard_normal((n_pos, 2)) * std + 2.0
    neg = rng.standard_normal((n_samples // 2, 2)) * std - 2.0
    y = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n_samples // 2, np.int64)])
    return _finish(np.concatenate([pos, neg]).reshape(-1, 2), y, rng, shuffle, np.int64)


def make_spiral(
    n_samples: int = 200, noise: float = 0.0, *, seed: int | None = None, generator: Any = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms of 1.75 turns, radius growing from 0 to 5 (class 1, and class 0 rotated by pi).

    Each coordinate is jittered by ``uniform(-1, 1) * noise``.

    >>> X, y = make_spiral(200, seed=0)
    >>> X.shape, int(y.sum())
    ((200, 2), 100)
    """
    _check(n_samples, noise)
    rng = _rng(seed, generator)
    parts, labels = [], []
    for n, delta, label in ((n_samples - n_samples // 2, 0.0, 1), (n_samples // 2, np.pi, 0)):
        i = np.arange(n, dtype=np.float64)
        r = i / max(n, 1) * 5.0
        t = 1.75 * i / max(n, 1) * 2 * np.pi + delta
        jitter = _uniform(rng, -1.0, 1.0, 2 * n).reshape(-1, 2) * noise
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + jitter)
        labels.append(np.full(n, label, np.int64))
    return _finish(np.concatenate(parts).reshape(-1, 2), np.concatenate(labels), rng, shuffle, np.int64)


def make_plane(
    n_samples: int = 200, noise: float = 0.0, *, seed: int | None = None, generator: Any = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Regression: points uniform in [-6, 6]^2 with the linear target ``(x + y) / 10``.

    As the playground's ``regressPlane``, the target is taken at the noisy point
    ``(x, y) + uniform(-6, 6) * noise`` (unclamped: without noise it lies in [-1.2, 1.2]).

    >>> X, y = make_plane(50, seed=0)
    >>> bool(np.allclose(y, X.sum(1) / 10, atol=1e-6)), str(y.dtype)
    (True, 'float32')
    """
    _check(n_samples, noise)
    rng = _rng(seed, generator)
    radius = 6.0
    pts = _uniform(rng, -radius, radius, 2 * n_samples).reshape(-1, 2)
    noisy = pts + _uniform(rng, -radius, radius, 2 * n_samples).reshape(-1, 2) * noise
    y = (noisy[:, 0] + noisy[:, 1]) / 10.0  # d3 linear scale [-10, 10] -> [-1, 1], unclamped
    return _finish(pts, y, rng, shuffle, np.float32)


_REGRESS_GAUSSIANS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64
)


def make_regress_gauss(
    n_samples: int = 200, noise: float = 0.0, *, seed: int | None = None, generator: Any = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Regression: six signed Gaussian-like bumps on a 3x2 grid; the target in [-1, 1] is the bump of largest
    magnitude, ``sign * clamp(1 - dist / 2, 0, 1)`` (the playground's ``regressGaussian``).

    >>> X, y = make_regress_gauss(200, seed=0)
    >>> bool((np.abs(y) <= 1).all()), X.shape
    (True, (200, 2))
    """
    _check(n_samples, noise)
    rng = _rng(seed, generator)
    radius = 6.0
    pts = _uniform(rng, -radius, radius, 2 * n_samples).reshape(-1, 2)
    noisy = pts + _uniform(rng, -radius, radius, 2 * n_samples).reshape(-1, 2) * noise
    centers, signs = _REGRESS_GAUSSIANS[:, :2], _REGRESS_GAUSSIANS[:, 2]
    d = np.sqrt(((noisy[:, None, :] - centers[None, :, :]) ** 2).sum(-1))  # (n, 6)
    vals = signs[None, :] * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    # first bump with the strictly largest |value| wins (as the playground's forEach with '>'); 0 when all are 0
    pick = np.argmax(np.abs(vals), axis=1)
    y = vals[np.arange(len(vals)), pick] if len(vals) else np.zeros(0)
    return _finish(pts, y, rng, shuffle, np.float32)


CLASSIFICATION_DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "circle": make_circle,
    "xor": make_xor,
    "gauss": make_gauss,
    "spiral": make_spiral,
}
REGRESSION_DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "plane": make_plane,
    "reg-gauss": make_regress_gauss,
}
