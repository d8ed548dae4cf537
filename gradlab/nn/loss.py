"""Loss modules (torch names and arguments), each a thin wrapper over ``gradlab.nn.functional``."""
from __future__ import annotations

from typing import Any

from gradlab.nn import functional as F
from gradlab.nn.module import Module
from gradlab.tensor import Tensor

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "KLDivLoss",
]


class _Loss(Module):
    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            from gradlab.nn._loss_functions import _reduction

            reduction = _reduction(reduction, size_average, reduce)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight if weight is None or isinstance(weight, Tensor) else Tensor(weight))


class MSELoss(_Loss):
    """Mean squared error between input and target.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.MSELoss()(gradlab.tensor([1.0, 3.0]), gradlab.tensor([0.0, 0.0])).item()
    5.0
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error between input and target.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.L1Loss(reduction="sum")(gradlab.tensor([1.0, -3.0]), gradlab.zeros(2)).item()
    4.0
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Squared error below ``delta``, ``delta``-scaled absolute error above it.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.HuberLoss(delta=1.0)(gradlab.tensor([0.5, 3.0]), gradlab.zeros(2)).item()
    1.3125
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Any, target: Any) -> Any:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Squared error / beta below ``beta``, absolute error minus beta/2 above it.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.SmoothL1Loss(beta=2.0)(gradlab.tensor([1.0, 3.0]), gradlab.zeros(2)).item()
    1.125
    """

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Any, target: Any) -> Any:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (logs clamped to >= -100); prefer ``BCEWithLogitsLoss`` on logits.

    >>> import gradlab
    >>> from gradlab import nn
    >>> round(nn.BCELoss()(gradlab.tensor([0.5]), gradlab.tensor([1.0])).item(), 4)
    0.6931
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy in one stable op; ``pos_weight`` weighs positives per class.

    >>> import gradlab
    >>> from gradlab import nn
    >>> round(nn.BCEWithLogitsLoss()(gradlab.zeros(2), gradlab.tensor([0.0, 1.0])).item(), 4)
    0.6931
    """

    def __init__(
        self, weight: Any = None, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
        pos_weight: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(weight, size_average, reduce, reduction)
        pw = pos_weight if pos_weight is None or isinstance(pos_weight, Tensor) else Tensor(pos_weight)
        self.register_buffer("pos_weight", pw)

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy from logits (fused, stable log-softmax + NLL) with class-index or probability targets,
    ``weight``, ``ignore_index``, ``label_smoothing`` and ``reduction``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> loss = nn.CrossEntropyLoss()(gradlab.zeros(3, 5), gradlab.tensor([0, 4, 2]))
    >>> round(loss.item(), 4)  # log(5)
    1.6094
    """

    def __init__(
        self, weight: Any = None, size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
        reduction: str = "mean", label_smoothing: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Any, target: Any) -> Any:
        return F.cross_entropy(
            input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )  # fmt: skip


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (e.g. after ``LogSoftmax``) at class indices.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.NLLLoss()(gradlab.tensor([[-1.0, -2.0], [-3.0, -4.0]]), gradlab.tensor([0, 1])).item()
    2.5
    """

    def __init__(
        self, weight: Any = None, size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
        reduction: str = "mean",
    ) -> None:  # fmt: skip
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Any:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL divergence of ``target`` from log-probabilities ``input``; use ``reduction='batchmean'`` for the true KL.

    >>> import gradlab
    >>> from gradlab import nn
    >>> p = gradlab.tensor([[0.5, 0.5]])
    >>> nn.KLDivLoss(reduction="batchmean")(p.log(), p).item()
    0.0
    """

    def __init__(
        self, size_average: Any = None, reduce: Any = None, reduction: str = "mean", log_target: bool = False
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Any, target: Any) -> Any:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
