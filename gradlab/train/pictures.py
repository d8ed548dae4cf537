"""The pictures of generative runs, as PNG files (matplotlib's Agg backend, written atomically):

* :func:`save_image_grid`: a mosaic of images (samples from a VAE's prior, a GAN's fixed-noise grid);
* :func:`save_reconstructions`: rows of inputs, each above its reconstruction;
* :func:`save_interpolation`: images decoded along straight lines between the codes of pairs of images;
* :func:`save_latent_scatter`: 2-D codes of test images coloured by class;
* :func:`save_manifold`: the images a 2-D latent space decodes to on a grid of Gaussian quantiles;
* :func:`save_loss_curves`: several logged quantities per epoch on one figure (GAN: both losses).

>>> import os, tempfile, numpy as np
>>> d = tempfile.mkdtemp()
>>> p = save_image_grid(np.random.default_rng(0).random((6, 1, 8, 8)), os.path.join(d, "g.png"), ncols=3)
>>> os.path.getsize(p) > 0
True
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradlab.io.atomic import save_figure

__all__ = [
    "as_images", "save_image_grid", "save_reconstructions", "save_interpolation", "save_latent_scatter",
    "save_manifold", "save_loss_curves",
]


def as_images(x: Any) -> np.ndarray:
    """A float64 array (N, H, W) or (N, H, W, 3) in [0, 1] from a Tensor/array (N, C, H, W), (N, H, W) or
    (N, H*W) of square images.

    >>> as_images(np.zeros((2, 16))).shape
    (2, 4, 4)
    """
    a = np.asarray(getattr(x, "data", x), dtype=np.float64)
    if a.ndim == 2:
        side = int(round(math.sqrt(a.shape[1])))
        if side * side != a.shape[1]:
            raise ValueError(f"as_images: cannot make square images of {a.shape[1]} values")
        a = a.reshape(len(a), side, side)
    elif a.ndim == 4:
        a = a[:, 0] if a.shape[1] == 1 else a.transpose(0, 2, 3, 1)
    if a.ndim not in (3, 4):
        raise ValueError(f"as_images: expected a batch of images, got shape {a.shape}")
    return np.clip(a, 0.0, 1.0)


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike) -> str:
    path = save_figure(fig, path)
    return str(path)


def _show(ax: Any, img: np.ndarray) -> None:
    ax.imshow(np.nan_to_num(img, nan=0.25), cmap=None if img.ndim == 3 else "gray", vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def save_image_grid(images: Any, path: str | os.PathLike, ncols: int | None = None, title: str | None = None) -> str:
    """A mosaic of ``images`` (values in [0, 1]) with ``ncols`` per row (default: a square).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = save_image_grid(np.zeros((4, 1, 4, 4), np.float32), os.path.join(d, "grid.png"))
    ...     os.path.basename(path), os.path.getsize(path) > 0
    ('grid.png', True)
    """
    from gradlab.viz import mosaic

    imgs = as_images(images)
    cols = ncols or max(1, math.ceil(math.sqrt(len(imgs))))
    img = mosaic(imgs, cols, border=0.25)
    rows = img.shape[0] / img.shape[1]
    fig = _figure(6.0, 6.0 * rows + (0.4 if title else 0.1))
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98 - (0.4 / (6.0 * rows + 0.4) if title else 0.0)))
    _show(ax, img)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def save_reconstructions(inputs: Any, recons: Any, path: str | os.PathLike, ncols: int = 10,
                         title: str | None = None, labels: Sequence[str] = ("input", "reconstruction")) -> str:
    """Rows of ``inputs`` each followed by the row of their reconstructions (same count, ``ncols`` per row).

    >>> import tempfile
    >>> x = np.random.default_rng(0).random((5, 1, 8, 8))
    >>> save_reconstructions(x, 1 - x, tempfile.mkdtemp() + "/r.png", ncols=3).endswith("r.png")
    True
    """
    from gradlab.viz import mosaic

    a, b = as_images(inputs), as_images(recons)
    if a.shape != b.shape:
        raise ValueError(f"save_reconstructions: {a.shape} inputs but {b.shape} reconstructions")
    rows = []
    for start in range(0, len(a), ncols):
        rows += [a[start:start + ncols], b[start:start + ncols]]
    pad = ncols - len(rows[-1])
    if pad:
        blank = np.full((pad,) + a.shape[1:], np.nan)
        rows = [np.concatenate([r, blank]) if len(r) < ncols else r for r in rows]
    img = mosaic(np.concatenate(rows), ncols, border=0.25)
    ratio = img.shape[0] / img.shape[1]
    fig = _figure(7.0, 7.0 * ratio + 0.5)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98 - 0.5 / (7.0 * ratio + 0.5)))
    _show(ax, img)
    fig.suptitle(title or f"odd rows: {labels[0]}, even rows: {labels[1]}", fontsize=9)
    return _save(fig, path)


def save_interpolation(decode: Callable[[np.ndarray], Any], codes_a: np.ndarray, codes_b: np.ndarray,
                       path: str | os.PathLike, steps: int = 10, title: str | None = None) -> str:
    """One row per pair: ``decode`` (codes (M, d) -> images) of ``(1 - t) a + t b`` for ``steps`` values of t.

    >>> import tempfile
    >>> decode = lambda z: np.repeat(z[:, :1], 16, axis=1)  # a "decoder" of 4x4 images
    >>> save_interpolation(decode, np.zeros((2, 3)), np.ones((2, 3)), tempfile.mkdtemp() + "/i.png").endswith("png")
    True
    """
    a = np.asarray(codes_a, dtype=np.float64)
    b = np.asarray(codes_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"save_interpolation: codes must be two (M, d) arrays of one shape, got {a.shape}, {b.shape}")
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    z = ((1 - t) * a[:, None, :] + t * b[:, None, :]).reshape(-1, a.shape[1])
    return save_image_grid(decode(z), path, ncols=steps,
                           title=title or f"latent interpolation, {steps} steps per row (left: a, right: b)")


def save_latent_scatter(codes: Any, labels: Any, path: str | os.PathLike, title: str | None = None) -> str:
    """The 2-D ``codes`` (N, 2) as points coloured by their integer ``labels``.

    >>> import tempfile
    >>> z = np.random.default_rng(0).normal(size=(50, 2))
    >>> save_latent_scatter(z, np.arange(50) % 10, tempfile.mkdtemp() + "/s.png").endswith("s.png")
    True
    """
    z = np.asarray(getattr(codes, "data", codes), dtype=np.float64)
    y = np.asarray(getattr(labels, "data", labels)).reshape(-1)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"save_latent_scatter: needs 2-D codes (N, 2), got shape {z.shape}")
    if len(y) != len(z):
        raise ValueError(f"save_latent_scatter: {len(z)} codes but {len(y)} labels")
    fig = _figure(6.5, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    points = ax.scatter(z[:, 0], z[:, 1], c=y, cmap="tab10", s=4, alpha=0.7, vmin=-0.5, vmax=9.5)
    fig.colorbar(points, ax=ax, ticks=range(10), label="class")
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title(title or "latent means of test images", fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def save_manifold(decode: Callable[[np.ndarray], Any], path: str | os.PathLike, n: int = 15,
                  title: str | None = None) -> str:
    """The images a 2-D latent space decodes to at the (i + 0.5)/n quantiles of N(0, 1) on each axis (row 0 at
    the top has the largest z[1]).

    >>> import tempfile
    >>> decode = lambda z: np.repeat(1 / (1 + np.exp(-z[:, :1])), 16, axis=1)
    >>> save_manifold(decode, tempfile.mkdtemp() + "/m.png", n=5).endswith("m.png")
    True
    """
    from scipy.stats import norm

    q = norm.ppf((np.arange(n) + 0.5) / n)
    zx, zy = np.meshgrid(q, q[::-1])
    z = np.stack([zx.reshape(-1), zy.reshape(-1)], axis=1)
    return save_image_grid(decode(z), path, ncols=n, title=title or f"decoded manifold, {n}x{n} Gaussian quantiles")


def save_loss_curves(history: dict[str, list[Any]], keys: Sequence[str], path: str | os.PathLike,
                     title: str | None = None) -> str:
    """The logged ``keys`` of ``history`` per epoch, as lines on one panel (missing keys are skipped).

    >>> import tempfile
    >>> h = {"d_loss": [1.2, 1.0], "g_loss": [0.7, 0.9]}
    >>> save_loss_curves(h, ["d_loss", "g_loss"], tempfile.mkdtemp() + "/l.png").endswith("l.png")
    True
    """
    fig = _figure(6.5, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    for key in keys:
        values = history.get(key)
        if values:
            ax.plot(range(1, len(values) + 1), [np.nan if v is None else float(v) for v in values], "o-",
                    markersize=3, label=key)
    ax.set_xlabel("epoch")
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title(title or ", ".join(keys), fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
