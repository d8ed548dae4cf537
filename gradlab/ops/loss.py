"""Loss ops, each one fused ``Function`` with an analytic backward (PyTorch semantics).

``CrossEntropy`` is log-softmax and negative log-likelihood in one stable pass; its backward is
``(softmax * sum(q) - q) * scale`` where ``q`` is the (weighted, smoothed) target distribution.
Class weights and ``pos_weight`` arguments are constants: they receive no gradient.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module
from gradlab.ops.activation import softplus0, stable_sigmoid
from gradlab.ops.elementwise import unbroadcast

__all__ = ["CrossEntropy", "NLLLoss", "PointwiseLoss", "BCELoss", "BCEWithLogits", "KLDiv", "REDUCTIONS"]

REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss: Any, reduction: str, denom: Any = None) -> Any:
    xp = get_array_module(loss)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            total = total / (loss.size if denom is None else denom)
    return xp.asarray(total, dtype=loss.dtype)


def _grad_scale(grad: Any, reduction: str, denom: Any, shape: tuple) -> Any:
    """The incoming gradient per loss element: broadcast scalar for mean/sum, the array itself for 'none'."""
    if reduction == "none":
        return grad.reshape(shape)
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            return grad / denom
    return grad


def _rows(x: Any) -> Any:
    """(C,) -> (1, C); (N, C) as is; (N, C, d1, ...) -> (N*d1*..., C) with the class axis last."""
    xp = get_array_module(x)
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x.reshape(1, -1)
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _unrows(g: Any, shape: tuple) -> Any:
    xp = get_array_module(g)
    if len(shape) <= 2:
        return g.reshape(shape)
    moved = (shape[0], *shape[2:], shape[1])
    return xp.moveaxis(g.reshape(moved), -1, 1)


def _check_targets(y: Any, n_classes: int, ignore_index: int) -> Any:
    """Boolean mask of the targets that count (``None`` when all do); raises IndexError for out-of-range ones."""
    lo, hi = (int(y.min()), int(y.max())) if y.size else (0, 0)
    if lo >= 0 and hi < n_classes and not lo <= ignore_index <= hi:
        return None
    valid = y != ignore_index
    bad = y[valid & ((y < 0) | (y >= n_classes))]
    if bad.size:
        raise IndexError(f"Target {int(bad[0])} is out of bounds (the input has {n_classes} classes).")
    return valid


class CrossEntropy(Function):
    """Cross-entropy from logits with class-index or class-probability targets, weights, smoothing, ignore_index.

    >>> x = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]))
    >>> CrossEntropy.apply(x, np.array([0, 1]), None, -100, "none")
    tensor([0.6931, 0.2231], dtype=float64)
    >>> CrossEntropy.apply(x, np.array([0, 3]))
    Traceback (most recent call last):
        ...
    IndexError: Target 3 is out of bounds (the input has 3 classes).
    """

    @staticmethod
    def forward(
        ctx: Context, x: Any, target: Any, weight: Any = None, ignore_index: int = -100,
        reduction: str = "mean", label_smoothing: float = 0.0,
    ) -> Any:  # fmt: skip
        xp = get_array_module(x)
        x2 = _rows(x)
        n, c = x2.shape
        shifted = x2 - x2.max(axis=1, keepdims=True)
        p = xp.exp(shifted)
        s = p.sum(axis=1, keepdims=True)
        logs = xp.log(s)
        p /= s
        ctx.shape, ctx.reduction = x.shape, reduction
        probs = target.dtype.kind == "f"
        if not probs:
            expected = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
            if target.shape != expected:
                raise ValueError(f"cross_entropy: expected target size {expected} for input of shape {x.shape}, "
                                 f"got {target.shape}")
            y = target.reshape(-1)
            valid = _check_targets(y, c, ignore_index)
            if valid is None and weight is None and label_smoothing == 0.0:  # the hot path
                ar = xp.arange(n)
                ctx.simple, ctx.y, ctx.ar, ctx.denom = True, y, ar, n
                ctx.save_for_backward(p)
                loss_i = logs[:, 0] - shifted[ar, y]
                return _reduce(loss_i.reshape(expected), reduction, n)
            q, wy = _index_distribution(y, valid, weight, label_smoothing, n, c, x.dtype)
            denom = wy.sum() if weight is not None else (n if valid is None else int(valid.sum()))
        else:
            if target.shape != x.shape:
                raise ValueError(f"cross_entropy: probability targets of shape {target.shape} must match the input "
                                 f"shape {x.shape}")
            t2 = _rows(target)
            q = t2 * (1 - label_smoothing) + label_smoothing / c if label_smoothing > 0 else t2
            if weight is not None:
                q = q * weight
            denom = n
        logp = shifted - logs
        loss_i = -(q * logp).sum(axis=1)
        ctx.simple, ctx.denom, ctx.probs, ctx.smoothing = False, denom, probs, label_smoothing
        ctx.save_for_backward(p, q, logp if probs and ctx.needs_input_grad[1] else None, weight)
        return _reduce(loss_i.reshape(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()), reduction, denom)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g = _grad_scale(grad, ctx.reduction, ctx.denom, (-1,))
        gcol = g[:, None] if g.ndim else g
        if ctx.simple:
            (p,) = ctx.saved_tensors
            gx = p * gcol
            gx[ctx.ar, ctx.y] -= g
            return _unrows(gx, ctx.shape), None, None, None, None, None
        p, q, logp, weight = ctx.saved_tensors
        gx = (p * q.sum(axis=1, keepdims=True) - q) * gcol if ctx.needs_input_grad[0] else None
        gt = None
        if ctx.probs and ctx.needs_input_grad[1]:
            w = weight if weight is not None else 1.0
            gt = _unrows(-(1 - ctx.smoothing) * w * logp * gcol, ctx.shape)
        return (None if gx is None else _unrows(gx, ctx.shape)), gt, None, None, None, None


def _index_distribution(y: Any, valid: Any, weight: Any, eps: float, n: int, c: int, dtype: Any) -> tuple:
    """(q, wy): the target distribution (N, C) for class indices, (1-eps) * w[y] at y plus eps * w / C everywhere,
    and the per-sample weights w[y] (0 where ignored), whose sum is the mean's normaliser."""
    xp = get_array_module(y)
    ys = y if valid is None else xp.where(valid, y, 0)
    wy = weight[ys].astype(dtype) if weight is not None else xp.ones(n, dtype=dtype)
    if valid is not None:
        wy *= valid
    q = xp.zeros((n, c), dtype=dtype)
    if eps > 0:
        q += (eps / c) * (weight.astype(dtype) if weight is not None else xp.ones(c, dtype=dtype))
        if valid is not None:
            q *= valid[:, None]
    q[xp.arange(n), ys] += (1 - eps) * wy
    return q, wy


class NLLLoss(Function):
    """Negative log-likelihood of log-probabilities ``x`` at class indices ``target``.

    >>> NLLLoss.apply(np.array([[-1.0, -2.0], [-3.0, -0.5]]), np.array([1, 1]))
    tensor(1.25, dtype=float64)
    """

    @staticmethod
    def forward(
        ctx: Context, x: Any, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
    ) -> Any:  # fmt: skip
        xp = get_array_module(x)
        x2 = _rows(x)
        n, c = x2.shape
        y = target.reshape(-1)
        valid = _check_targets(y, c, ignore_index)
        ys = y if valid is None else xp.where(valid, y, 0)
        wy = weight[ys].astype(x.dtype) if weight is not None else xp.ones(n, dtype=x.dtype)
        if valid is not None:
            wy *= valid
        ar = xp.arange(n)
        loss_i = -wy * x2[ar, ys]
        denom = wy.sum() if weight is not None else (n if valid is None else int(valid.sum()))
        ctx.shape, ctx.reduction, ctx.denom, ctx.ys, ctx.wy, ctx.ar = x.shape, reduction, denom, ys, wy, ar
        return _reduce(loss_i.reshape(target.shape), reduction, denom)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        g = _grad_scale(grad, ctx.reduction, ctx.denom, (-1,))
        n = ctx.ar.size
        gx = xp.zeros((n, ctx.shape[1] if len(ctx.shape) > 1 else ctx.shape[0]), dtype=grad.dtype)
        gx[ctx.ar, ctx.ys] = -ctx.wy * g
        return _unrows(gx, ctx.shape), None, None, None, None


def _pointwise(kind: str, d: Any, param: float) -> tuple:
    """Elementwise loss of the difference ``d = input - target`` and its derivative."""
    xp = get_array_module(d)
    if kind == "mse":
        return d * d, 2 * d
    a = xp.abs(d)
    if kind == "l1" or param == 0:
        return a, xp.sign(d)
    small = a < param
    if kind == "huber":
        return xp.where(small, 0.5 * d * d, param * (a - 0.5 * param)), xp.clip(d, -param, param)
    # smooth_l1 with beta = param
    return xp.where(small, 0.5 * d * d / param, a - 0.5 * param), xp.clip(d / param, -1, 1)


class PointwiseLoss(Function):
    """MSE, L1, Huber (``param`` = delta) and smooth-L1 (``param`` = beta) with broadcasting and optional weights.

    >>> x, y = np.array([0.0, 3.0]), np.array([1.0, 1.0])
    >>> [PointwiseLoss.apply(x, y, None, k, 1.0, "none").tolist() for k in ("mse", "l1", "huber")]
    [[1.0, 4.0], [1.0, 2.0], [0.5, 1.5]]
    """

    @staticmethod
    def forward(
        ctx: Context, x: Any, y: Any, weight: Any, kind: str, param: float, reduction: str,
        weighted_mean_by_weight_sum: bool = True,
    ) -> Any:  # fmt: skip
        d = x - y
        loss, dl = _pointwise(kind, d, param)
        loss = loss.astype(d.dtype, copy=False)
        denom = loss.size
        if weight is not None:
            loss = loss * weight
            dl = dl * weight
            if weighted_mean_by_weight_sum:
                denom = weight.sum()
        ctx.dl, ctx.reduction, ctx.denom = dl.astype(d.dtype, copy=False), reduction, denom
        ctx.shapes = (x.shape, y.shape)
        return _reduce(loss, reduction, denom)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g = ctx.dl * _grad_scale(grad, ctx.reduction, ctx.denom, ctx.dl.shape)
        nx, ny = ctx.needs_input_grad[:2]
        sx, sy = ctx.shapes
        return (unbroadcast(g, sx) if nx else None, unbroadcast(-g, sy) if ny else None, None, None, None, None, None)


class BCELoss(Function):
    """Binary cross-entropy of probabilities, each log clamped to >= -100 as torch does.

    >>> BCELoss.apply(np.array([0.5, 0.0]), np.array([1.0, 1.0]), None, "none")  # log(0) clamped to -100
    tensor([  0.6931, 100.    ], dtype=float64)
    """

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, weight: Any = None, reduction: str = "mean") -> Any:
        xp = get_array_module(x)
        if x.size and (x.min() < 0 or x.max() > 1):
            raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
        with np.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = -(y * log_x + (1 - y) * log_1mx)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight)
        ctx.logs = (log_x, log_1mx)
        ctx.reduction = reduction
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        x, y, weight = ctx.saved_tensors
        g = _grad_scale(grad, ctx.reduction, x.size, x.shape)
        if weight is not None:
            g = g * weight
        gx = g * (x - y) / xp.maximum((1 - x) * x, 1e-12) if ctx.needs_input_grad[0] else None
        gy = None
        if ctx.needs_input_grad[1]:
            log_x, log_1mx = ctx.logs
            gy = g * (log_1mx - log_x)
        return gx, gy, None, None


class BCEWithLogits(Function):
    """Stable binary cross-entropy from logits: ``(1 - y) x + (1 + (pw - 1) y) softplus(-x)``, times ``weight``.

    >>> BCEWithLogits.apply(np.array([0.0, 1000.0]), np.array([1.0, 0.0]), None, None, "none").tolist()
    [0.6931471805599453, 1000.0]
    """

    @staticmethod
    def forward(
        ctx: Context, x: Any, y: Any, weight: Any = None, pos_weight: Any = None, reduction: str = "mean",
    ) -> Any:  # fmt: skip
        sp = softplus0(-x)  # softplus(-x) = -log(sigmoid(x)), stable
        lw = 1 + (pos_weight - 1) * y if pos_weight is not None else None
        loss = (1 - y) * x + (sp if lw is None else lw * sp)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight, pos_weight)
        ctx.reduction, ctx.sp, ctx.lw = reduction, sp, lw
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        x, y, weight, pos_weight = ctx.saved_tensors
        shape = xp.broadcast_shapes(x.shape, y.shape) if weight is None else xp.broadcast_shapes(
            x.shape, y.shape, weight.shape)
        g = _grad_scale(grad, ctx.reduction, int(np.prod(shape)), shape)
        if weight is not None:
            g = g * weight
        gx = gy = None
        if ctx.needs_input_grad[0]:
            s = stable_sigmoid(x)
            d = s - y if ctx.lw is None else (1 - y) - ctx.lw * (1 - s)
            gx = unbroadcast(g * d, x.shape)
        if ctx.needs_input_grad[1]:
            d = -x if pos_weight is None else -x + (pos_weight - 1) * ctx.sp
            gy = unbroadcast(g * d, y.shape)
        return gx, gy, None, None, None


class KLDiv(Function):
    """Pointwise KL divergence ``target * (log(target) - input)`` (``input`` holds log-probabilities).

    >>> p = np.array([0.5, 0.5])
    >>> KLDiv.apply(np.log(p), p, "sum").item()
    0.0
    """

    @staticmethod
    def forward(ctx: Context, x: Any, t: Any, reduction: str = "mean", log_target: bool = False) -> Any:
        xp = get_array_module(x)
        if log_target:
            et = xp.exp(t)
            loss = et * (t - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                logt = xp.where(t > 0, xp.log(xp.where(t > 0, t, 1)), 0)
            et = t
            loss = t * logt - t * x
            ctx.logt = logt
        denom = x.size
        if reduction == "batchmean":
            denom = x.shape[0] if x.ndim else 1
            reduction = "mean"
        ctx.save_for_backward(x, t)
        ctx.et, ctx.reduction, ctx.denom, ctx.log_target = et, reduction, denom, log_target
        return _reduce(loss.astype(x.dtype, copy=False), reduction, denom)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        x, t = ctx.saved_tensors
        shape = xp.broadcast_shapes(x.shape, t.shape)
        g = _grad_scale(grad, ctx.reduction, ctx.denom, shape)
        gx = unbroadcast(-ctx.et * g, x.shape) if ctx.needs_input_grad[0] else None
        gt = None
        if ctx.needs_input_grad[1]:
            d = ctx.et * (t - x + 1) if ctx.log_target else ctx.logt + 1 - x
            gt = unbroadcast(g * d, t.shape)
        return gx, gt, None, None
