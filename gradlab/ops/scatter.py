"""Index-driven reads and writes along a dimension: ``gather``, ``scatter``, ``scatter_add``, ``scatter_reduce``.

Each element of ``index`` names a position of the output along ``dim``; its other coordinates are its own. All
ops turn those positions into flat (linear) offsets once, then reduce with ``bincount`` (sums and counts) or with a
sort followed by ``ufunc.reduceat`` (products, maxima, minima): no Python loops and no unbuffered ``ufunc.at``.

>>> import gradlab
>>> x = gradlab.zeros(3, requires_grad=True)
>>> y = ScatterReduce.apply(x, gradlab.tensor([1.0, 2.0, 3.0]), 0, np.array([0, 0, 2]), "sum", True)
>>> y.tolist()
[3.0, 0.0, 3.0]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module

__all__ = ["Gather", "Scatter", "ScatterAdd", "ScatterReduce", "check_index", "REDUCTIONS"]

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def check_index(name: str, x_shape: tuple, dim: int, index: Any, src_shape: tuple | None = None) -> int:
    """``dim`` made non-negative after checking ``index`` against ``x`` (and ``src``) as torch does.

    >>> check_index("gather", (2, 3), -1, np.array([[0, 2]]))
    1
    """
    nd = len(x_shape)
    if not -max(nd, 1) <= dim < max(nd, 1):
        raise IndexError(f"{name}(): dim {dim} is out of range for a tensor with {nd} dimensions")
    dim %= max(nd, 1)
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): expected an integer (int64) index, got {index.dtype}")
    if index.ndim != max(nd, 1) and not (nd == 0 and index.ndim == 0):
        raise RuntimeError(f"{name}(): index has {index.ndim} dimensions but the tensor has {nd}")
    for d, n in enumerate(index.shape):
        if d != dim and n > x_shape[d]:
            raise RuntimeError(f"{name}(): index {tuple(index.shape)} is larger than the tensor {tuple(x_shape)} "
                               f"in dimension {d}")
        if src_shape is not None and n > src_shape[d]:
            raise RuntimeError(f"{name}(): index {tuple(index.shape)} is larger than src {tuple(src_shape)} "
                               f"in dimension {d}")
    if index.size:
        lo, hi = int(index.min()), int(index.max())
        size = x_shape[dim] if nd else 1
        if lo < 0 or hi >= size:
            raise IndexError(f"{name}(): index {lo if lo < 0 else hi} is out of bounds for dimension {dim} "
                             f"with size {size}")
    return dim


def _grid(xp: Any, index: Any, dim: int) -> tuple:
    """The open mesh addressing, for each element of ``index``, its target position (``index`` along ``dim``)."""
    grid = list(xp.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def _linear(xp: Any, shape: tuple, index: Any, dim: int) -> Any:
    """The flat offset into an array of ``shape`` of each target position (same shape as ``index``)."""
    strides = np.cumprod((1,) + tuple(shape[::-1]))[:-1][::-1]
    lin = xp.zeros(index.shape, dtype=np.int64)
    for d, g in enumerate(_grid(xp, index, dim)):
        lin = lin + g.astype(np.int64) * int(strides[d])
    return lin


def _src_part(src: Any, index: Any) -> Any:
    """The leading block of ``src`` that ``index`` covers."""
    return src[tuple(slice(0, n) for n in index.shape)]


def _pad_to(xp: Any, part: Any, shape: tuple) -> Any:
    """``part`` placed at the start of a zero array of ``shape``."""
    if part.shape == tuple(shape):
        return part
    out = xp.zeros(shape, dtype=part.dtype)
    out[tuple(slice(0, n) for n in part.shape)] = part
    return out


def _bincount(xp: Any, lin: Any, weights: Any, size: int, dtype: Any) -> Any:
    return xp.bincount(lin.ravel(), weights=weights.ravel(), minlength=size).astype(dtype, copy=False)


def _group_reduce(xp: Any, ufunc: Any, lin: Any, vals: Any, size: int, fill: Any) -> Any:
    """A flat array of ``size``: ``ufunc`` reduced over the values sharing each offset, ``fill`` elsewhere."""
    lin, vals = lin.ravel(), vals.ravel()
    out = xp.full(size, fill, dtype=vals.dtype)
    if lin.size == 0:
        return out
    order = xp.argsort(lin, kind="stable")
    ls, vs = lin[order], vals[order]
    starts = xp.flatnonzero(xp.concatenate([xp.ones(1, dtype=bool), ls[1:] != ls[:-1]]))
    out[ls[starts]] = ufunc.reduceat(vs, starts)
    return out


class Gather(Function):
    """``out[i][j] = x[index[i][j]][j]`` for ``dim=0`` (likewise for other dims), as ``torch.gather``; the gradient
    adds each output gradient back at the position it was read from.

    >>> Gather.apply(np.array([[1.0, 2.0], [3.0, 4.0]]), 1, np.array([[1], [0]])).tolist()
    [[2.0], [3.0]]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int, index: Any) -> Any:
        xp = get_array_module(x)
        dim = check_index("gather", x.shape, dim, index)
        ctx.meta = (x.shape, dim, index)
        return x[_grid(xp, index, dim)] if x.ndim else x.copy()

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        shape, dim, index = ctx.meta
        if not shape:
            return grad.copy(), None, None
        lin = _linear(xp, shape, index, dim)
        return _bincount(xp, lin, grad, int(np.prod(shape)), grad.dtype).reshape(shape), None, None


class Scatter(Function):
    """A copy of ``x`` with ``out[index[i][j]][j] = src[i][j]`` (``dim=0``); ``src`` is an array or a number.

    The gradient of ``x`` is zero where it was overwritten; ``src`` gets the output gradient gathered at ``index``.

    >>> Scatter.apply(np.zeros(3), np.array([5.0]), 0, np.array([2])).tolist()
    [0.0, 0.0, 5.0]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, src: Any, dim: int, index: Any) -> Any:
        xp = get_array_module(x)
        scalar = np.ndim(src) == 0 and not hasattr(src, "shape")
        dim = check_index("scatter", x.shape, dim, index, None if scalar else src.shape)
        grid = _grid(xp, index, dim)
        out = x.copy()
        out[grid] = src if scalar else _src_part(src, index)
        ctx.meta = (dim, index, grid, None if scalar else src.shape)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        dim, index, grid, src_shape = ctx.meta
        gx = None
        if ctx.needs_input_grad[0]:
            gx = grad.copy()
            gx[grid] = 0
        gsrc = None
        if src_shape is not None and ctx.needs_input_grad[1]:
            gsrc = _pad_to(xp, grad[grid], src_shape)
        return gx, gsrc, None, None


class ScatterAdd(Function):
    """``x`` plus ``src`` added at ``index`` along ``dim`` (repeated positions accumulate), as ``torch.scatter_add``.

    >>> ScatterAdd.apply(np.zeros(2), np.ones(3), 0, np.array([1, 1, 0])).tolist()
    [1.0, 2.0]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, src: Any, dim: int, index: Any) -> Any:
        xp = get_array_module(x)
        dim = check_index("scatter_add", x.shape, dim, index, src.shape)
        lin = _linear(xp, x.shape, index, dim)
        ctx.meta = (dim, index, src.shape)
        added = _bincount(xp, lin, _src_part(src, index), x.size, x.dtype).reshape(x.shape)
        return x + added

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        dim, index, src_shape = ctx.meta
        gsrc = _pad_to(xp, grad[_grid(xp, index, dim)], src_shape) if ctx.needs_input_grad[1] else None
        return grad, gsrc, None, None


class ScatterReduce(Function):
    """``src`` reduced into ``x`` at ``index`` along ``dim`` with ``reduce`` ("sum", "prod", "mean", "amax",
    "amin"), counting ``x``'s own value when ``include_self``; positions no index names keep ``x``'s value.

    Gradients as torch's: ``mean`` divides by the count; ``amax``/``amin`` share the gradient evenly among the
    tied winners; ``prod`` passes the product of the others (exact with zeros among the values).

    >>> ScatterReduce.apply(np.ones(2), np.array([3.0, 5.0, 4.0]), 0, np.array([0, 0, 1]), "amax", False).tolist()
    [5.0, 4.0]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, src: Any, dim: int, index: Any, reduce: str, include_self: bool) -> Any:
        if reduce not in REDUCTIONS:
            raise RuntimeError(f"scatter_reduce(): reduce must be one of {REDUCTIONS}, got {reduce!r}")
        xp = get_array_module(x)
        dim = check_index("scatter_reduce", x.shape, dim, index, src.shape)
        lin = _linear(xp, x.shape, index, dim)
        vals = _src_part(src, index)
        n = x.size
        flat_x = x.reshape(-1)
        count = xp.bincount(lin.ravel(), minlength=n)
        touched = count > 0
        keep = flat_x if include_self else xp.where(touched, _identity(reduce, x.dtype), flat_x)
        if reduce in ("sum", "mean"):
            red = _bincount(xp, lin, vals, n, x.dtype) + (keep if include_self else xp.where(touched, 0, flat_x))
            if reduce == "mean":
                total = count + (1 if include_self else 0)
                red = xp.where(touched, red / xp.maximum(total, 1), flat_x).astype(x.dtype, copy=False)
            out = red
        else:
            ufunc = {"prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[reduce]
            grouped = _group_reduce(xp, ufunc, lin, vals, n, _identity(reduce, x.dtype))
            out = xp.where(touched, ufunc(grouped, keep) if include_self else grouped, flat_x)
        out = out.reshape(x.shape)
        ctx.meta = (dim, index, lin, count, src.shape, reduce, include_self)
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        dim, index, lin, count, src_shape, reduce, include_self = ctx.meta
        x, src, out = ctx.saved_tensors
        n = x.size
        touched = (count > 0).reshape(x.shape)
        grid = _grid(xp, index, dim)
        vals = _src_part(src, index)
        if reduce == "sum":
            gx = grad if include_self else xp.where(touched, 0, grad)
            gv = grad[grid]
        elif reduce == "mean":
            total = (count + (1 if include_self else 0)).reshape(x.shape)
            g = grad / xp.maximum(total, 1)
            gx = xp.where(touched, g if include_self else 0, grad)
            gv = g[grid]
        elif reduce in ("amax", "amin"):
            win_v = vals == out[grid]
            win_x = x == out  # as torch: self counts among the ties even without include_self
            ties = (_bincount(xp, lin, win_v.astype(grad.dtype), n, grad.dtype).reshape(x.shape)
                    + win_x.astype(grad.dtype))
            g = grad / xp.maximum(ties, 1)
            gx = xp.where(touched, xp.where(win_x, g, 0) if include_self else 0, grad)
            gv = xp.where(win_v, g[grid], 0)
        else:
            gx, gv = _prod_grads(xp, grad, x, vals, lin, grid, touched, include_self)
        gsrc = _pad_to(xp, gv.astype(grad.dtype, copy=False), src_shape) if ctx.needs_input_grad[1] else None
        return gx.astype(grad.dtype, copy=False), gsrc, None, None, None, None


def _identity(reduce: str, dtype: Any) -> Any:
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).max
    return -big if reduce == "amax" else big


def _prod_grads(xp: Any, grad: Any, x: Any, vals: Any, lin: Any, grid: tuple, touched: Any,
                include_self: bool) -> tuple:
    """The gradient of a product with respect to each factor: the product of the other factors of its group."""
    n = x.size
    flat_x = x.reshape(-1)
    tf = touched.reshape(-1)
    zeros = _bincount(xp, lin, (vals == 0).astype(np.int64), n, np.int64)
    nonzero = _group_reduce(xp, xp.multiply, lin, xp.where(vals == 0, 1, vals), n, 1.0)
    if include_self:
        zeros = zeros + (tf & (flat_x == 0))
        nonzero = xp.where(tf & (flat_x != 0), nonzero * flat_x, nonzero)
    zeros, nonzero = zeros.reshape(x.shape), nonzero.reshape(x.shape)

    def others(v: Any, z: Any, p: Any) -> Any:  # product of the group without the factor v
        return xp.where(v == 0, xp.where(z == 1, p, 0), xp.where(z == 0, p / xp.where(v == 0, 1, v), 0))

    gv = grad[grid] * others(vals, zeros[grid], nonzero[grid])
    if include_self:
        gx = xp.where(touched, grad * others(x, zeros, nonzero), grad)
    else:
        gx = xp.where(touched, 0, grad)
    return gx, gv
