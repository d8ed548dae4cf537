"""Adagrad, as ``torch.optim.Adagrad``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, with torch's update rule.

    With ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p`` and ``t`` the step count::

        clr = lr / (1 + (t - 1) * lr_decay)
        s += g * g
        p -= clr * g / (sqrt(s) + eps)

    The accumulator ``s`` starts at ``initial_accumulator_value`` and is created when the parameter is added.

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of the sum of squares (default 0).
        eps: added to the denominator (default 1e-10).
        maximize: maximize the objective.

    >>> import gradlab
    >>> w = gradlab.tensor([1.0], requires_grad=True)
    >>> opt = Adagrad([w], lr=0.5)
    >>> w.grad = gradlab.tensor([3.0])
    >>> opt.step()
    >>> round(w.item(), 4)  # 1 - 0.5 * 3 / sqrt(9)
    0.5
    """

    _param_shaped_state = frozenset({"sum"})

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group and create its accumulators (as torch does for the constructor's groups)."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group)

    def _init_state(self, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        if len(state) == 0:
            state["step"] = 0
            state["sum"] = np.full_like(p._data, group["initial_accumulator_value"])
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step (``closure`` re-evaluates the model and returns the loss)."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = group["lr"]
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            maximize = group["maximize"]
            for p, param, grad in self._params_with_grad(group):
                state = self._init_state(p, group)
                step = state["step"] = state["step"] + 1
                clr = lr / (1 + (step - 1) * lr_decay)

                d = self._decayed_grad(param, grad, weight_decay, maximize)
                state_sum = state["sum"]
                w = self._workspace(param, 1)
                np.multiply(d, d, out=w)
                state_sum += w
                np.sqrt(state_sum, out=w)
                w += eps
                np.divide(d, w, out=w)
                w *= clr
                param -= w
        return loss
