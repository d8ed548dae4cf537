"""Pictures of convolutional networks, written as PNG files with matplotlib's Agg backend (no display needed).

* :func:`plot_filters`: a grid of the first layer's filters, each normalised to its own min..max;
* :func:`plot_activations`: the feature maps of the first convolution layers of a model for one image.

>>> import os, tempfile, gradlab
>>> from gradlab.models import LeNet5
>>> m = LeNet5()
>>> d = tempfile.mkdtemp()
>>> os.path.getsize(plot_filters(m.features[0].weight, os.path.join(d, "f.png"))) > 0
True
>>> os.path.getsize(plot_activations(m, gradlab.randn(1, 28, 28), os.path.join(d, "a.png"))) > 0
True
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_filters", "plot_activations", "conv_layers", "first_conv_weight", "normalise", "mosaic"]


def _array(x: Any) -> np.ndarray:
    data = getattr(x, "_data", x)
    return np.asarray(data, dtype=np.float64)


def normalise(a: np.ndarray, axes: tuple) -> np.ndarray:
    """Scale ``a`` to [0, 1] over ``axes`` (each slice on its own); a constant slice becomes 0.5.

    >>> import numpy as np
    >>> normalise(np.array([[0.0, 5.0, 10.0], [3.0, 3.0, 3.0]]), axes=(1,)).tolist()
    [[0.0, 0.5, 1.0], [0.5, 0.5, 0.5]]
    """
    lo, hi = a.min(axis=axes, keepdims=True), a.max(axis=axes, keepdims=True)
    span = hi - lo
    return np.where(span > 0, (a - lo) / np.where(span > 0, span, 1.0), 0.5)


def mosaic(tiles: np.ndarray, ncols: int, border: float = float("nan")) -> np.ndarray:
    """Tile ``tiles`` (n, h, w) or (n, h, w, 3) into one image, ``ncols`` per row, with a 1-pixel ``border``
    (NaN: drawn in the axes' background colour).

    >>> import numpy as np
    >>> mosaic(np.ones((5, 2, 2)), ncols=3, border=0.0).shape   # 2 rows of 3 tiles, 1-pixel borders
    (7, 10)
    """
    n, h, w = tiles.shape[:3]
    rows = -(-n // ncols)
    out = np.full((rows * (h + 1) + 1, ncols * (w + 1) + 1) + tiles.shape[3:], border, dtype=np.float64)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + c * (w + 1) : 1 + c * (w + 1) + w] = tiles[i]
    return out


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike) -> str:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return str(path)


def plot_filters(weight: Any, path: str | os.PathLike, ncols: int | None = None, title: str | None = None) -> str:
    """Save a grid of convolution filters ``weight`` (out, in, kH, kW) as a PNG; returns the path.

    Each filter is normalised to its own range (black = its minimum, white = its maximum). Filters with 3 input
    channels are drawn in colour (RGB); others show the mean over their input channels in grey.

    >>> import os, tempfile, gradlab
    >>> path = plot_filters(gradlab.randn(6, 1, 5, 5), os.path.join(tempfile.mkdtemp(), "filters.png"))
    >>> os.path.basename(path), os.path.getsize(path) > 0
    ('filters.png', True)
    """
    w = _array(weight)
    if w.ndim == 3:  # a Conv1d weight: each filter as a 1-row image
        w = w[:, :, None, :]
    if w.ndim != 4:
        raise ValueError(f"plot_filters: expected a (out, in, kH, kW) weight, got shape {w.shape}")
    n = w.shape[0]
    cols = ncols or max(1, math.ceil(math.sqrt(n)))
    if w.shape[1] == 3:
        tiles = normalise(w, (1, 2, 3)).transpose(0, 2, 3, 1)
    else:
        tiles = normalise(w.mean(axis=1), (1, 2))
    img = mosaic(tiles, cols)
    side = 5.0
    fig = _figure(side, side * img.shape[0] / img.shape[1] + 0.5)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.96 - 0.5 / (side * img.shape[0] / img.shape[1] + 0.5)))
    ax.imshow(np.nan_to_num(img, nan=0.0) if img.ndim == 3 else img, cmap=None if img.ndim == 3 else "gray",
              vmin=0, vmax=1, interpolation="nearest")
    ax.set_facecolor("#3b6ea5")  # the borders between filters
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.suptitle(title or f"{n} filters {w.shape[2]}x{w.shape[3]} (in={w.shape[1]}), row-major", fontsize=9)
    return _save(fig, path)


def conv_layers(model: Any) -> list[tuple[str, Any]]:
    """The (name, module) pairs of the model's 1-D/2-D convolution layers, in registration order.

    >>> from gradlab.models import LeNet5
    >>> [name for name, _ in conv_layers(LeNet5())]
    ['features.0', 'features.3']
    """
    from gradlab import nn

    kinds = tuple(getattr(nn, k) for k in ("Conv1d", "Conv2d", "ConvTranspose2d") if hasattr(nn, k))
    return [(name, m) for name, m in model.named_modules() if isinstance(m, kinds)]


def first_conv_weight(model: Any) -> Any:
    """The weight of the model's first convolution layer (ValueError when it has none).

    >>> from gradlab.models import LeNet5
    >>> first_conv_weight(LeNet5()).shape
    gradlab.Size([6, 1, 5, 5])
    """
    layers = conv_layers(model)
    if not layers:
        raise ValueError(f"{type(model).__name__} has no convolution layer")
    return layers[0][1].weight


def plot_activations(model: Any, image: Any, path: str | os.PathLike, layers: int = 2, max_maps: int = 16,
                     title: str | None = None) -> str:
    """Save the feature maps that the first ``layers`` convolution layers of ``model`` produce for one ``image``
    ((C, H, W) or (1, C, H, W)); one row per layer (at most ``max_maps`` maps, each normalised), after the input.

    The model runs in eval mode without recording gradients; its mode is restored afterwards.

    >>> import os, tempfile, gradlab
    >>> from gradlab.models import LeNet5
    >>> path = plot_activations(LeNet5(), gradlab.randn(1, 28, 28), os.path.join(tempfile.mkdtemp(), "a.png"))
    >>> os.path.getsize(path) > 0
    True
    """
    import gradlab

    x = _array(image)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"plot_activations: expected one (C, H, W) image, got shape {x.shape}")
    convs = conv_layers(model)[: max(1, layers)]
    if not convs:
        raise ValueError(f"{type(model).__name__} has no convolution layer")
    captured: list[tuple[str, np.ndarray]] = []
    handles = [m.register_forward_hook(lambda mod, args, out, name=name: captured.append((name, _array(out)[0])))
               for name, m in convs]
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with gradlab.no_grad():
            dtype = next(iter(model.parameters())).dtype if any(True for _ in model.parameters()) else np.float32
            model(gradlab.tensor(x.astype(dtype)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    rows = [("input", normalise(x[0], (0, 1, 2)).transpose(1, 2, 0) if x.shape[1] == 3
              else normalise(x[0].mean(axis=0), (0, 1)))]
    for name, maps in captured:
        if maps.ndim == 2:  # Conv1d output (C, L)
            maps = maps[:, None, :]
        shown = maps[:max_maps]
        rows.append((f"{name}: {len(shown)} of {maps.shape[0]} maps", mosaic(normalise(shown, (1, 2)), len(shown))))
    fig = _figure(12.0, 1.6 * len(rows) + 0.4)
    height = 1.0 / len(rows)
    for r, (label, img) in enumerate(rows):
        ax = fig.add_axes((0.02, 1.0 - (r + 1) * height + 0.02, 0.96, height - 0.08))
        ax.imshow(img, cmap=None if img.ndim == 3 else ("gray" if r == 0 else "viridis"), vmin=0, vmax=1,
                  interpolation="nearest", aspect="equal")
        ax.set_title(label, fontsize=8)
        ax.axis("off")
    if title:
        fig.text(0.01, 0.99, title, fontsize=9, va="top")
    return _save(fig, path)
