"""Turning network outputs into what a frame carries: losses, accuracy, and compact uint8 pictures (base64).

``kind`` is ``"binary"`` (one logit), ``"multi"`` (k logits, softmax) or ``"regression"`` (one value).

>>> heatmap_bytes(np.array([[0.0], [100.0]]), "binary").tolist()
[128, 255]
>>> round(loss(np.array([[0.0]]), np.array([1]), "binary"), 4)
0.6931
"""
from __future__ import annotations

import base64
import math

import numpy as np

__all__ = ["b64", "signed_bytes", "scaled_columns", "loss", "accuracy", "heatmap_bytes", "output_values"]


def b64(a: np.ndarray) -> str:
    """The bytes of ``a`` (made contiguous) as base64 text.

    >>> b64(np.array([0, 255], np.uint8))
    'AP8='
    """
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def signed_bytes(v: np.ndarray) -> tuple[str, float]:
    """Signed values -> uint8 (0: -max|v|, 128: 0, 255: +max|v|) as base64, and max|v|.

    >>> import base64
    >>> text, top = signed_bytes(np.array([-2.0, 0.0, 1.0]))
    >>> list(base64.b64decode(text)), top
    ([0, 128, 191], 2.0)
    """
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    if not math.isfinite(scale) or scale == 0.0:
        scale = 1.0
    return b64(np.clip(np.rint((v / scale + 1.0) * 127.5), 0, 255).astype(np.uint8)), scale


def scaled_columns(v: np.ndarray) -> np.ndarray:
    """Columns of ``v`` to uint8, each scaled by its own max |value| (128 = 0).

    >>> scaled_columns(np.array([[1.0, -4.0], [0.5, 2.0]])).tolist()
    [[255, 0], [191, 191]]
    """
    top = np.abs(v).max(0, keepdims=True) if len(v) else np.ones((1, v.shape[1]))
    top = np.where(np.isfinite(top) & (top > 0), top, 1.0)
    return np.clip(np.rint((v / top + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _softmax(out: np.ndarray) -> np.ndarray:
    z = np.exp(out - out.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def loss(out: np.ndarray, y: np.ndarray, kind: str) -> float:
    """The training loss in numpy: mean squared error, cross-entropy, or binary cross-entropy from logits.

    >>> round(loss(np.array([[0.5], [1.0]]), np.array([0.0, 1.0]), "regression"), 4)
    0.125
    >>> round(loss(np.array([[0.0, 0.0]]), np.array([1]), "multi"), 4)
    0.6931
    """
    if kind == "regression":
        return float(np.mean((out[:, 0] - y) ** 2))
    if kind == "multi":
        z = out - out.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]))
    z = out[:, 0].astype(np.float64)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def accuracy(out: np.ndarray, y: np.ndarray, kind: str) -> float:
    """Share of points whose predicted class (logit > 0, or the arg-max for ``multi``) is the label.

    >>> accuracy(np.array([[2.0], [-1.0], [0.5]]), np.array([1, 1, 1]), "binary")
    0.6666666666666666
    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 0]), "multi")
    1.0
    """
    pred = out.argmax(1) if kind == "multi" else (out[:, 0] > 0).astype(np.int64)
    return float(np.mean(pred == y))


def heatmap_bytes(out: np.ndarray, kind: str) -> np.ndarray:
    """Outputs as uint8: binary P(class 1) * 255; regression (clip(y, -1, 1) + 1) * 127.5;
    k classes: class * 32 + confidence (0..31; 0: all classes equally likely, 31: certain).

    >>> heatmap_bytes(np.array([[-1.0], [0.0], [2.0]]), "regression").tolist()
    [0, 128, 255]
    >>> heatmap_bytes(np.array([[0.0, 0.0], [0.0, 50.0]]), "multi").tolist()  # class * 32 + confidence
    [0, 63]
    """
    if kind == "regression":
        return np.rint((np.clip(out[:, 0], -1, 1) + 1) * 127.5).astype(np.uint8)
    if kind == "multi":
        p = _softmax(out)
        k = out.shape[1]
        conf = (p.max(1) - 1.0 / k) / (1 - 1.0 / k)
        return (p.argmax(1) * 32 + np.rint(np.clip(conf, 0, 1) * 31)).astype(np.uint8)
    return np.rint(255.0 / (1.0 + np.exp(-np.clip(out[:, 0], -60, 60)))).astype(np.uint8)


def output_values(out: np.ndarray, index: int, kind: str) -> np.ndarray:
    """Output neuron ``index`` in [-1, 1] (probabilities p as 2p - 1; regression as is).

    >>> output_values(np.array([[0.0], [100.0]]), 0, "binary").tolist()
    [0.0, 1.0]
    """
    if kind == "regression":
        return out[:, 0]
    if kind == "multi":
        return _softmax(out)[:, index] * 2 - 1
    return 2.0 / (1.0 + np.exp(-np.clip(out[:, 0], -60, 60))) - 1
