"""Training monitors (seed 004: "watch the ratio of update size to weight size, look at activation and gradient
distributions per layer"): :class:`TrainingMonitor`, a :func:`~gradlab.train.fit` callback.

Every ``every`` optimizer steps it records, per layer, the ratio ``||w_after - w_before|| / ||w_before||`` of the
step's update to the weights (the rule of thumb: about 1e-3), the mean and standard deviation of the layer's outputs
(forward hooks) and of its weight gradient, and for every ReLU-family activation the fraction of dead units (never
positive over the batch). The series go to :attr:`TrainingMonitor.series`, the epoch's median update ratio to the
History as ``update_ratio``, and with ``out_dir`` to ``monitor.json``, ``monitor.png`` (one line per layer over the
steps) and ``activations-epochN.png`` (histograms of the activations at the epochs in ``histogram_epochs``).

>>> import gradlab
>>> from gradlab import nn, optim
>>> from gradlab.train import fit
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> x, y = gradlab.randn(32, 4), gradlab.randint(0, 2, (32,))
>>> mon = TrainingMonitor(every=1)
>>> h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), [(x, y)] * 3, epochs=1,
...         callbacks=[mon], progress=False)
>>> len(mon.steps), sorted(mon.layers), "update_ratio" in h.history
(3, ['0', '1', '2'], True)
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from gradlab import nn
from gradlab.io.atomic import save_figure
from gradlab.train.base import Callback

__all__ = ["TrainingMonitor", "RELU_FAMILY"]

#: activation classes whose zero outputs count as "dead" units
RELU_FAMILY = ("ReLU", "ReLU6")

_MAX_SAMPLE = 20000  # activation values kept per layer for the histograms


def _arr(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "data", x))


class TrainingMonitor(Callback):
    """Per-layer statistics every ``every`` steps (see the module docstring); ``out_dir`` gets JSON and PNGs at the
    end of every epoch. ``histogram_epochs``: 1-based epochs whose activations are drawn as histograms (default:
    the first and the last).

    >>> TrainingMonitor(every=10).every
    10
    """

    def __init__(self, every: int = 50, out_dir: str | os.PathLike | None = None,
                 histogram_epochs: tuple[int, ...] | None = None) -> None:
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"every must be a positive integer (steps between measurements), got {every!r}")
        self.every = every
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.histogram_epochs = histogram_epochs
        self.steps: list[int] = []
        self.series: dict[str, list[float]] = {}
        self.layers: dict[str, str] = {}  # name -> module class
        self._handles: list[Any] = []
        self._capture = False
        self._count = 0
        self._before: dict[str, np.ndarray] = {}
        self._acts: dict[str, np.ndarray] = {}
        self._epoch_ratios: list[float] = []

    # ---------------------------------------------------------------- hooks
    def _weights(self) -> dict[str, Any]:
        out = {}
        for name, module in self.model.named_modules():
            w = module._parameters.get("weight") if hasattr(module, "_parameters") else None
            if name and w is not None and getattr(w, "requires_grad", False):
                out[name] = w
        return out

    def _hook(self, name: str, relu: bool):
        def hook(module: Any, inputs: Any, output: Any) -> None:
            if not self._capture or not module.training:
                return
            a = _arr(output)
            if a.dtype.kind != "f" or a.size == 0:
                return
            rec = self._pending
            rec[f"{name}/act_mean"] = float(a.mean())
            rec[f"{name}/act_std"] = float(a.std())
            if relu and a.ndim >= 1 and len(a):
                rec[f"{name}/dead_fraction"] = float((~(a.reshape(len(a), -1) > 0).any(axis=0)).mean())
            flat = a.reshape(-1)
            self._acts[name] = flat[:: max(1, flat.size // _MAX_SAMPLE)].copy()
        return hook

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._remove()
        weighted = self._weights()
        for name, module in self.model.named_modules():
            relu = type(module).__name__ in RELU_FAMILY
            if name and (name in weighted or relu) and not isinstance(module, (nn.Sequential, nn.ModuleList)):
                self.layers[name] = type(module).__name__
                self._handles.append(module.register_forward_hook(self._hook(name, relu)))
        self._pending: dict[str, float] = {}
        self._arm()

    def _arm(self) -> None:
        """The next batch is measured: remember the weights before its step."""
        self._capture = True
        self._pending = {}
        self._before = {n: np.array(w._data, copy=True) for n, w in self._weights().items()}

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._count += 1
        if self._capture:
            rec = self._pending
            for name, w in self._weights().items():
                before = self._before.get(name)
                if before is not None and before.shape == w._data.shape:
                    norm = float(np.linalg.norm(before))
                    ratio = float(np.linalg.norm(w._data - before)) / norm if norm > 0 else math.nan
                    rec[f"{name}/update_ratio"] = ratio
                    self._epoch_ratios.append(ratio)
                g = getattr(w, "grad", None)
                if g is not None:
                    ga = _arr(g)
                    rec[f"{name}/grad_mean"], rec[f"{name}/grad_std"] = float(ga.mean()), float(ga.std())
            n = len(self.steps)
            for key in set(rec) | set(self.series):
                self.series.setdefault(key, [math.nan] * n).append(rec.get(key, math.nan))
            self.steps.append(self._count)
            self._capture = False
        if self._count % self.every == 0:
            self._arm()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        finite = [r for r in self._epoch_ratios if math.isfinite(r)]
        if logs is not None and finite:
            logs["update_ratio"] = float(np.median(finite))
        self._epoch_ratios = []
        if self.out_dir is not None:
            self.save(self.out_dir)
            epochs = self.histogram_epochs or (1, int(getattr(self.state, "epochs", 0) or 0))
            if epoch + 1 in epochs and self._acts:
                self.plot_histograms(self.out_dir / f"activations-epoch{epoch + 1}.png", f"epoch {epoch + 1}")

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._remove()

    def on_exception(self, exc: BaseException) -> None:
        self._remove()

    def _remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self._capture = False

    # ---------------------------------------------------------------- state and output
    def state_dict(self) -> dict[str, Any]:
        """The recorded series (a resumed run continues them)."""
        return {"steps": list(self.steps), "count": self._count,
                "series": {k: [float(v) for v in vals] for k, vals in self.series.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.steps = [int(s) for s in state.get("steps", [])]
        self._count = int(state.get("count", 0))
        self.series = {str(k): [float(v) for v in vals] for k, vals in state.get("series", {}).items()}

    def save(self, out_dir: str | os.PathLike) -> None:
        """Write ``monitor.json`` (steps, layers, series) and ``monitor.png`` into ``out_dir`` (atomically)."""
        from gradlab.train.jsonfile import write_json

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        clean = {k: [v if math.isfinite(v) else None for v in vals] for k, vals in self.series.items()}
        write_json(out / "monitor.json", {"steps": self.steps, "layers": self.layers, "series": clean})
        if self.steps:
            self.plot(out / "monitor.png")

    def plot(self, path: str | os.PathLike) -> Path:
        """One panel per statistic, one line per layer over the steps."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        panels = [("update_ratio", "update / weight norm", True), ("act_std", "activation std", False),
                  ("grad_std", "gradient std", True), ("dead_fraction", "dead ReLU fraction", False)]
        fig = Figure(figsize=(18, 4))
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, len(panels))
        for ax, (metric, title, log) in zip(axes, panels):
            for layer in self.layers:
                vals = self.series.get(f"{layer}/{metric}")
                if vals is not None and any(math.isfinite(v) and (v > 0 or not log) for v in vals):
                    ax.plot(self.steps, vals, label=f"{layer} ({self.layers[layer]})")
            if metric == "update_ratio":
                ax.axhline(1e-3, color="grey", ls="--", lw=1, label="1e-3")
            if log and ax.lines:
                ax.set_yscale("log")
            ax.set_title(title)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=7)
        fig.tight_layout()
        return _save(fig, path)

    def plot_histograms(self, path: str | os.PathLike, title: str = "") -> Path:
        """Histograms of the last measured activations, one panel per layer."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        names = list(self._acts)
        fig = Figure(figsize=(3.2 * len(names), 3))
        FigureCanvasAgg(fig)
        axes = np.atleast_1d(fig.subplots(1, len(names)))
        for ax, name in zip(axes, names):
            ax.hist(self._acts[name], bins=50, color="tab:blue", alpha=0.8)
            ax.set_title(f"{name} ({self.layers.get(name, '')})", fontsize=8)
        if title:
            fig.suptitle(f"activations, {title}")
        fig.tight_layout()
        return _save(fig, path)


def _save(fig: Any, path: str | os.PathLike) -> Path:
    path = save_figure(fig, path)
    return path
