"""Batched image kernels on numpy arrays ``(..., H, W)``: padding, per-image crops and flips, resizing. The
transforms in this package call them; each takes per-image parameters as arrays and makes one vectorised pass
(crops are one gather from a strided view, resizing is two matrix products).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["parse_padding", "pad", "crop", "crop_batch", "hflip_batch", "vflip_batch", "resize_weights", "resize",
           "center_crop"]

PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def parse_padding(padding: Any, who: str = "pad") -> tuple[int, int, int, int]:
    """torchvision's padding argument as ``(left, top, right, bottom)``: an int (all sides), 2 ints (left/right,
    top/bottom) or 4 ints; ValueError for negative or malformed values.

    >>> parse_padding(2), parse_padding((1, 2)), parse_padding([1, 2, 3, 4])
    ((2, 2, 2, 2), (1, 2, 1, 2), (1, 2, 3, 4))
    """
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        vals = [int(padding)] * 4
    elif isinstance(padding, (list, tuple)) and len(padding) in (1, 2, 4) and all(
        isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in padding
    ):
        p = [int(v) for v in padding]
        vals = p * 4 if len(p) == 1 else (p * 2 if len(p) == 2 else p)
    else:
        raise ValueError(f"{who}: padding should be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")
    if min(vals) < 0:
        raise ValueError(f"{who}: padding should be non-negative, got {padding!r}")
    left, top, right, bottom = vals
    return left, top, right, bottom


def _fill_value(fill: Any, arr: np.ndarray, who: str) -> Any:
    """A scalar fill, or a per-channel one shaped ``(C, 1, 1)``, checked against the image's channels."""
    f = np.asarray(fill, dtype=np.float64)
    if f.ndim == 0 or f.size == 1:
        return float(f.reshape(-1)[0])
    if f.ndim != 1 or arr.ndim < 3 or f.size != arr.shape[-3]:
        raise ValueError(f"{who}: fill should be a number or one value per channel; got {f.size} values for images "
                         f"of shape {arr.shape}")
    return f.astype(arr.dtype)[:, None, None]


def pad(arr: np.ndarray, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> np.ndarray:
    """Pad the last two dimensions (torchvision's ``pad``: modes constant, edge, reflect, symmetric).

    >>> pad(np.array([[1, 2]]), (1, 0, 0, 0), padding_mode="reflect").tolist()
    [[2, 1, 2]]
    """
    if padding_mode not in PAD_MODES:
        raise ValueError(f"pad: padding_mode should be one of {sorted(PAD_MODES)}, got {padding_mode!r}")
    left, top, right, bottom = padding if isinstance(padding, tuple) and len(padding) == 4 else parse_padding(padding)
    h, w = arr.shape[-2:]
    if padding_mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(f"pad: reflect padding {(left, top, right, bottom)} must be smaller than the image size "
                         f"({h}, {w})")
    if not (left or top or right or bottom):
        return arr.copy()
    if padding_mode != "constant":
        widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
        return np.pad(arr, widths, mode=PAD_MODES[padding_mode])  # type: ignore[call-overload]
    value = _fill_value(fill, arr, "pad")
    out = np.empty((*arr.shape[:-2], h + top + bottom, w + left + right), dtype=arr.dtype)
    if np.ndim(value) == 0:
        out[...] = value
    else:
        out[...] = np.broadcast_to(value, out.shape[-3:])
    out[..., top : top + h, left : left + w] = arr
    return out


def crop(arr: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """``arr[..., top:top+height, left:left+width]`` (a copy; the box must lie inside the image).

    >>> crop(np.arange(9).reshape(3, 3), 1, 1, 2, 2).tolist()
    [[4, 5], [7, 8]]
    """
    return arr[..., top : top + height, left : left + width].copy()


def crop_batch(arr: np.ndarray, top: np.ndarray, left: np.ndarray, height: int, width: int) -> np.ndarray:
    """Crop image ``n`` of ``arr`` ``(N, ..., H, W)`` at ``(top[n], left[n])``: one gather from a strided view.

    >>> x = np.arange(18).reshape(2, 3, 3)
    >>> crop_batch(x, np.array([0, 1]), np.array([1, 0]), 2, 2).tolist()
    [[[1, 2], [4, 5]], [[12, 13], [15, 16]]]
    """
    n = arr.shape[0]
    windows = sliding_window_view(arr, (height, width), axis=(-2, -1))  # (N, ..., H-h+1, W-w+1, h, w)
    index: tuple = (np.arange(n),) + (slice(None),) * (arr.ndim - 3) + (top, left)
    # (N, ..., h, w): with slices between the advanced indices numpy puts their (batch) axis first, as wanted
    return windows[index]


def hflip_batch(arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Images ``n`` of ``arr`` ``(N, ..., H, W)`` with ``mask[n]`` mirrored left-right, the others unchanged.

    >>> hflip_batch(np.array([[[1, 2]], [[3, 4]]]), np.array([True, False])).tolist()
    [[[2, 1]], [[3, 4]]]
    """
    out = arr.copy()
    if mask.any():
        out[mask] = arr[mask][..., ::-1]
    return out


def vflip_batch(arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Images ``n`` with ``mask[n]`` mirrored top-bottom.

    >>> vflip_batch(np.array([[[1], [2]]]), np.array([True])).tolist()
    [[[2], [1]]]
    """
    out = arr.copy()
    if mask.any():
        out[mask] = arr[mask][..., ::-1, :]
    return out


def resize_weights(in_size: int, out_size: int, mode: str = "bilinear", antialias: bool = True) -> np.ndarray:
    """The ``(out_size, in_size)`` matrix of a 1-D resampling, as torch's ``interpolate`` (``align_corners=False``):
    ``nearest`` (torch's legacy ``floor(i * in / out)``), ``bilinear``, and with ``antialias`` (for downscaling) the
    triangle filter widened by the scale factor, as torchvision's default.

    >>> resize_weights(2, 4).tolist()[1]
    [0.75, 0.25]
    """
    scale = in_size / out_size
    i = np.arange(out_size)
    w = np.zeros((out_size, in_size), dtype=np.float64)
    if mode == "nearest":
        src = np.minimum(np.floor(i * np.float32(scale)).astype(np.int64), in_size - 1)
        w[i, src] = 1.0
        return w
    if mode != "bilinear":
        raise ValueError(f"resize: interpolation should be 'nearest' or 'bilinear', got {mode!r}")
    if antialias and scale > 1.0:
        support = scale  # the triangle filter (support 1) stretched by the scale factor
        center = (i + 0.5) * scale
        j = np.arange(in_size)
        lo = np.maximum((center - support + 0.5).astype(np.int64), 0)
        hi = np.minimum((center + support + 0.5).astype(np.int64), in_size)
        t = np.clip(1.0 - np.abs((j[None, :] - center[:, None] + 0.5) / support), 0.0, None)
        t[(j[None, :] < lo[:, None]) | (j[None, :] >= hi[:, None])] = 0.0
        return t / t.sum(axis=1, keepdims=True)
    src = np.maximum((i + 0.5) * scale - 0.5, 0.0)
    x0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    x1 = np.minimum(x0 + 1, in_size - 1)
    frac = src - x0
    np.add.at(w, (i, x0), 1.0 - frac)
    np.add.at(w, (i, x1), frac)
    return w


def resize(arr: np.ndarray, size: tuple[int, int], mode: str = "bilinear", antialias: bool = True) -> np.ndarray:
    """Resize the last two dimensions to ``size = (h, w)`` (``rows @ img @ cols.T``); uint8 results are rounded.

    >>> resize(np.array([[0.0, 1.0]]), (1, 4)).tolist()
    [[0.0, 0.25, 0.75, 1.0]]
    """
    h, w = arr.shape[-2:]
    oh, ow = size
    if (oh, ow) == (h, w):
        return arr.copy()
    if mode == "nearest":  # a gather: exact for every dtype
        rows = resize_weights(h, oh, "nearest").argmax(axis=1)
        cols = resize_weights(w, ow, "nearest").argmax(axis=1)
        return arr[..., rows[:, None], cols[None, :]]
    ftype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
    wr = resize_weights(h, oh, mode, antialias).astype(ftype)
    wc = resize_weights(w, ow, mode, antialias).astype(ftype)
    out = np.matmul(np.matmul(wr, arr.astype(ftype, copy=False)), wc.T)
    if arr.dtype.kind in "ui":
        info = np.iinfo(arr.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(arr.dtype)
    return out


def center_crop(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The central ``size = (h, w)`` box (torchvision's rounding; zero-padded first when the image is smaller).

    >>> center_crop(np.arange(16).reshape(4, 4), (2, 2)).tolist()
    [[5, 6], [9, 10]]
    """
    th, tw = size
    h, w = arr.shape[-2:]
    if th > h or tw > w:
        ltrb = ((tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0)
        arr = pad(arr, ltrb, fill=0)
        h, w = arr.shape[-2:]
        if (h, w) == (th, tw):
            return arr
    top = int(round((h - th) / 2.0))
    left = int(round((w - tw) / 2.0))
    return crop(arr, top, left, th, tw)
