"""``ToDevice``: copying a tensor between the CPU and a GPU as a differentiable op (``Tensor.to("cuda")``)."""
from __future__ import annotations

from typing import Any

from gradlab.autograd.function import Context, Function
from gradlab.devices import device_of, to_device

__all__ = ["ToDevice"]


class ToDevice(Function):
    """The input copied to ``device``; backward copies the gradient back to where the input was.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    >>> y = ToDevice.apply(x, "cpu")
    >>> y.sum().backward()
    >>> x.grad.tolist()
    [1.0, 1.0]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, device: Any) -> Any:
        ctx.src = device_of(x)
        return to_device(x, device)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return to_device(grad, ctx.src), None
