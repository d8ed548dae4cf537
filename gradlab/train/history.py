"""``History``: the per-epoch record of a training run (``history.history`` is a dict of lists, as in Keras).

>>> h = History()
>>> h.append(0, {"loss": 0.9, "accuracy": 0.6, "val_loss": 1.0, "val_accuracy": 0.55})
>>> h.append(1, {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.7, "val_accuracy": 0.75})
>>> h.history["loss"], h.epoch
([0.9, 0.5], [0, 1])
>>> h.best("val_loss")
(1, 0.7)
>>> History.from_json(h.to_json()).history == h.history
True

Values stay floats in memory, NaN and infinity included; on disk (:meth:`History.to_json`) the JSON is strict: a
non-finite value is written as ``null`` and recorded in a top-level ``"nonfinite"`` object (see
:mod:`gradlab.train.jsonfile`). Files of older versions, which held the strings ``"nan"``/``"inf"``, still load.

>>> h.append(2, {"loss": float("nan")})
>>> History.from_json(h.to_json(indent=None)).history["loss"]
[0.9, 0.5, nan]
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from gradlab.io.atomic import save_figure
from gradlab.train.jsonfile import decode_nonfinite, dumps, loads, write_json

__all__ = ["History", "plot_history"]


def _plain(v: Any) -> Any:
    """A log value as a plain Python value: numbers become ``int``/``float`` (NaN and inf kept), others ``str``."""
    if isinstance(v, (bool, int, str)) or v is None:
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


class History:
    """Epoch-level logs of :func:`gradlab.train.fit`.

    Attributes:
        history: ``{key: [value per epoch]}`` for ``loss``, each metric, ``val_loss``/``val_<metric>`` when there
            is validation data, ``lr`` and ``time`` (seconds per epoch).
        epoch: the 0-based epoch index of each entry.

    >>> h = History()
    >>> h.append(0, {"loss": 1.0, "val_loss": 1.2}); h.append(1, {"loss": 0.6, "val_loss": 0.9})
    >>> h["loss"], h.best("val_loss"), h.last()
    ([1.0, 0.6], (1, 0.9), {'loss': 0.6, 'val_loss': 0.9})
    """

    def __init__(self) -> None:
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None  # set by fit(on_nan="stop") when it ended training early

    def append(self, epoch: int, logs: dict[str, Any]) -> None:
        """Record the logs of ``epoch`` (keys missing from earlier epochs are padded with ``None``)."""
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, [None] * n).append(_plain(value))
        for values in self.history.values():
            if len(values) < n + 1:
                values.append(None)

    def __getitem__(self, key: str) -> list[Any]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def last(self) -> dict[str, Any]:
        """The logs of the last recorded epoch (empty before the first)."""
        return {k: v[-1] for k, v in self.history.items()} if self.epoch else {}

    def best(self, monitor: str = "val_loss", mode: str = "auto") -> tuple[int, float]:
        """``(epoch, value)`` of the best ``monitor`` value (``mode`` 'min', 'max' or 'auto': max for accuracies)."""
        if monitor not in self.history:
            raise KeyError(f"{monitor!r} is not in the history (keys: {', '.join(self.history)})")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.startswith("fmeasure")) else "min"
        pairs = [(e, v) for e, v in zip(self.epoch, self.history[monitor])
                 if isinstance(v, (int, float)) and math.isfinite(v)]
        if not pairs:
            raise ValueError(f"no numeric values recorded for {monitor!r}")
        return (max if mode == "max" else min)(pairs, key=lambda p: p[1])

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """``{"epoch": [...], "history": {key: [...]}}`` (floats as they are, NaN included)."""
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; the strings ``'nan'``/``'inf'``/``'-inf'`` of old files become floats."""
        if not isinstance(state, dict) or not isinstance(state.get("epoch"), list) \
                or not isinstance(state.get("history"), dict):
            raise ValueError("a History state is an object with an 'epoch' list and a 'history' object")
        state = decode_nonfinite(state, legacy_strings=True)
        self.epoch = [int(e) for e in state["epoch"]]
        self.history = {k: [_plain(x) for x in v] for k, v in state["history"].items()}

    def to_json(self, path: str | os.PathLike | None = None, indent: int | None = 1) -> str:
        """The history as strict JSON text; with ``path`` also written there (atomically: temporary file + rename).

        Non-finite values are written as ``null`` plus a ``"nonfinite"`` record (:mod:`gradlab.train.jsonfile`).
        """
        if path is not None:
            write_json(path, self.state_dict(), indent=indent)
        return dumps(self.state_dict(), indent=indent)

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike) -> History:
        """A History from :meth:`to_json` text or a file holding it (old files with ``"nan"`` strings too)."""
        text = str(text_or_path)
        source = "the JSON text"
        if not text.lstrip().startswith("{"):
            source = str(text_or_path)
            text = Path(text_or_path).read_text(encoding="utf-8")
        h = cls()
        try:
            h.load_state_dict(loads(text, legacy_strings=True))
        except (ValueError, TypeError) as e:
            raise ValueError(f"{source} does not hold a History: {e}") from None
        return h

    def plot(self, path: str | os.PathLike, title: str | None = None) -> Path:
        """Write the loss and accuracy curves (train vs validation) to ``path`` (PNG); see :func:`plot_history`."""
        return plot_history(self, path, title=title)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.last().items())
        return f"History(epochs={len(self)}{', ' + last if last else ''})"


def _numeric(values: list[Any]) -> list[float]:
    return [float(v) if isinstance(v, (int, float)) else float("nan") for v in values]


def plot_history(history: History | dict[str, list[Any]], path: str | os.PathLike, title: str | None = None) -> Path:
    """Plot loss (and every metric with a validation twin, e.g. accuracy) per epoch, train vs validation.

    One panel per quantity; the figure is written with matplotlib's Agg backend (no display needed), atomically.
    Returns the path written.

    >>> import os, tempfile
    >>> path = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, os.path.join(tempfile.mkdtemp(), "c.png"))
    >>> path.name, path.stat().st_size > 0
    ('c.png', True)
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    hist = history.history if isinstance(history, History) else history
    epochs_list = history.epoch if isinstance(history, History) else list(range(len(next(iter(hist.values()), []))))
    xs = [e + 1 for e in epochs_list]
    skip = {"lr", "time", "epoch"}
    keys = [k for k in hist if not k.startswith("val_") and k not in skip]
    keys += [k[4:] for k in hist if k.startswith("val_") and k[4:] not in keys]
    keys.sort(key=lambda k: (k != "loss", k))
    fig = Figure(figsize=(5.0 * max(len(keys), 1), 4.0))
    FigureCanvasAgg(fig)  # the Agg canvas: no display, no pyplot global state
    axes = fig.subplots(1, max(len(keys), 1), squeeze=False)[0]
    for ax, key in zip(axes, keys):
        if key in hist:
            ax.plot(xs, _numeric(hist[key]), "o-", label="train", markersize=3)
        if f"val_{key}" in hist:
            ax.plot(xs, _numeric(hist[f"val_{key}"]), "s-", label="validation", markersize=3)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(key)
        ax.set_title(key)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = save_figure(fig, path)
    return path
