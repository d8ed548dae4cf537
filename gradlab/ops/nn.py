"""Neural-network ops fused for speed and stability: linear, softmax, log-softmax."""
from __future__ import annotations

from typing import Any

from gradlab.autograd.function import Context, Function
from gradlab.backend import xp

__all__ = ["Linear", "Softmax", "LogSoftmax"]


class Linear(Function):
    """``x @ weight.T + bias`` in one GEMM with the bias added in place."""

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
    @staticmethod
    def forward(ctx: Context, x: Any, dim: int) -> Any:
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
    @staticmethod
    def forward(ctx: Context, x: Any, dim: int) -> Any:
        shifted = x - x.max(axis=dim, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad - xp.exp(out) * grad.sum(axis=ctx.dim, keepdims=True), None
