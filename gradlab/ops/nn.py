"""Neural-network ops fused for speed and stability: linear, softmax, log-softmax, dropout, batch/layer norm."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module
from gradlab.kernels import norm as knorm
from gradlab.kernels._select import wants_numba

__all__ = ["Linear", "Softmax", "LogSoftmax", "Dropout", "BatchNorm", "LayerNorm"]


class Linear(Function):
    """``x @ weight.T + bias`` in one GEMM with the bias added in place.

    >>> Linear.apply(np.ones((2, 3)), np.ones((4, 3)), np.arange(4.0))
    tensor([[3., 4., 5., 6.],
            [3., 4., 5., 6.]], dtype=float64)
    """

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any = None) -> Any:
        if x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} has {x.shape[-1]} features but the weight of shape "
                f"{weight.shape} expects {weight.shape[1]} (mat1 and mat2 shapes cannot be multiplied)"
            )
        out = x @ weight.T
        if bias is not None:
            out += bias
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, weight = ctx.saved_tensors
        nx, nw, nb = (*ctx.needs_input_grad, False)[:3]
        g2 = grad.reshape(-1, grad.shape[-1])
        gx = (grad @ weight) if nx else None
        gw = (g2.T @ x.reshape(-1, x.shape[-1])) if nw else None
        gb = g2.sum(axis=0) if nb and ctx.has_bias else None
        return gx, gw, gb


class Softmax(Function):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed after subtracting the maximum.

    >>> Softmax.apply(np.array([[0.0, 0.0], [1000.0, 0.0]]), 1)
    tensor([[0.5, 0.5],
            [1. , 0. ]], dtype=float64)
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int) -> Any:
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        e /= e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(e)
        ctx.dim = dim
        return e

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved_tensors
        gy = grad * y
        return gy - y * gy.sum(axis=ctx.dim, keepdims=True), None


class LogSoftmax(Function):
    """``x - logsumexp(x)`` along ``dim``, stable for large inputs.

    >>> LogSoftmax.apply(np.array([1000.0, 1000.0]), 0)
    tensor([-0.6931, -0.6931], dtype=float64)
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int) -> Any:
        xp = get_array_module(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        (out,) = ctx.saved_tensors
        return grad - xp.exp(out) * grad.sum(axis=ctx.dim, keepdims=True), None


class Dropout(Function):
    """Inverted dropout: ``x * mask`` with ``mask`` 0 (probability ``p``) or ``1/(1-p)``, one multiply each way.

    >>> import gradlab
    >>> _ = gradlab.manual_seed(0)
    >>> sorted(set(Dropout.apply(np.ones(100), 0.5).tolist()))
    [0.0, 2.0]
    >>> Dropout.apply(np.ones(3), 1.0).tolist()
    [0.0, 0.0, 0.0]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, p: float, generator: Any = None) -> Any:
        xp = get_array_module(x)
        from gradlab.backend import rng, rng_for

        if p >= 1.0:
            mask = xp.zeros(x.shape, dtype=x.dtype)
        elif xp is not np:  # drawn on the GPU by a cupy RandomState seeded from the generator
            u = rng_for(xp, generator).random_sample(x.shape, dtype=xp.float64 if x.dtype == xp.float64 else xp.float32)
            mask = (u >= p).astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
        else:
            mask = rng(generator).random(x.shape, dtype=xp.float64 if x.dtype == xp.float64 else xp.float32)
            xp.greater_equal(mask, p, out=mask, casting="unsafe")  # keep -> 1.0, drop -> 0.0, no new array
            mask *= 1.0 / (1.0 - p)
            if mask.dtype != x.dtype:
                mask = mask.astype(x.dtype)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (mask,) = ctx.saved_tensors
        return grad * mask, None, None


def _normalize(x: Any, axes: tuple, eps: float) -> tuple:
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance) -> (xhat, invstd, mean, var), stats kept dims."""
    xp = get_array_module(x)
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = xp.mean(xc * xc, axis=axes, keepdims=True)
    invstd = 1.0 / xp.sqrt(var + eps)
    xc *= invstd
    return xc, invstd.astype(x.dtype, copy=False), mean, var


def _normalize_backward(gxhat: Any, xhat: Any, invstd: Any, axes: tuple) -> Any:
    """Gradient through ``xhat = (x - mean(x)) * invstd`` with batch statistics, given d(loss)/d(xhat)."""
    xp = get_array_module(gxhat)
    mg = gxhat.mean(axis=axes, keepdims=True)
    mgx = xp.mean(gxhat * xhat, axis=axes, keepdims=True)
    return invstd * (gxhat - mg - xhat * mgx)


def _affine_grads(ctx: Context, grad: Any, xhat: Any, axes: tuple, pshape: tuple) -> tuple:
    """d/dweight and d/dbias of ``xhat * weight + bias`` summed over ``axes``, shaped like the parameters."""
    xp = get_array_module(grad)
    nw, nb = ctx.needs_input_grad[1], ctx.needs_input_grad[2]
    gw = xp.sum(grad * xhat, axis=axes).reshape(pshape) if nw else None
    gb = grad.sum(axis=axes).reshape(pshape) if nb else None
    return gw, gb


class BatchNorm(Function):
    """Batch normalisation over every axis but 1 (channels): (N, C), (N, C, L), (N, C, H, W), ... .

    Training mode normalises with the batch statistics and, given running stats, updates them in place
    (unbiased variance, as torch); eval mode normalises with the running statistics.

    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> mean, var = np.zeros(2), np.ones(2)
    >>> BatchNorm.apply(x, None, None, mean, var, True, 0.1, 0.0)
    tensor([[-1., -1.],
            [ 1.,  1.]], dtype=float64)
    >>> mean.tolist(), var.tolist()  # running stats updated in place
    ([0.2, 2.0], [1.1, 20.9])
    """

    @staticmethod
    def forward(
        ctx: Context, x: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any,
        training: bool, momentum: float, eps: float,
    ) -> Any:  # fmt: skip
        xp = get_array_module(x)
        axes = (0, *range(2, x.ndim))
        bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        ctx.axes, ctx.training = axes, training
        ctx.fused = None
        if training:
            n = x.size // x.shape[1]
            if n <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
            if _fused_batch_norm(x, weight, bias):
                out, mean, var, invstd = knorm.batch_norm_train(x, weight, bias, eps)
                _update_running(running_mean, running_var, mean.astype(x.dtype), var.astype(x.dtype), momentum, n)
                ctx.fused = (mean, invstd)
                ctx.save_for_backward(x, None, weight)
                return out
            xhat, invstd, mean, var = _normalize(x, axes, eps)
            _update_running(running_mean, running_var, mean, var, momentum, n)
        else:
            if running_mean is None or running_var is None:
                raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
            invstd = (1.0 / xp.sqrt(running_var + eps)).astype(x.dtype, copy=False).reshape(bshape)
            xhat = (x - running_mean.reshape(bshape)) * invstd
        out = xhat * weight.reshape(bshape) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(bshape)
        ctx.save_for_backward(xhat, invstd, weight)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        if ctx.fused is not None:  # training on the fused kernels: xhat is recomputed from x
            x, _, weight = ctx.saved_tensors
            mean, invstd = ctx.fused
            gx, gw, gb = knorm.batch_norm_train_backward(grad, x, mean, invstd, weight)
            nx, nw, nb = ctx.needs_input_grad[:3]
            return gx if nx else None, gw if nw else None, gb if nb else None, None, None, None, None, None
        xhat, invstd, weight = ctx.saved_tensors
        axes = ctx.axes
        gx = None
        if ctx.needs_input_grad[0]:
            gxhat = grad * weight.reshape(invstd.shape) if weight is not None else grad
            gx = _normalize_backward(gxhat, xhat, invstd, axes) if ctx.training else gxhat * invstd
        gw, gb = _affine_grads(ctx, grad, xhat, axes, (-1,))
        return gx, gw, gb, None, None, None, None, None


def _fused_batch_norm(x: Any, weight: Any, bias: Any) -> bool:
    """Train through :mod:`gradlab.kernels.norm`: CPU float arrays and the kernel set (and size) asks for numba."""
    arrays = (x, *(a for a in (weight, bias) if a is not None))
    if not all(type(a) is np.ndarray and a.dtype == x.dtype for a in arrays):  # plain CPU arrays only
        return False
    return x.dtype in (np.float32, np.float64) and wants_numba(x.size, knorm.BN_THRESHOLD)


def _update_running(running_mean: Any, running_var: Any, mean: Any, var: Any, momentum: float, n: int) -> None:
    """torch's running-stat update, in place: ``r = (1 - momentum) * r + momentum * stat`` with the unbiased
    variance (``var * n / (n - 1)``)."""
    if running_mean is not None:
        running_mean *= 1.0 - momentum
        running_mean += momentum * mean.reshape(-1)
    if running_var is not None:
        running_var *= 1.0 - momentum
        running_var += (momentum * n / (n - 1)) * var.reshape(-1)


class LayerNorm(Function):
    """Layer normalisation over the last ``ndim`` axes, with elementwise affine parameters of that shape.

    >>> LayerNorm.apply(np.array([[1.0, 3.0], [0.0, 10.0]]), None, None, 1, 0.0)
    tensor([[-1.,  1.],
            [-1.,  1.]], dtype=float64)
    """

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, ndim: int, eps: float) -> Any:
        axes = tuple(range(x.ndim - ndim, x.ndim))
        xhat, invstd, _, _ = _normalize(x, axes, eps)
        out = xhat * weight if weight is not None else xhat.copy()
        if bias is not None:
            out += bias
        ctx.axes = axes
        ctx.save_for_backward(xhat, invstd, weight)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xhat, invstd, weight = ctx.saved_tensors
        axes = ctx.axes
        gx = None
        if ctx.needs_input_grad[0]:
            gx = _normalize_backward(grad * weight if weight is not None else grad, xhat, invstd, axes)
        lead = tuple(range(grad.ndim - len(axes)))
        pshape = xhat.shape[grad.ndim - len(axes):]
        gw, gb = _affine_grads(ctx, grad, xhat, lead, pshape)
        return gx, gw, gb, None, None
