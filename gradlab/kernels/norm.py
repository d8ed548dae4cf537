"""Fused training-mode BatchNorm forward and backward, each beside its NumPy twin.

Forward: per channel, the statistics in one pass and the normalise + affine in a second, writing only the output
(the backward recomputes ``xhat`` from ``x``, ``mean`` and ``invstd`` instead of the op keeping a second
full-size array). Backward: per channel, ``sum(grad)`` and ``sum(grad * xhat)`` in one pass (they are also the
bias and weight gradients), then the input gradient in a second. Inputs of any rank >= 2 are viewed as (N, C, S).

``gradlab.ops.nn.BatchNorm`` uses them in training mode on CPU float arrays when the kernel set is numba (under
``auto`` from ``BN_THRESHOLD`` elements); eval mode and the running-stat updates stay in NumPy.

>>> import numpy as np
>>> out, mean, var, invstd = batch_norm_train_numpy(np.array([[1.0, 10.0], [3.0, 30.0]]), None, None, 0.0)
>>> out.tolist(), mean.tolist(), var.tolist()
([[-1.0, -1.0], [1.0, 1.0]], [2.0, 20.0], [1.0, 100.0])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.kernels import _norm_loops as loops
from gradlab.kernels._select import wants_numba

__all__ = [
    "BN_THRESHOLD",
    "batch_norm_train",
    "batch_norm_train_numpy",
    "batch_norm_train_backward",
    "batch_norm_train_backward_numpy",
]

# Below this many input elements ``auto`` keeps NumPy (a (128, 64) feature batch is 8192).
BN_THRESHOLD = 32768


def _as_ncs(a: Any) -> Any:
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], -1)


def _params(weight: Any, bias: Any, c: int, dtype: Any) -> tuple[Any, Any]:
    w = np.ones(c, dtype=dtype) if weight is None else np.ascontiguousarray(weight, dtype=dtype)
    b = np.zeros(c, dtype=dtype) if bias is None else np.ascontiguousarray(bias, dtype=dtype)
    return w, b


def _use_loops(x: Any, *others: Any) -> bool:
    arrays = (x, *(a for a in others if a is not None))
    ok = all(type(a) is np.ndarray and a.dtype == x.dtype for a in arrays)  # plain CPU arrays only
    return ok and x.dtype in (np.float32, np.float64) and wants_numba(x.size, BN_THRESHOLD)


def _check(x: Any) -> None:
    if x.ndim < 2:
        raise ValueError(f"batch norm expects an input of at least 2 dims (N, C, ...), got shape {tuple(x.shape)}")
    if x.size // x.shape[1] <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")


def batch_norm_train_numpy(x: Any, weight: Any, bias: Any, eps: float) -> tuple[Any, Any, Any, Any]:
    """``(out, mean, var, invstd)``: batch norm of ``x`` (N, C, ...) with its own statistics over every axis but 1
    (biased variance); ``mean``, ``var``, ``invstd`` are float64 (C,) arrays computed in ``x``'s dtype.

    >>> batch_norm_train_numpy(np.array([[0.0], [2.0]]), np.array([2.0]), np.array([1.0]), 0.0)[0].tolist()
    [[-1.0], [3.0]]
    """
    _check(x)
    axes = (0, *range(2, x.ndim))
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = np.mean(xc * xc, axis=axes, keepdims=True)
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    xc *= invstd
    if weight is not None:
        xc *= weight.reshape(bshape)
    if bias is not None:
        xc += bias.reshape(bshape)
    return xc, *(a.reshape(-1).astype(np.float64) for a in (mean, var, invstd))


def batch_norm_train(x: Any, weight: Any, bias: Any, eps: float) -> tuple[Any, Any, Any, Any]:
    """:func:`batch_norm_train_numpy`, fused (statistics accumulated in float64) when the kernel set says so.

    >>> from gradlab import kernels
    >>> with kernels.use("numpy"):
    ...     batch_norm_train(np.array([[0.0], [2.0]]), None, None, 0.0)[0].tolist()
    [[-1.0], [1.0]]
    """
    if not _use_loops(x, weight, bias):
        return batch_norm_train_numpy(x, weight, bias, eps)
    _check(x)
    c = x.shape[1]
    w, b = _params(weight, bias, c, x.dtype)
    out = np.empty(x.shape, dtype=x.dtype)
    mean, var, invstd = np.empty(c), np.empty(c), np.empty(c)
    loop = loops.batch_norm_forward_2d_loop if x.size == x.shape[0] * c else loops.batch_norm_forward_loop
    loop(_as_ncs(x), w, b, float(eps), out.reshape(x.shape[0], c, -1), mean, var, invstd)
    return out, mean, var, invstd


def batch_norm_train_backward_numpy(grad: Any, x: Any, mean: Any, invstd: Any, weight: Any
                                    ) -> tuple[Any, Any, Any]:
    """``(gx, gw, gb)`` of :func:`batch_norm_train_numpy` from the output gradient and the forward's ``x``, ``mean``,
    ``invstd``; ``gw``/``gb`` are per channel (C,) in ``grad``'s dtype.

    >>> gx, gw, gb = batch_norm_train_backward_numpy(np.ones((2, 1)), np.array([[1.0], [3.0]]), np.array([2.0]),
    ...                                              np.array([1.0]), None)
    >>> gx.tolist(), gw.tolist(), gb.tolist()
    ([[0.0], [0.0]], [0.0], [2.0])
    """
    axes = (0, *range(2, x.ndim))
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    dt = x.dtype
    xhat = (x - mean.astype(dt).reshape(bshape)) * invstd.astype(dt).reshape(bshape)
    gxhat = grad * weight.reshape(bshape) if weight is not None else grad
    mg = gxhat.mean(axis=axes, keepdims=True)
    mgx = np.mean(gxhat * xhat, axis=axes, keepdims=True)
    gx = invstd.astype(dt).reshape(bshape) * (gxhat - mg - xhat * mgx)
    return gx, np.sum(grad * xhat, axis=axes), grad.sum(axis=axes)


def batch_norm_train_backward(grad: Any, x: Any, mean: Any, invstd: Any, weight: Any) -> tuple[Any, Any, Any]:
    """:func:`batch_norm_train_backward_numpy`, fused (two passes per channel) when the kernel set says so.

    >>> from gradlab import kernels
    >>> with kernels.use("numpy"):
    ...     batch_norm_train_backward(np.ones((2, 1)), np.array([[1.0], [3.0]]), np.array([2.0]), np.array([1.0]),
    ...                               None)[2].tolist()
    [2.0]
    """
    if not _use_loops(x, grad, weight):
        return batch_norm_train_backward_numpy(grad, x, mean, invstd, weight)
    c = x.shape[1]
    w, _ = _params(weight, None, c, x.dtype)
    gx = np.empty(x.shape, dtype=x.dtype)
    gw, gb = np.empty(c), np.empty(c)
    loop = loops.batch_norm_backward_2d_loop if x.size == x.shape[0] * c else loops.batch_norm_backward_loop
    loop(_as_ncs(grad), _as_ncs(x), np.ascontiguousarray(mean, dtype=np.float64),
                                   np.ascontiguousarray(invstd, dtype=np.float64), w, gx.reshape(x.shape[0], c, -1),
                                   gw, gb)
    return gx, gw.astype(x.dtype), gb.astype(x.dtype)
