"""Callbacks for :func:`gradlab.train.fit` (the Keras hooks, with torch-style objects).

``fit`` calls, in this order: ``on_train_begin`` once; per epoch ``on_epoch_begin(epoch)``, ``on_batch_end(batch,
logs)`` after every optimizer step (``logs``: running means of ``loss`` and the metrics so far this epoch, plus
``batch_loss`` and ``size``), then ``on_epoch_end(epoch, logs)`` with the epoch's ``loss``, metrics, ``val_*``, ``lr``
and ``time``; ``on_train_end`` once. Epochs and batches are 0-based. A callback reaches the run through
``self.state`` (:class:`gradlab.train.loop.FitState`: ``model``, ``optimizer``, ``history``, ``stop_training``...)
and ``self.model``; setting ``self.state.stop_training = True`` ends training after the current epoch.

Callbacks with progress to keep across a resumed run implement ``state_dict``/``load_state_dict`` (what
:func:`gradlab.io.save_checkpoint` stores: numbers, strings, lists, dicts and arrays). Every stateful callback here
does (EarlyStopping with its best weights, ModelCheckpoint, LRSchedulerCallback with its scheduler, CSVLogger with
its file position), so a resumed ``fit`` ends bit-identical to an uninterrupted one.

>>> cb = EarlyStopping(monitor="val_loss", patience=1)
>>> class _State: stop_training = False; model = None
>>> cb.set_state(_State())
>>> for epoch, v in enumerate([1.0, 0.5, 0.6, 0.7]):
...     cb.on_epoch_end(epoch, {"val_loss": v})
...     if cb.state.stop_training:
...         break
>>> epoch, cb.best, cb.best_epoch
(2, 0.5, 1)
"""
from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gradlab.train.base import Callback, CallbackList, LambdaCallback
from gradlab.train.reporting import CSVLogger, ProgressBar

__all__ = [
    "Callback",
    "CallbackList",
    "LambdaCallback",
    "ProgressBar",
    "EarlyStopping",
    "ModelCheckpoint",
    "LRSchedulerCallback",
    "CSVLogger",
]


class _Monitor(Callback):
    """Shared logic: a monitored quantity, ``mode`` and what counts as an improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.startswith("fmeasure")) else "min"
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(float(min_delta))
        self.best: float = math.inf if mode == "min" else -math.inf

    def _current(self, logs: dict[str, Any] | None) -> float | None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__}: the monitored quantity {self.monitor!r} is not in the logs "
                f"(available: {', '.join(logs or {})}); skipping this epoch"
            )
            return None
        return float(value)

    def _improved(self, current: float) -> bool:
        if math.isnan(current):
            return False
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta


def _weights(model: Any) -> dict[str, np.ndarray]:
    return {k: np.array(getattr(v, "_data", v), copy=True) for k, v in model.state_dict().items()}


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``restore_best_weights``: at the end of training the model gets the weights of the best epoch back.
    ``baseline``: the value to beat before anything counts as an improvement. ``stopped_epoch`` is the epoch
    after which training stopped (0 when it did not stop early), ``best_epoch`` the best one.

    >>> from gradlab.train.loop import FitState
    >>> es = EarlyStopping(monitor="val_loss", patience=1)
    >>> es.set_state(FitState(epochs=10))
    >>> es.on_train_begin()
    >>> for epoch, v in enumerate([1.0, 0.8, 0.9, 0.85]):
    ...     es.on_epoch_end(epoch, {"val_loss": v})
    ...     if es.state.stop_training:
    ...         break
    >>> es.state.stop_training, es.stopped_epoch, es.best_epoch
    (True, 2, 1)
    """

    def __init__(
        self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, mode: str = "auto",
        baseline: float | None = None, restore_best_weights: bool = False, start_from_epoch: int = 0,
        verbose: bool = False,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.patience = int(patience)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = -1
        self.best = math.inf if self.mode == "min" else -math.inf
        if self.baseline is not None:
            self.best = float(self.baseline)
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if getattr(self.state, "resumed", False):
            return  # keep the counters restored from the checkpoint
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        current = self._current(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self._improved(current):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights and self.model is not None:
                self.best_weights = _weights(self.model)
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.state.stop_training = True
            if self.verbose:
                print(f"EarlyStopping: {self.monitor} has not improved for {self.wait} epochs; "
                      f"stopping after epoch {epoch + 1} (best {self.best:.6g} at epoch {self.best_epoch + 1})")

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None and self.model is not None:
            from gradlab.train.checkpoint import load_weights_into

            load_weights_into(self.model, self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        """The counters, the best value and epoch, and (``restore_best_weights``) the best weights."""
        state: dict[str, Any] = {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                                 "stopped_epoch": self.stopped_epoch}
        if self.best_weights is not None:
            state["best_weights"] = dict(self.best_weights)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.wait, self.best = int(state["wait"]), float(state["best"])
        self.best_epoch, self.stopped_epoch = int(state["best_epoch"]), int(state["stopped_epoch"])
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else {
            str(k): np.array(getattr(v, "_data", v), copy=True) for k, v in weights.items()}


class ModelCheckpoint(_Monitor):
    """Save the model's weights (safetensors, written atomically by :func:`gradlab.io.save`) after epochs.

    With ``save_best_only`` it writes ``<dirpath>/<filename>.safetensors`` (default ``best``) whenever ``monitor``
    improves; otherwise one file per epoch, ``filename`` formatted with ``epoch`` (1-based) and the logs
    (default ``epoch{epoch:03d}``). ``best_model_path`` / ``last_model_path`` name the files written.

    >>> import tempfile
    >>> from types import SimpleNamespace
    >>> from gradlab import nn
    >>> ck = ModelCheckpoint(tempfile.mkdtemp(), save_best_only=True)
    >>> ck.set_state(SimpleNamespace(model=nn.Linear(2, 1)))
    >>> ck.on_epoch_end(0, {"val_loss": 0.7}); ck.on_epoch_end(1, {"val_loss": 0.9})
    >>> ck.best, ck.best_model_path.name
    (0.7, 'best.safetensors')
    """

    def __init__(
        self, dirpath: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = False, mode: str = "auto",
        filename: str | None = None, min_delta: float = 0.0, verbose: bool = False,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.dirpath = Path(dirpath)
        self.save_best_only = save_best_only
        self.filename = filename or ("best" if save_best_only else "epoch{epoch:03d}")
        self.verbose = verbose
        self.best_model_path: Path | None = None
        self.last_model_path: Path | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            current = self._current(logs)
            if current is None or not self._improved(current):
                return
            self.best = current
        path = self.dirpath / (self.filename.format(epoch=epoch + 1, **logs) + ".safetensors")
        from gradlab.train.checkpoint import save_weights

        save_weights(self.model, path)
        self.last_model_path = path
        if self.save_best_only or self.best_model_path is None:
            self.best_model_path = path
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}")

    def state_dict(self) -> dict[str, Any]:
        """The best value so far and the paths written."""
        return {"best": self.best, "best_model_path": str(self.best_model_path or ""),
                "last_model_path": str(self.last_model_path or "")}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.best = float(state["best"])
        self.best_model_path = Path(state["best_model_path"]) if state.get("best_model_path") else None
        self.last_model_path = Path(state["last_model_path"]) if state.get("last_model_path") else None


_PER_BATCH = ("OneCycleLR", "CyclicLR")


class LRSchedulerCallback(Callback):
    """Steps a learning-rate scheduler: after every epoch (default), or after every batch (``interval='batch'``;
    the default for ``OneCycleLR``/``CyclicLR``). ``ReduceLROnPlateau`` is stepped with ``logs[monitor]``.

    >>> import gradlab
    >>> from gradlab import optim
    >>> opt = optim.SGD([gradlab.zeros(1, requires_grad=True)], lr=1.0)
    >>> cb = LRSchedulerCallback(optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    >>> opt.step(); cb.on_epoch_end(0, {}); cb.on_epoch_end(1, {})
    >>> opt.param_groups[0]["lr"]
    0.25
    """

    def __init__(self, scheduler: Any, monitor: str = "val_loss", interval: str | None = None) -> None:
        if interval is None:
            interval = "batch" if type(scheduler).__name__ in _PER_BATCH else "epoch"
        if interval not in ("epoch", "batch"):
            raise ValueError(f"interval must be 'epoch' or 'batch', got {interval!r}")
        self.scheduler = scheduler
        self.monitor = monitor
        self.interval = interval
        self._plateau = type(scheduler).__name__ == "ReduceLROnPlateau"
        if self._plateau and interval == "batch":
            raise ValueError("ReduceLROnPlateau steps on a monitored value: use interval='epoch'")
        if interval == "batch":
            self.on_batch_end = self._step_batch  # type: ignore[method-assign]

    def _step_batch(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.scheduler.step()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.interval != "epoch":
            return
        if self._plateau:
            value = (logs or {}).get(self.monitor)
            if value is None:
                raise KeyError(f"LRSchedulerCallback: ReduceLROnPlateau monitors {self.monitor!r}, which is not in "
                               f"the logs (available: {', '.join(logs or {})}); pass monitor= or validation data")
            self.scheduler.step(float(value))
        else:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (also when it is not the one ``fit`` checkpoints as its ``scheduler``)."""
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output into the scheduler."""
        if state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
