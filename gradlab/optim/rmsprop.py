"""RMSprop, as ``torch.optim.RMSprop``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..kernels.optim import _rmsprop_numpy, rmsprop_update
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, with torch's update rule.

    With ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p``::

        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - gbar**2) + eps   with gbar = alpha * gbar + (1 - alpha) * g   (centered)
        avg = sqrt(v) + eps                                                              (otherwise)
        b = momentum * b + g / avg; p -= lr * b    (momentum > 0)
        p -= lr * g / avg                            (otherwise)

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by an estimate of the gradient's variance (default False).
        maximize: maximize the objective.

    >>> import gradlab
    >>> w = gradlab.tensor([1.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01)
    >>> w.grad = gradlab.tensor([2.0])
    >>> opt.step()
    >>> round(w.item(), 4)  # 1 - 0.01 * 2 / sqrt(0.01 * 4)
    0.9
    """

    _param_shaped_state = frozenset({"square_avg", "momentum_buffer", "grad_avg"})

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step (``closure`` re-evaluates the model and returns the loss)."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            maximize = group["maximize"]
            for p, param, grad in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(param)
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(param)
                    if centered:
                        state["grad_avg"] = np.zeros_like(param)
                state["step"] += 1
                square_avg = state["square_avg"]

                buf = grad_avg = None
                if momentum > 0:
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.zeros_like(param)
                if centered:
                    grad_avg = state.get("grad_avg")
                    if grad_avg is None:
                        grad_avg = state["grad_avg"] = np.zeros_like(param)
                # fused (numba or the NumPy twin) for float32/float64 host arrays; GPU arrays and other dtypes take
                # the twin directly (NumPy ufuncs with out=, which CuPy arrays take too)
                update = rmsprop_update if self._on_kernels(param) else _rmsprop_numpy
                update(param, grad, square_avg, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                       momentum=momentum, buf=buf, centered=centered, grad_avg=grad_avg, maximize=maximize,
                       workspace=self._flat_workspace(param))
        return loss
