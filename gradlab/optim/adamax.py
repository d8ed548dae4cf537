"""Adamax (Adam with the infinity norm), as ``torch.optim.Adamax``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..kernels.optim import _lerp
from ._optimizer_utils import check_adam_args
from .optimizer import Optimizer

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma and Ba, 2014, section 7), with torch's update rule.

    Per step ``t`` (from 1), with ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p``::

        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1**t) * m / u

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running average and of the decaying maximum (default (0.9, 0.999)).
        eps: added to ``|g|`` (default 1e-8).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective.

    State per parameter: ``step`` (int), ``exp_avg`` and ``exp_inf``.

    >>> import gradlab
    >>> w = gradlab.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adamax([w], lr=0.1)
    >>> w.grad = gradlab.tensor([0.5, -2.0])
    >>> opt.step()
    >>> [round(x, 4) for x in w.tolist()]
    [0.9, -0.9]
    """

    _param_shaped_state = frozenset({"exp_avg", "exp_inf"})

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        check_adam_args(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": (float(betas[0]), float(betas[1])),
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step (``closure`` re-evaluates the model and returns the loss)."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p, param, grad in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(param)
                    state["exp_inf"] = np.zeros_like(param)
                step = state["step"] = state["step"] + 1
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                d = self._decayed_grad(param, grad, weight_decay, maximize)
                w = self._workspace(param, 1)
                _lerp(exp_avg, d, 1 - beta1, w)
                exp_inf *= beta2
                np.abs(d, out=w)
                w += eps
                np.maximum(exp_inf, w, out=exp_inf)
                clr = lr / (1 - beta1**step)
                np.divide(exp_avg, exp_inf, out=w)
                w *= clr
                param -= w
        return loss
