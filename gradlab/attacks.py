"""Adversarial examples: the fast gradient sign method and projected gradient descent under an L-infinity budget.

* :func:`fgsm` (Goodfellow et al. 2015): ``x' = clip(x + epsilon * sign(grad_x loss(model(x), y)))``.
* :func:`pgd` (Madry et al. 2018): from a random point of the epsilon-ball around ``x`` (``random_start``), take
  ``steps`` steps ``x' += alpha * sign(grad)``, each followed by the projection back onto the ball
  ``x + clamp(x' - x, -epsilon, epsilon)`` and onto the valid pixel range ``clip``.
* :func:`robust_accuracy`: a classifier's accuracy on adversarial versions of a dataset, batch by batch.

Both attacks work on any ``gradlab.nn.Module`` and any loss ``loss_fn(output, target)`` (default
``CrossEntropyLoss``): the gradient is taken with respect to the input only (the parameters' ``.grad`` are left
untouched) with the model in eval mode (its mode is restored). They return new Tensors without a graph.
``targeted=True`` descends the loss towards the labels ``y`` instead of ascending it away from them.

>>> import gradlab
>>> from gradlab import nn
>>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
<...>
>>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
>>> x, y = gradlab.rand(5, 1, 2, 2), gradlab.tensor([0, 1, 2, 0, 1])
>>> x_adv = fgsm(model, x, y, epsilon=0.1)
>>> float((x_adv - x).abs().max().item()) <= 0.1 + 1e-6
True
>>> x_pgd = pgd(model, x, y, epsilon=0.1, steps=5, seed=0)
>>> bool(((x_pgd >= 0) & (x_pgd <= 1)).all().item())
True
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np

import gradlab

__all__ = ["fgsm", "pgd", "robust_accuracy", "ATTACKS"]


def _check(epsilon: float, clip: Any) -> tuple[float, tuple[float, float] | None]:
    if not isinstance(epsilon, (int, float, np.floating, np.integer)) or isinstance(epsilon, bool):
        raise TypeError(f"epsilon must be a number, got {type(epsilon).__name__}")
    if not np.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be a finite number >= 0, got {epsilon}")
    if clip is None:
        return float(epsilon), None
    lo, hi = (float(v) for v in clip)
    if not lo < hi:
        raise ValueError(f"clip must be (low, high) with low < high, got {clip!r}")
    return float(epsilon), (lo, hi)


@contextmanager
def _input_only(model: Any) -> Any:
    """Parameters frozen (no .grad written) and eval mode, both restored afterwards."""
    params = [p for p in model.parameters() if p.requires_grad]
    was = getattr(model, "training", False)
    for p in params:
        p.requires_grad_(False)
    model.eval()
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)
        model.train(was)


def _grad(model: Any, loss_fn: Callable, x: np.ndarray, y: Any) -> np.ndarray:
    xt = gradlab.tensor(x, requires_grad=True)
    with gradlab.enable_grad():
        out = model(xt)
        if len(out) != len(x):
            raise ValueError(f"the model gave {len(out)} outputs for {len(x)} inputs")
        loss = loss_fn(out, y)
        loss.backward()
    if xt.grad is None:
        raise ValueError("the loss does not depend on the input (no gradient reached it)")
    return np.asarray(xt.grad._data)


def _prepare(model: Any, x: Any, y: Any, loss_fn: Any) -> tuple[np.ndarray, Any, Callable]:
    data = np.asarray(getattr(x, "data", x))
    if not np.issubdtype(data.dtype, np.floating):
        raise TypeError(f"inputs must be floating point, got {data.dtype}")
    n_y = len(y) if hasattr(y, "__len__") else None
    if n_y is not None and n_y != len(data):
        raise ValueError(f"{len(data)} inputs but {n_y} labels")
    if loss_fn is None:
        loss_fn = gradlab.nn.CrossEntropyLoss()
    if not isinstance(y, gradlab.Tensor):
        y = gradlab.tensor(np.asarray(y))
    return data, y, loss_fn


def fgsm(model: Any, x: Any, y: Any, epsilon: float, loss_fn: Callable | None = None,
         clip: tuple[float, float] | None = (0.0, 1.0), targeted: bool = False) -> Any:
    """One signed-gradient step of size ``epsilon`` that increases ``loss_fn(model(x), y)``.

    Args:
        model: any module; ``x``: a batch of inputs (Tensor or array); ``y``: the targets for ``loss_fn``.
        epsilon: the L-infinity budget (>= 0), in the units of ``x``.
        loss_fn: default ``nn.CrossEntropyLoss()``.
        clip: the valid input range (``None``: unbounded).
        targeted: step towards ``y`` (decrease the loss) instead.

    >>> import gradlab
    >>> from gradlab import nn
    >>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> model, x = nn.Linear(3, 2), gradlab.full((4, 3), 0.5)
    >>> x_adv = fgsm(model, x, [0, 1, 0, 1], epsilon=0.1)
    >>> bool(abs((x_adv - x).abs() - 0.1).max().item() < 1e-6)  # every input moved by epsilon
    True
    >>> fgsm(model, x, [0, 1, 0, 1], epsilon=-1)
    Traceback (most recent call last):
        ...
    ValueError: epsilon must be a finite number >= 0, got -1
    """
    eps, rng_clip = _check(epsilon, clip)
    data, y, loss_fn = _prepare(model, x, y, loss_fn)
    if eps == 0:
        return gradlab.tensor(data.copy())
    with _input_only(model):
        g = _grad(model, loss_fn, data, y)
    step = np.sign(g).astype(data.dtype) * data.dtype.type(-eps if targeted else eps)
    adv = data + step
    if rng_clip is not None:
        adv = np.clip(adv, rng_clip[0], rng_clip[1])
    return gradlab.tensor(adv.astype(data.dtype, copy=False))


def pgd(model: Any, x: Any, y: Any, epsilon: float, alpha: float | None = None, steps: int = 10,
        random_start: bool = True, loss_fn: Callable | None = None, clip: tuple[float, float] | None = (0.0, 1.0),
        seed: int | None = None, generator: Any = None, targeted: bool = False) -> Any:
    """Projected gradient descent (ascent on the loss) in the L-infinity ball of radius ``epsilon`` around ``x``.

    Args:
        alpha: the step size (default ``2.5 * epsilon / steps``, Madry et al.).
        steps: number of signed-gradient steps (>= 1).
        random_start: start from ``x + U(-epsilon, epsilon)`` (drawn from ``generator``, or a fresh
            ``Generator(seed)`` when ``seed`` is given: ``np.random.default_rng(seed).uniform(-eps, eps, shape)``).
        other arguments: as :func:`fgsm`.

    >>> import gradlab
    >>> from gradlab import nn
    >>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> model, x = nn.Linear(3, 2), gradlab.full((4, 3), 0.5)
    >>> x_adv = pgd(model, x, [0, 1, 0, 1], epsilon=0.1, steps=3, seed=0)
    >>> bool((x_adv - x).abs().max().item() <= 0.1 + 1e-6)  # still inside the epsilon-ball
    True
    >>> pgd(model, x, [0, 1, 0, 1], epsilon=0.1, steps=0)
    Traceback (most recent call last):
        ...
    ValueError: steps must be >= 1, got 0
    """
    eps, rng_clip = _check(epsilon, clip)
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    a = 2.5 * eps / int(steps) if alpha is None else float(alpha)
    if not a >= 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    data, y, loss_fn = _prepare(model, x, y, loss_fn)
    if eps == 0:
        return gradlab.tensor(data.copy())
    dt = data.dtype.type
    lo, hi = data - dt(eps), data + dt(eps)
    if rng_clip is not None:
        lo, hi = np.maximum(lo, dt(rng_clip[0])), np.minimum(hi, dt(rng_clip[1]))
    adv = data.copy()
    if random_start:
        gen = gradlab.Generator(seed) if seed is not None else generator
        adv = adv + gradlab.backend.rng(gen).uniform(-eps, eps, data.shape).astype(data.dtype)
        adv = np.minimum(np.maximum(adv, lo), hi)
    sign = dt(-a if targeted else a)
    with _input_only(model):
        for _ in range(int(steps)):
            g = _grad(model, loss_fn, adv, y)
            adv = np.minimum(np.maximum(adv + np.sign(g).astype(data.dtype) * sign, lo), hi)
    return gradlab.tensor(adv.astype(data.dtype, copy=False))


ATTACKS: dict[str, Callable[..., Any]] = {"fgsm": fgsm, "pgd": pgd}


def robust_accuracy(model: Any, x: Any, y: Any, attack: str | Callable = "fgsm", epsilon: float = 0.1,
                    batch_size: int = 500, **kwargs: Any) -> float:
    """Accuracy of ``model`` (argmax of its outputs) on ``attack(model, x_batch, y_batch, epsilon, **kwargs)``,
    over the whole of ``x``, ``y`` in batches of ``batch_size``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> m = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> 0.0 <= robust_accuracy(m, gradlab.rand(6, 4), [0, 1, 0, 1, 0, 1], "fgsm", 0.0) <= 1.0
    True
    """
    fn = ATTACKS.get(attack) if isinstance(attack, str) else attack
    if fn is None:
        raise ValueError(f"unknown attack {attack!r}; available: {', '.join(ATTACKS)}")
    data = np.asarray(getattr(x, "data", x))
    labels = np.asarray(getattr(y, "data", y)).reshape(-1)
    if len(labels) != len(data):
        raise ValueError(f"{len(data)} inputs but {len(labels)} labels")
    correct = 0
    was = getattr(model, "training", False)
    try:
        for start in range(0, len(data), batch_size):
            xb, yb = data[start:start + batch_size], labels[start:start + batch_size]
            adv = fn(model, xb, gradlab.tensor(yb), epsilon, **kwargs)
            model.eval()
            with gradlab.no_grad():
                pred = np.asarray(model(adv)._data).argmax(1)
            correct += int((pred == yb).sum())
    finally:
        model.train(was)
    return correct / max(len(data), 1)
