"""The learning-rate range test (Smith 2017; seed 004's "how to choose the learning rate"): :func:`lr_find` raises
the learning rate exponentially from ``start_lr`` to ``end_lr`` over one epoch of mini-batches, records the
(smoothed) loss after each step, and suggests the rate where the loss falls fastest. The model and the optimizer
are put back as they were afterwards. :func:`plot_lr_find` draws loss against rate on a log axis.

>>> import gradlab
>>> from gradlab import nn, optim
>>> _ = gradlab.manual_seed(0)
>>> model = nn.Linear(4, 2)
>>> data = [(gradlab.randn(16, 4), gradlab.randint(0, 2, (16,)))] * 40
>>> res = lr_find(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), data, 1e-4, 10.0)
>>> len(res["lrs"]) == len(res["losses"]) > 10, 1e-4 <= res["suggestion"] <= 10.0
(True, True)
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from gradlab.io.atomic import save_figure

__all__ = ["lr_find", "plot_lr_find"]


def lr_find(model: Any, loss_fn: Any, optimizer: Any, loader: Iterable, start_lr: float = 1e-7,
            end_lr: float = 10.0, num_steps: int | None = None, smooth: float = 0.9, diverge: float = 4.0,
            ) -> dict[str, Any]:
    """Sweep the learning rate exponentially over ``loader`` (``num_steps`` batches; default one epoch) and return
    ``{"lrs", "losses" (exponentially smoothed with ``smooth``), "raw_losses", "suggestion"}``. The sweep stops early
    once the smoothed loss exceeds ``diverge`` times its best. The model's weights and the optimizer's state are
    restored afterwards.

    >>> import gradlab
    >>> from gradlab import nn
    >>> from gradlab.data import DataLoader, TensorDataset
    >>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> x = gradlab.randn(64, 3); y = (x[:, 0] > 0).long()
    >>> model = nn.Linear(3, 2); opt = gradlab.optim.SGD(model.parameters(), lr=0.1)
    >>> before = model.weight.detach().numpy().copy()
    >>> r = lr_find(model, nn.CrossEntropyLoss(), opt, DataLoader(TensorDataset(x, y), batch_size=8),
    ...             start_lr=1e-4, end_lr=1.0)
    >>> sorted(r), len(r["lrs"]), bool((model.weight.detach().numpy() == before).all())
    (['losses', 'lrs', 'raw_losses', 'suggestion'], 8, True)
    >>> lr_find(model, nn.CrossEntropyLoss(), opt, [], start_lr=1.0, end_lr=0.1)
    Traceback (most recent call last):
        ...
    ValueError: need 0 < start_lr < end_lr, got start_lr=1.0, end_lr=0.1
    """
    if not 0 < start_lr < end_lr or not math.isfinite(end_lr):
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if not 0 <= smooth < 1:
        raise ValueError(f"smooth must be in [0, 1), got {smooth}")
    n = num_steps if num_steps is not None else len(loader)  # type: ignore[arg-type]
    if n < 2:
        raise ValueError(f"the sweep needs at least 2 steps, got {n}")
    weights = {k: np.array(v._data, copy=True) for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    was_training = getattr(model, "training", True)
    factor = (end_lr / start_lr) ** (1.0 / (n - 1))
    lrs: list[float] = []
    raw: list[float] = []
    smoothed: list[float] = []
    avg, best = 0.0, math.inf
    model.train()
    try:
        for i, batch in enumerate(loader):
            if i >= n:
                break
            lr = start_lr * factor ** i
            for g in optimizer.param_groups:
                g["lr"] = lr
            *inputs, target = batch
            loss = loss_fn(model(*inputs), target)
            value = float(loss.item())
            if not math.isfinite(value):
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            avg = smooth * avg + (1 - smooth) * value
            s = avg / (1 - smooth ** (i + 1))
            lrs.append(lr)
            raw.append(value)
            smoothed.append(s)
            best = min(best, s)
            if s > diverge * best and i > 2:
                break
    finally:
        from gradlab.train.checkpoint import load_weights_into

        load_weights_into(model, weights)
        optimizer.load_state_dict(opt_state)
        model.train(was_training)
    if len(lrs) < 2:
        raise FloatingPointError("the loss was not finite from the first steps on: lower start_lr")
    return {"lrs": lrs, "losses": smoothed, "raw_losses": raw, "suggestion": _suggest(lrs, smoothed)}


def _suggest(lrs: list[float], losses: list[float]) -> float:
    """The rate of the steepest descent of the smoothed loss against log(lr), before its minimum.

    >>> _suggest([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.9, 1.0, 3.0])
    0.01
    """
    stop = int(np.argmin(losses)) + 1
    if stop < 2:
        return lrs[0]
    slope = np.diff(np.asarray(losses[:stop])) / np.diff(np.log(np.asarray(lrs[:stop])))
    return float(lrs[int(np.argmin(slope))])


def plot_lr_find(result: dict[str, Any], path: str | os.PathLike, title: str = "learning-rate range test") -> Path:
    """Loss against learning rate (log axis), the suggestion marked; written atomically to ``path``.

    >>> import tempfile, os
    >>> plot_lr_find({"lrs": [1e-3, 1e-2], "losses": [1.0, 0.5], "suggestion": 1e-3},
    ...              os.path.join(tempfile.mkdtemp(), "lr.png")).name
    'lr.png'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(result["lrs"], result["losses"], label="loss (smoothed)")
    ax.axvline(result["suggestion"], color="tab:red", ls="--", label=f"suggested {result['suggestion']:.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = save_figure(fig, path)
    return path
