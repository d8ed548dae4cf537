"""NAdam (Adam with Nesterov momentum), as ``torch.optim.NAdam``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..kernels.optim import _lerp
from ._optimizer_utils import check_adam_args
from .optimizer import Optimizer

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), with torch's update rule and momentum-decay schedule.

    Per step ``t`` (from 1), with ``g`` the gradient (negated when ``maximize``; plus ``weight_decay * p`` unless
    ``decoupled_weight_decay``, in which case ``p *= 1 - lr * weight_decay`` first)::

        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay));   mu_prod *= mu_t
        m = beta1 * m + (1 - beta1) * g        v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        p -= lr * (1 - mu_t) / (1 - mu_prod) * g / denom + lr * mu_{t+1} / (1 - mu_prod * mu_{t+1}) * m / denom

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running averages (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0).
        momentum_decay: the momentum schedule's decay (default 4e-3).
        decoupled_weight_decay: decay the weights directly (NAdamW) instead of adding an L2 gradient.
        maximize: maximize the objective.

    State per parameter: ``step`` (int), ``mu_product`` (float), ``exp_avg`` and ``exp_avg_sq``.

    >>> import gradlab
    >>> w = gradlab.tensor([1.0], requires_grad=True)
    >>> opt = NAdam([w], lr=0.1)
    >>> w.grad = gradlab.tensor([0.5])
    >>> opt.step()
    >>> round(w.item(), 4)
    0.8944
    """

    _param_shaped_state = frozenset({"exp_avg", "exp_avg_sq"})

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_adam_args(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": (float(betas[0]), float(betas[1])),
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
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
            momentum_decay, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
            for p, param, grad in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["mu_product"] = 1.0
                    state["exp_avg"] = np.zeros_like(param)
                    state["exp_avg_sq"] = np.zeros_like(param)
                step = state["step"] = state["step"] + 1
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                bias_correction2 = 1 - beta2**step
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                    d = self._decayed_grad(param, grad, 0, maximize)
                else:
                    d = self._decayed_grad(param, grad, weight_decay, maximize)

                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product = float(state["mu_product"]) * mu
                state["mu_product"] = mu_product
                mu_product_next = mu_product * mu_next

                w = self._workspace(param, 1)
                denom = self._workspace(param, 2)
                _lerp(exp_avg, d, 1 - beta1, w)
                exp_avg_sq *= beta2
                np.multiply(d, d, out=w)
                w *= 1 - beta2
                exp_avg_sq += w
                np.divide(exp_avg_sq, bias_correction2, out=denom)
                np.sqrt(denom, out=denom)
                denom += eps
                np.divide(d, denom, out=w)
                w *= lr * (1.0 - mu) / (1.0 - mu_product)
                param -= w
                np.divide(exp_avg, denom, out=w)
                w *= lr * mu_next / (1.0 - mu_product_next)
                param -= w
        return loss
