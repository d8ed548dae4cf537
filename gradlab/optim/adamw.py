"""AdamW: Adam with decoupled weight decay, as ``torch.optim.AdamW``."""

from __future__ import annotations

from typing import Any

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""AdamW: Adam whose weight decay multiplies the weights (``p *= 1 - lr * weight_decay``) before the step
    instead of adding an L2 term to the gradient. Default ``weight_decay=1e-2``.

    >>> import gradlab
    >>> w = gradlab.tensor([1.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = gradlab.tensor([1.0])
    >>> opt.step()
    >>> round(w.item(), 4)  # 1 * (1 - 0.1 * 0.5) - 0.1
    0.85
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def _after_load_state_dict(self) -> None:
        # as torch: a state dict loaded into AdamW always decays decoupled
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
