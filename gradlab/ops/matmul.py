"""Matrix product with NumPy's broadcasting rules for batched and 1-D operands."""
from __future__ import annotations

from typing import Any

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module
from gradlab.ops.elementwise import unbroadcast

__all__ = ["MatMul"]


class MatMul(Function):
    """``a @ b`` with NumPy's rules (1-D operands, batch broadcasting); gradients summed to each shape.

    >>> import numpy as np
    >>> MatMul.apply(np.ones((5, 2, 3)), np.ones((3, 4))).shape
    gradlab.Size([5, 2, 4])
    >>> MatMul.apply(np.array([1.0, 2.0]), np.array([3.0, 4.0])).item()
    11.0
    """

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        xp = get_array_module(a)
        a_arr, b_arr = xp.asarray(a), xp.asarray(b)
        if a_arr.ndim == 0 or b_arr.ndim == 0:
            raise RuntimeError("matmul: both arguments need at least 1 dimension, got a 0-d tensor")
        ka = a_arr.shape[-1]
        kb = b_arr.shape[-2] if b_arr.ndim > 1 else b_arr.shape[0]
        if ka != kb:
            raise ValueError(
                f"matmul: shapes {a_arr.shape} and {b_arr.shape} cannot be multiplied ({ka} != {kb}: the last "
                f"dimension of the first must equal the {'second-to-last' if b_arr.ndim > 1 else 'only'} "
                f"dimension of the second)"
            )
        ctx.save_for_backward(a, b)
        try:
            return xp.matmul(a_arr, b_arr)
        except ValueError:
            raise ValueError(f"matmul: batch shapes of {a_arr.shape} and {b_arr.shape} cannot be broadcast") from None

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if na else None, grad * a if nb else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if na:
            ga = unbroadcast(g @ xp.swapaxes(b2, -1, -2), a2.shape)
            if a.ndim == 1:
                ga = ga.reshape(a.shape)
        if nb:
            if b2.ndim == 2 and a2.ndim > 2:
                # a batch of inputs against one matrix: fold the batch into a single product
                gb = a2.reshape(-1, a2.shape[-1]).T @ g.reshape(-1, g.shape[-1])
            else:
                gb = unbroadcast(xp.swapaxes(a2, -1, -2) @ g, b2.shape)
            if b.ndim == 1:
                gb = gb.reshape(b.shape)
        return ga, gb
