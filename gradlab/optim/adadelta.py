"""Adadelta, as ``torch.optim.Adadelta``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), with torch's update rule.

    With ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p``::

        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p -= lr * delta

    Args:
        params: Tensors or parameter-group dicts.
        lr: scales ``delta`` before it is applied (default 1.0).
        rho: coefficient of the running averages of the squared gradient and update (default 0.9).
        eps: added inside the square roots (default 1e-6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective.

    State per parameter: ``step`` (int), ``square_avg`` (``v``) and ``acc_delta`` (``u``).

    >>> import gradlab
    >>> w = gradlab.tensor([1.0], requires_grad=True)
    >>> opt = Adadelta([w])
    >>> w.grad = gradlab.tensor([2.0])
    >>> opt.step()
    >>> round(w.item(), 6)  # 1 - sqrt(1e-6) / sqrt(0.4 + 1e-6) * 2
    0.996838
    """

    _param_shaped_state = frozenset({"square_avg", "acc_delta"})

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step (``closure`` re-evaluates the model and returns the loss)."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["rho"], group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p, param, grad in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(param)
                    state["acc_delta"] = np.zeros_like(param)
                state["step"] += 1
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                d = self._decayed_grad(param, grad, weight_decay, maximize)
                w = self._workspace(param, 1)
                std = self._workspace(param, 2)
                square_avg *= rho
                np.multiply(d, d, out=w)
                w *= 1 - rho
                square_avg += w
                np.add(square_avg, eps, out=std)
                np.sqrt(std, out=std)
                np.add(acc_delta, eps, out=w)
                np.sqrt(w, out=w)
                w /= std
                w *= d  # w is delta now
                acc_delta *= rho
                np.multiply(w, w, out=std)
                std *= 1 - rho
                acc_delta += std
                w *= lr
                param -= w
        return loss
