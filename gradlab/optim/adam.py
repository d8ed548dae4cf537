"""Adam (and, with ``decoupled_weight_decay=True``, AdamW), as ``torch.optim.Adam``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import get_array_module
from ..kernels.optim import _lerp, adam_update
from ._cuda_kernels import adam_step
from ._optimizer_utils import check_adam_args
from .optimizer import Optimizer

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam, with torch's update rule (single-tensor form, bias corrections folded into the step).

    Per step ``t`` (counted per parameter from 1), with ``g`` the gradient (negated when ``maximize``; plus
    ``weight_decay * p`` unless ``decoupled_weight_decay``, in which case ``p *= 1 - lr * weight_decay`` first)::

        m = beta1 * m + (1 - beta1) * g            v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) if amsgrad else v
        p -= lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    Args:
        params: Tensors or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (L2 penalty, or decoupled; default 0).
        amsgrad: use the AMSGrad variant (default False).
        maximize: maximize the objective.
        decoupled_weight_decay: decay the weights directly (AdamW) instead of adding an L2 gradient.

    >>> import gradlab
    >>> w = gradlab.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> w.grad = gradlab.tensor([0.5, -2.0])
    >>> opt.step()
    >>> [round(x, 4) for x in w.tolist()]
    [0.9, -0.9]
    >>> opt.state[w]["step"]
    1
    """

    _param_shaped_state = frozenset({"exp_avg", "exp_avg_sq", "max_exp_avg_sq"})

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_adam_args(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": (float(betas[0]), float(betas[1])),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step (``closure`` re-evaluates the model and returns the loss)."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p, param, grad in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(param)
                    state["exp_avg_sq"] = np.zeros_like(param)
                    if amsgrad:
                        state["max_exp_avg_sq"] = np.zeros_like(param)
                exp_avg = state["exp_avg"]
                exp_avg_sq = state["exp_avg_sq"]
                step = state["step"] = state["step"] + 1
                if not amsgrad and self._on_kernels(param):  # fused: gradlab.kernels.optim (numba or NumPy twin)
                    adam_update(param, grad, exp_avg, exp_avg_sq, step=step, lr=lr, beta1=beta1, beta2=beta2,
                                eps=eps, weight_decay=weight_decay, decoupled=decoupled, maximize=maximize,
                                workspace=self._flat_workspace(param))
                    continue
                xp = get_array_module(param)
                if not amsgrad and xp is not np:  # on a GPU: one fused kernel launch
                    adam_step(xp, param, grad, exp_avg, exp_avg_sq, lr=lr, beta1=beta1,
                              beta2=beta2, eps=eps, weight_decay=weight_decay, decoupled=decoupled,
                              maximize=maximize, step=step)
                    continue

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
                bias_correction2_sqrt = (1 - beta2**step) ** 0.5
                step_size = lr / bias_correction1

                if amsgrad:
                    max_exp_avg_sq = state.get("max_exp_avg_sq")
                    if max_exp_avg_sq is None:  # amsgrad switched on after the state was created
                        max_exp_avg_sq = state["max_exp_avg_sq"] = np.zeros_like(param)
                    np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    second = max_exp_avg_sq
                else:
                    second = exp_avg_sq
                # p -= step_size * m / (sqrt(v) / bc2 + eps), written as
                # p -= (step_size * bc2) * m / (sqrt(v) + eps * bc2): one pass less over the parameter.
                np.sqrt(second, out=w)
                w += eps * bias_correction2_sqrt
                np.divide(exp_avg, w, out=w)
                w *= step_size * bias_correction2_sqrt
                param -= w
        return loss
