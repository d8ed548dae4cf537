"""The numba loops behind :mod:`gradlab.kernels.dense` (compiled lazily on first call; see ``gradlab.kernels``).

Each loop is the fused form of a NumPy twin in ``dense.py``: one pass over a C-contiguous (rows, cols) block where
NumPy needs two to four. They are plain Python until first called, so importing this module needs no numba.

>>> import numpy as np
>>> h = np.array([[-1.0, 2.0]], np.float32)
>>> bias_relu.py_func(h, np.array([0.5, 0.5], np.float32)); h
array([[0. , 2.5]], dtype=float32)
"""
from __future__ import annotations

import math

import numpy as np

from ._select import njit

__all__ = ["bias_relu", "relu_backward_sum", "tanh_backward_sum", "logistic_backward_sum", "softmax_ce_grad"]


@njit()
def bias_relu(h: np.ndarray, b: np.ndarray) -> None:
    """``h = max(h + b, 0)`` in place."""
    rows, cols = h.shape
    zero = h.dtype.type(0)
    for i in range(rows):
        for j in range(cols):
            v = h[i, j] + b[j]
            h[i, j] = v if v > zero else zero


@njit()
def relu_backward_sum(d: np.ndarray, a: np.ndarray, gb: np.ndarray) -> None:
    """``d *= (a > 0)`` in place and ``gb = d.sum(axis=0)``."""
    rows, cols = d.shape
    zero = d.dtype.type(0)
    for j in range(cols):
        gb[j] = zero
    for i in range(rows):
        for j in range(cols):
            v = d[i, j] if a[i, j] > zero else zero
            d[i, j] = v
            gb[j] += v


@njit()
def tanh_backward_sum(d: np.ndarray, a: np.ndarray, gb: np.ndarray) -> None:
    """``d *= 1 - a**2`` in place and ``gb = d.sum(axis=0)``."""
    rows, cols = d.shape
    one = d.dtype.type(1)
    for j in range(cols):
        gb[j] = 0
    for i in range(rows):
        for j in range(cols):
            x = a[i, j]
            v = d[i, j] * (one - x * x)
            d[i, j] = v
            gb[j] += v


@njit()
def logistic_backward_sum(d: np.ndarray, a: np.ndarray, gb: np.ndarray) -> None:
    """``d *= a * (1 - a)`` in place and ``gb = d.sum(axis=0)``."""
    rows, cols = d.shape
    one = d.dtype.type(1)
    for j in range(cols):
        gb[j] = 0
    for i in range(rows):
        for j in range(cols):
            x = a[i, j]
            v = d[i, j] * (x * (one - x))
            d[i, j] = v
            gb[j] += v


@njit()
def softmax_ce_grad(z: np.ndarray, target: np.ndarray, weight: np.ndarray, scale: float, gb: np.ndarray) -> float:
    """Logits ``z`` -> ``scale * w_i * (softmax(z) - onehot(target))`` in place, ``gb`` its column sums; returns
    ``scale * sum_i w_i * nll_i``. ``weight`` of length 0 means unit weights."""
    rows, cols = z.shape
    weighted = weight.shape[0] > 0
    for j in range(cols):
        gb[j] = 0
    total = 0.0
    for i in range(rows):
        m = z[i, 0]
        for j in range(1, cols):
            if z[i, j] > m:
                m = z[i, j]
        t = target[i]
        zt = z[i, t] - m
        s = z.dtype.type(0)
        for j in range(cols):
            e = math.exp(z[i, j] - m)
            z[i, j] = e
            s += e
        w = weight[i] if weighted else 1.0
        total += w * (math.log(s) - zt)
        c = z.dtype.type(scale * w) / s
        for j in range(cols):
            z[i, j] *= c
        z[i, t] -= z.dtype.type(scale * w)
        for j in range(cols):
            gb[j] += z[i, j]
    return total * scale
