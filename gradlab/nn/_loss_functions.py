"""The loss functions of ``gradlab.nn.functional`` (PyTorch names and semantics), each over one fused op."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.ops import loss as L
from gradlab.tensor import Tensor

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "kl_div",
]


def _reduction(reduction: str, size_average: Any = None, reduce: Any = None) -> str:
    if size_average is not None or reduce is not None:  # the deprecated torch arguments
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return ("mean" if size_average else "sum") if reduce else "none"
    if reduction not in L.REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction (use 'none', 'mean' or 'sum')")
    return reduction


def _like(value: Any, input: Any) -> Any:
    """A target/weight as a Tensor of the input's floating dtype (differentiable cast); None stays None."""
    if value is None:
        return None
    if not isinstance(value, Tensor):
        value = Tensor(np.asarray(value))
    return value if value.dtype == input.dtype else value.to(input.dtype)


def _pointwise(kind: str, input: Any, target: Any, reduction: str, param: float, weight: Any, by_sum: bool) -> Any:
    target = _like(target, input)
    if weight is not None and tuple(np.shape(weight)) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    return L.PointwiseLoss.apply(input, target, _like(weight, input), kind, param, reduction, by_sum)


def mse_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
             weight: Any = None) -> Any:
    """Mean squared error (``weight``: per-element weights; the weighted mean divides by their sum, as torch).

    >>> import gradlab
    >>> mse_loss(gradlab.tensor([1.0, 2.0]), gradlab.tensor([0.0, 0.0])).item()
    2.5
    """
    return _pointwise("mse", input, target, _reduction(reduction, size_average, reduce), 0.0, weight, True)


def l1_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
            weight: Any = None) -> Any:
    """Mean absolute error (gradient sign(input - target), 0 where equal).

    >>> import gradlab
    >>> l1_loss(gradlab.tensor([1.0, -3.0]), gradlab.tensor([0.0, 0.0])).item()
    2.0
    """
    return _pointwise("l1", input, target, _reduction(reduction, size_average, reduce), 0.0, weight, True)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None) -> Any:
    """0.5 d^2 where |d| < delta, else delta * (|d| - 0.5 delta), with d = input - target.

    >>> import gradlab
    >>> huber_loss(gradlab.tensor([0.5, 3.0]), gradlab.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    return _pointwise("huber", input, target, _reduction(reduction), delta, weight, False)


def smooth_l1_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                   beta: float = 1.0) -> Any:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0 is the L1 loss).

    >>> import gradlab
    >>> smooth_l1_loss(gradlab.tensor([0.5, 3.0]), gradlab.tensor([0.0, 0.0]), reduction="sum").item()
    2.625
    """
    return _pointwise("smooth_l1", input, target, _reduction(reduction, size_average, reduce), beta, None, False)


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Any:
    """-(y log p + (1 - y) log(1 - p)) for probabilities ``input``, each log clamped to >= -100 as torch.

    >>> import gradlab
    >>> round(binary_cross_entropy(gradlab.tensor([0.5, 0.5]), gradlab.tensor([1.0, 0.0])).item(), 4)
    0.6931
    """
    if tuple(np.shape(target)) != tuple(input.shape):
        raise ValueError(f"Using a target size ({tuple(np.shape(target))}) that is different to the input size "
                         f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size.")
    red = _reduction(reduction, size_average, reduce)
    return L.BCELoss.apply(input, _like(target, input), _like(weight, input), red)


def binary_cross_entropy_with_logits(
    input: Any, target: Any, weight: Any = None, size_average: Any = None, reduce: Any = None,
    reduction: str = "mean", pos_weight: Any = None,
) -> Any:  # fmt: skip
    """Binary cross-entropy from logits in one stable op; ``pos_weight`` (per class) weighs the positive term.

    >>> import gradlab
    >>> round(binary_cross_entropy_with_logits(gradlab.tensor([0.0, 100.0]), gradlab.tensor([1.0, 1.0])).item(), 4)
    0.3466
    """
    if tuple(np.shape(target)) != tuple(input.shape):
        raise ValueError(f"Target size ({tuple(np.shape(target))}) must be the same as input size "
                         f"({tuple(input.shape)})")
    red = _reduction(reduction, size_average, reduce)
    return L.BCEWithLogits.apply(input, _like(target, input), _like(weight, input), _like(pos_weight, input), red)


def cross_entropy(
    input: Any, target: Any, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
    reduce: Any = None, reduction: str = "mean", label_smoothing: float = 0.0,
) -> Any:  # fmt: skip
    """Cross-entropy between logits ``input`` (C), (N, C) or (N, C, d1, ...) and class indices or class
    probabilities, as one fused, stable op (log-softmax + negative log-likelihood).

    ``weight``: per-class weights (a weighted mean divides by the sum of the targets' weights);
    ``ignore_index``: a class index that contributes nothing; ``label_smoothing`` in [0, 1].

    >>> import gradlab
    >>> logits = gradlab.zeros(2, 4, requires_grad=True)
    >>> loss = cross_entropy(logits, gradlab.tensor([0, 3]))
    >>> round(loss.item(), 4)  # log(4)
    1.3863
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    red = _reduction(reduction, size_average, reduce)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target))
    if target.dtype.kind == "f":
        target = _like(target, input)
    elif target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold class indices (integers) or probabilities (floats), got "
                        f"{target.dtype}")
    return L.CrossEntropy.apply(input, target, _like(weight, input), ignore_index, red, label_smoothing)


def nll_loss(
    input: Any, target: Any, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
    reduce: Any = None, reduction: str = "mean",
) -> Any:  # fmt: skip
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``.

    >>> import gradlab
    >>> logp = gradlab.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> nll_loss(logp, gradlab.tensor([0, 1])).item()
    0.30000001192092896
    """
    red = _reduction(reduction, size_average, reduce)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target))
    expected = tuple(input.shape[:1]) + tuple(input.shape[2:]) if input.ndim > 1 else ()
    if tuple(target.shape) != expected:
        raise ValueError(f"nll_loss: expected target size {expected} for input of shape {tuple(input.shape)}, got "
                         f"{tuple(target.shape)}")
    return L.NLLLoss.apply(input, target, _like(weight, input), ignore_index, red)


def kl_div(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Any:
    """KL divergence with log-probabilities ``input``: sum of target * (log target - input); ``'batchmean'``
    divides the sum by the batch size (the mathematically correct KL), ``'mean'`` by the number of elements.

    >>> import gradlab
    >>> p = gradlab.tensor([[0.5, 0.5]])
    >>> kl_div(p.log(), p, reduction="batchmean").item()
    0.0
    """
    red = reduction if reduction == "batchmean" else _reduction(reduction, size_average, reduce)
    return L.KLDiv.apply(input, _like(target, input), red, log_target)
