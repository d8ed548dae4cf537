"""The numba loops behind :mod:`gradlab.kernels.norm` (compiled lazily on first call, cached on disk).

Inputs are viewed as (N, C, S): S = 1 for (N, C), H*W for (N, C, H, W). Statistics accumulate in float64 whatever
the input dtype; one signature per dtype.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.kernels._select import njit

__all__ = [
    "batch_norm_forward_loop",
    "batch_norm_backward_loop",
    "batch_norm_forward_2d_loop",
    "batch_norm_backward_2d_loop",
]


@njit()
def batch_norm_forward_loop(x: Any, weight: Any, bias: Any, eps: float, out: Any, mean: Any, var: Any,
                            invstd: Any) -> None:
    """Training-mode batch norm of ``x`` (N, C, S) into ``out``; per channel ``mean``, biased ``var`` and
    ``invstd`` (float64) are written too.

    One pass for the statistics, with sums shifted by the channel's first value (no cancellation when the mean
    is large against the spread), then one pass for ``(x - mean) * (invstd * weight) + bias`` (centred first,
    as the NumPy twin).

    >>> import numpy as np
    >>> x = np.array([[[1.0]], [[3.0]]]); out = np.empty_like(x); m, v, s = np.empty(1), np.empty(1), np.empty(1)
    >>> batch_norm_forward_loop.py_func(x, np.ones(1), np.zeros(1), 0.0, out, m, v, s); out.ravel().tolist(), m, v
    ([-1.0, 1.0], array([2.]), array([1.]))
    """
    n_, c_, s_ = x.shape
    m = n_ * s_
    for c in range(c_):
        k = float(x[0, c, 0])
        s1 = 0.0
        s2 = 0.0
        for n in range(n_):
            row = x[n, c]
            for i in range(s_):
                d = float(row[i]) - k
                s1 += d
                s2 += d * d
        mu = s1 / m
        v = max(s2 / m - mu * mu, 0.0)
        mean[c] = mu + k
        var[c] = v
        inv = 1.0 / (v + eps) ** 0.5
        invstd[c] = inv
        sc = out.dtype.type(inv * float(weight[c]))
        mf = out.dtype.type(mu + k)
        bf = out.dtype.type(bias[c])
        for n in range(n_):
            row = x[n, c]
            dst = out[n, c]
            for i in range(s_):
                dst[i] = (row[i] - mf) * sc + bf


@njit()
def batch_norm_backward_loop(grad: Any, x: Any, mean: Any, invstd: Any, weight: Any, gx: Any, gw: Any,
                             gb: Any) -> None:
    """Gradients of training-mode batch norm from the output gradient ``grad`` (N, C, S) and the forward's ``x``,
    ``mean`` and ``invstd``: ``gx`` (N, C, S), ``gw = sum(grad * xhat)`` and ``gb = sum(grad)`` per channel, with
    ``xhat = (x - mean) * invstd`` recomputed on the fly (never stored).

    >>> import numpy as np
    >>> g = np.array([[[1.0]], [[1.0]]]); x = np.array([[[1.0]], [[3.0]]]); gx = np.empty_like(x)
    >>> gw, gb = np.empty(1), np.empty(1)
    >>> batch_norm_backward_loop.py_func(g, x, np.array([2.0]), np.array([1.0]), np.ones(1), gx, gw, gb)
    >>> gx.ravel().tolist(), gw.tolist(), gb.tolist()
    ([0.0, 0.0], [0.0], [2.0])
    """
    n_, c_, s_ = x.shape
    m = n_ * s_
    for c in range(c_):
        mu = float(mean[c])
        inv = float(invstd[c])
        sg = 0.0
        sgx = 0.0
        for n in range(n_):
            g = grad[n, c]
            row = x[n, c]
            for i in range(s_):
                gi = float(g[i])
                sg += gi
                sgx += gi * (float(row[i]) - mu)
        sgx *= inv  # sum(grad * xhat)
        gb[c] = sg
        gw[c] = sgx
        # gx = w * inv * (g - sg/m - xhat * sgx/m) = a * g + b * (x - mean) + d
        a = float(weight[c]) * inv
        ga = gx.dtype.type(a)
        gb_ = gx.dtype.type(-a * inv * sgx / m)
        gd = gx.dtype.type(-a * sg / m)
        mf = gx.dtype.type(mu)
        for n in range(n_):
            g = grad[n, c]
            row = x[n, c]
            dst = gx[n, c]
            for i in range(s_):
                dst[i] = ga * g[i] + gb_ * (row[i] - mf) + gd


@njit()
def batch_norm_forward_2d_loop(x: Any, weight: Any, bias: Any, eps: float, out: Any, mean: Any, var: Any,
                               invstd: Any) -> None:
    """:func:`batch_norm_forward_loop` for (N, C, 1): channels innermost, so every pass runs along contiguous rows,
    with per-channel float64 accumulators (shifted by row 0).

    >>> x = np.array([[[1.0]], [[3.0]]]); out = np.empty_like(x); m, v, s = np.empty(1), np.empty(1), np.empty(1)
    >>> batch_norm_forward_2d_loop.py_func(x, np.ones(1), np.zeros(1), 0.0, out, m, v, s); out.ravel().tolist()
    [-1.0, 1.0]
    """
    n_, c_ = x.shape[0], x.shape[1]
    k = x[0, :, 0].astype(np.float64)
    s1 = np.zeros(c_)
    s2 = np.zeros(c_)
    for n in range(n_):
        for c in range(c_):
            d = float(x[n, c, 0]) - k[c]
            s1[c] += d
            s2[c] += d * d
    sc = np.empty(c_, dtype=out.dtype)
    mf = np.empty(c_, dtype=out.dtype)
    for c in range(c_):
        mu = s1[c] / n_
        v = max(s2[c] / n_ - mu * mu, 0.0)
        mean[c] = mu + k[c]
        var[c] = v
        invstd[c] = 1.0 / (v + eps) ** 0.5
        sc[c] = invstd[c] * float(weight[c])
        mf[c] = mean[c]
    for n in range(n_):
        for c in range(c_):
            out[n, c, 0] = (x[n, c, 0] - mf[c]) * sc[c] + bias[c]


@njit()
def batch_norm_backward_2d_loop(grad: Any, x: Any, mean: Any, invstd: Any, weight: Any, gx: Any, gw: Any,
                                gb: Any) -> None:
    """:func:`batch_norm_backward_loop` for (N, C, 1), channels innermost.

    >>> g = np.array([[[1.0]], [[1.0]]]); x = np.array([[[1.0]], [[3.0]]]); gx = np.empty_like(x)
    >>> gw, gb = np.empty(1), np.empty(1)
    >>> batch_norm_backward_2d_loop.py_func(g, x, np.array([2.0]), np.array([1.0]), np.ones(1), gx, gw, gb)
    >>> gx.ravel().tolist(), gb.tolist()
    ([0.0, 0.0], [2.0])
    """
    n_, c_ = x.shape[0], x.shape[1]
    sg = np.zeros(c_)
    sgx = np.zeros(c_)
    for n in range(n_):
        for c in range(c_):
            gi = float(grad[n, c, 0])
            sg[c] += gi
            sgx[c] += gi * (float(x[n, c, 0]) - mean[c])
    ga = np.empty(c_, dtype=gx.dtype)
    gb_ = np.empty(c_, dtype=gx.dtype)
    gd = np.empty(c_, dtype=gx.dtype)
    mf = np.empty(c_, dtype=gx.dtype)
    for c in range(c_):
        inv = float(invstd[c])
        s = sgx[c] * inv
        gb[c] = sg[c]
        gw[c] = s
        a = float(weight[c]) * inv
        ga[c] = a
        gb_[c] = -a * inv * s / n_
        gd[c] = -a * sg[c] / n_
        mf[c] = mean[c]
    for n in range(n_):
        for c in range(c_):
            gx[n, c, 0] = ga[c] * grad[n, c, 0] + gb_[c] * (x[n, c, 0] - mf[c]) + gd[c]
