"""The curves of a reinforcement-learning run: the return of every episode and its moving average.

>>> moving_average([1.0, 2.0, 3.0, 4.0], window=2).tolist()
[1.0, 1.5, 2.5, 3.5]
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from gradlab.io.atomic import save_figure

__all__ = ["moving_average", "plot_returns"]


def moving_average(values: Sequence[float] | np.ndarray, window: int = 20) -> np.ndarray:
    """The mean of the last ``window`` values at each position (fewer at the start).

    >>> moving_average([2.0, 4.0, 6.0], window=10).tolist()
    [2.0, 3.0, 4.0]
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    x = np.asarray(values, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(x)])
    n = np.arange(1, len(x) + 1)
    lo = np.maximum(n - window, 0)
    return (c[n] - c[lo]) / (n - lo)


def plot_returns(curves: Mapping[str, Sequence[float]] | Sequence[float], path: str | os.PathLike,
                 window: int = 20, title: str | None = None,
                 steps: Mapping[str, Sequence[int]] | None = None) -> Path:
    """Plot return per episode (faint) and its ``window``-episode moving average for one run (a list of returns)
    or several (name -> returns) on one axis; ``steps`` (name -> the environment step at each episode's end)
    puts environment steps on the x axis instead of episodes. Written with Agg, atomically; returns the path.

    >>> import tempfile
    >>> p = plot_returns([10.0, 20.0, 30.0], os.path.join(tempfile.mkdtemp(), "c.png")); p.stat().st_size > 0
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    runs = {"return": list(curves)} if not isinstance(curves, Mapping) else dict(curves)
    fig = Figure(figsize=(7.0, 4.0))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for i, (name, returns) in enumerate(runs.items()):
        color = f"C{i}"
        xs = np.asarray(steps[name]) if steps is not None else np.arange(1, len(returns) + 1)
        ax.plot(xs, returns, color=color, alpha=0.25, linewidth=0.8)
        label = f"{name} ({window}-episode mean)" if len(runs) > 1 else f"{window}-episode mean"
        ax.plot(xs, moving_average(returns, window), color=color, linewidth=2.0, label=label)
    ax.set_xlabel("environment step" if steps is not None else "episode")
    ax.set_ylabel("return")
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    path = save_figure(fig, path)
    return path
