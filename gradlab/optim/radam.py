"""RAdam (rectified Adam), as ``torch.optim.RAdam``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..kernels.optim import _lerp
from ._optimizer_utils import check_adam_args
from .optimizer import Optimizer

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2019), with torch's update rule.

    Per step ``t`` (from 1), with ``g`` the gradient (negated when ``maximize``; plus ``weight_decay * p`` unless
    ``decoupled_weight_decay``, in which case ``p *= 1 - lr * weight_decay`` first)::

        m = beta1 * m + (1 - beta1) * g        v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;   rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        p -= lr * m / (1 - beta1**t) * r_t * sqrt(1 - beta2**t) / (sqrt(v) + eps)     if rho_t > 5
        p -= lr * m / (1 - beta1**t)                                                   otherwise

    with the rectification ``r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``.

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0).
        decoupled_weight_decay: decay the weights directly (as AdamW) instead of adding an L2 gradient.
        maximize: maximize the objective.

    >>> import gradlab
    >>> w = gradlab.tensor([1.0], requires_grad=True)
    >>> opt = RAdam([w], lr=0.1)
    >>> w.grad = gradlab.tensor([0.5])
    >>> opt.step()
    >>> round(w.item(), 4)  # the first steps are plain momentum: 1 - 0.1 * 0.5
    0.95
    """

    _param_shaped_state = frozenset({"exp_avg", "exp_avg_sq"})

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_adam_args(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": (float(betas[0]), float(betas[1])),
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
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
            decoupled = group["decoupled_weight_decay"]
            for p, param, grad in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(param)
                    state["exp_avg_sq"] = np.zeros_like(param)
                step = state["step"] = state["step"] + 1
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                    d = self._decayed_grad(param, grad, 0, maximize)
                else:
                    d = self._decayed_grad(param, grad, weight_decay, maximize)

                w = self._workspace(param, 1)
                _lerp(exp_avg, d, 1 - beta1, w)
                exp_avg_sq *= beta2
                np.multiply(d, d, out=w)
                w *= 1 - beta2
                exp_avg_sq += w

                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    np.sqrt(exp_avg_sq, out=w)
                    w += eps
                    np.divide(exp_avg, w, out=w)
                    w *= lr / bias_correction1 * bias_correction2**0.5 * rect
                else:
                    np.multiply(exp_avg, lr / bias_correction1, out=w)
                param -= w
        return loss
