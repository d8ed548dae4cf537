"""Metrics for :func:`gradlab.train.fit`: plain functions of a batch's model output and target (numpy arrays).

A metric returns the batch **mean** as a Python float; ``fit`` weights it by the batch size, so the epoch value is
the exact mean over all samples. Metrics are named in ``fit(metrics=...)`` by string (see :data:`METRICS`) or
given as callables ``f(output, target) -> float`` (their ``__name__`` becomes the log key).

>>> import numpy as np
>>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 0, 0]))
0.6666666666666666
>>> accuracy(np.array([2.0, -1.0]), np.array([1.0, 0.0]))  # one logit per sample: the sign decides
1.0
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["accuracy", "binary_accuracy", "top_k_accuracy", "mean_absolute_error", "METRICS", "get_metric"]


def _arr(x: Any) -> np.ndarray:
    data = getattr(x, "_data", x)
    return data if isinstance(data, np.ndarray) else np.asarray(data)


def accuracy(output: Any, target: Any) -> float:
    """Fraction of correct predictions.

    ``output`` ``(N, C)`` with ``C > 1``: class scores, the prediction is the arg-max (``target`` holds class
    indices ``(N,)``, or one-hot / probabilities ``(N, C)``). ``output`` ``(N,)`` or ``(N, 1)``: one logit per
    sample, the prediction is ``logit > 0`` (use :func:`binary_accuracy` for probabilities).

    >>> import numpy as np
    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 0, 0]))
    0.6666666666666666
    """
    out, tgt = _arr(output), _arr(target)
    if out.ndim >= 2 and out.shape[-1] > 1:
        pred = out.argmax(axis=-1)
        if tgt.ndim == out.ndim:
            tgt = tgt.argmax(axis=-1)
        return float(np.count_nonzero(pred == tgt)) / pred.size
    return binary_accuracy(out, tgt, threshold=0.0)


def binary_accuracy(output: Any, target: Any, threshold: float = 0.5) -> float:
    """Fraction of samples where ``output > threshold`` matches ``target > 0.5`` (default: probabilities).

    >>> import numpy as np
    >>> binary_accuracy(np.array([0.9, 0.2, 0.6, 0.4]), np.array([1, 0, 0, 0]))
    0.75
    """
    out, tgt = _arr(output).reshape(-1), _arr(target).reshape(-1)
    if out.size != tgt.size:
        raise ValueError(f"binary_accuracy: output has {out.size} values but target has {tgt.size}")
    return float(np.count_nonzero((out > threshold) == (tgt > 0.5))) / max(out.size, 1)


def top_k_accuracy(k: int = 5) -> Callable[[Any, Any], float]:
    """A metric: the fraction of samples whose target is among the ``k`` highest scores (named ``top{k}_accuracy``).

    >>> import numpy as np
    >>> top_k_accuracy(2)(np.array([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1]]), np.array([2, 2]))
    0.5
    """

    def metric(output: Any, target: Any) -> float:
        out, tgt = _arr(output), _arr(target)
        top = np.argpartition(-out, min(k, out.shape[-1]) - 1, axis=-1)[..., :k]
        return float(np.count_nonzero((top == tgt.reshape(-1, 1)).any(axis=-1))) / len(tgt)

    metric.__name__ = f"top{k}_accuracy"
    return metric


def mean_absolute_error(output: Any, target: Any) -> float:
    """Mean of ``|output - target|`` (for regression).

    >>> import numpy as np
    >>> mean_absolute_error(np.array([1.0, 2.0]), np.array([1.5, 0.0]))
    1.25
    """
    out, tgt = _arr(output), _arr(target)
    if out.size == tgt.size:
        out = out.reshape(tgt.shape)
    return float(np.abs(out - tgt).mean())


METRICS: dict[str, Callable[[Any, Any], float]] = {
    "accuracy": accuracy,
    "acc": accuracy,
    "binary_accuracy": binary_accuracy,
    "top5_accuracy": top_k_accuracy(5),
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
}


def get_metric(metric: str | Callable[[Any, Any], float]) -> tuple[str, Callable[[Any, Any], float]]:
    """``(log name, function)`` for a metric name in :data:`METRICS` or a callable.

    >>> get_metric("acc")[0]
    'accuracy'
    """
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))} (or pass a callable)")
    fn = METRICS[metric]
    return ("accuracy" if fn is accuracy else metric), fn
