"""Stochastic gradient descent, optionally with (Nesterov) momentum, as ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..kernels.optim import _sgd_numpy, sgd_update
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), with torch's update rule.

    With :math:`g_t` the gradient (negated when ``maximize``) plus ``weight_decay * p``:
    ``b_1 = g_1``, ``b_t = momentum * b_{t-1} + (1 - dampening) * g_t``; the step direction is ``b_t``
    (or ``g_t + momentum * b_t`` with ``nesterov``), and ``p -= lr * direction``.

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening for momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: maximize the objective instead of minimizing it.

    >>> import gradlab
    >>> w = gradlab.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> w.grad = gradlab.tensor([1.0, 1.0])
    >>> opt.step()
    >>> w.tolist()
    [0.8999999761581421, -2.0999999046325684]
    """

    _param_shaped_state = frozenset({"momentum_buffer"})

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step (``closure`` re-evaluates the model and returns the loss)."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            weight_decay = group["weight_decay"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p, param, grad in self._params_with_grad(group):
                buf, first = None, False
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.empty_like(param)
                        first = True
                # fused (numba or the NumPy twin) for float32/float64 host arrays; GPU arrays and other dtypes take
                # the twin directly (NumPy ufuncs with out=, which CuPy arrays take too)
                update = sgd_update if self._on_kernels(param) else _sgd_numpy
                update(param, grad, buf, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                       nesterov=nesterov, maximize=maximize, first_step=first, workspace=self._flat_workspace(param))
        return loss
