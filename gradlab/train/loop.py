"""The training loop: :func:`fit`, :func:`evaluate`, :func:`predict`.

The loop is the plain torch one (forward, loss, ``zero_grad``, ``backward``, ``step``) with Keras-style bookkeeping:
per-epoch logs in a :class:`~gradlab.train.history.History`, callbacks, validation under ``eval()`` +
``no_grad()``, and full training checkpoints that make a resumed run bit-identical to an uninterrupted one.

Per batch it reads the loss once as a Python float (a 0-d numpy array on the CPU: no device sync) to accumulate
the epoch mean and to catch a NaN/inf loss; after every epoch (before callbacks and the checkpoint) the weights are
checked for NaN/inf (:mod:`gradlab.train.finite`). ``fit(on_nan=...)`` says what then happens: ``"raise"`` (a
``FloatingPointError`` naming the batch, or the parameter and step), ``"stop"`` or ``"skip-batch"``.

>>> import numpy as np, gradlab
>>> from gradlab import nn, optim
>>> from gradlab.data import DataLoader, TensorDataset
>>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
<...>
>>> X = gradlab.randn(64, 2); y = (X[:, 0] > 0).long()
>>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
>>> loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
>>> hist = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05), loader, epochs=20,
...            progress=False)
>>> len(hist.history["loss"]), hist.history["loss"][-1] < hist.history["loss"][0]
(20, True)
>>> evaluate(model, nn.CrossEntropyLoss(), loader)["accuracy"] > 0.9
True
>>> predict(model, X).shape
gradlab.Size([64, 2])
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

import gradlab
from gradlab.train.callbacks import Callback, CallbackList, LRSchedulerCallback, ProgressBar
from gradlab.train.finite import check_finite, check_on_nan, first_nonfinite
from gradlab.train.history import History
from gradlab.train.metrics import get_metric

__all__ = ["FitState", "fit", "evaluate", "predict", "train_epoch", "NonFiniteLoss"]


class NonFiniteLoss(FloatingPointError):
    """A training loss (or, with ``on_nan="skip-batch"``, every batch of an epoch) was NaN or infinite.

    >>> issubclass(NonFiniteLoss, FloatingPointError)
    True
    """


class FitState:
    """What callbacks see of a running :func:`fit` (``callback.state``).

    >>> s = FitState(epochs=3)
    >>> s.epochs, s.stop_training, len(s.history)
    (3, False, 0)
    """

    def __init__(self, **kw: Any) -> None:
        self.model: Any = None
        self.optimizer: Any = None
        self.loss_fn: Any = None
        self.scheduler: Any = None
        self.train_loader: Any = None
        self.val_loader: Any = None
        self.epochs = 0
        self.epoch = 0  # the current (0-based) epoch
        self.step = 0  # optimizer steps taken so far (restored on resume)
        self.stop_reason: str | None = None  # why training stopped early with on_nan="stop"
        self.history = History()
        self.stop_training = False
        self.resumed = False
        self.callbacks: CallbackList | None = None
        self.__dict__.update(kw)


def _split(batch: Any) -> tuple[tuple, Any]:
    """``(inputs, target)`` of a batch: ``(x, y)``, ``(x1, ..., y)``, or a lone input (target ``None``)."""
    if isinstance(batch, (tuple, list)):
        if len(batch) >= 2:
            return tuple(batch[:-1]), batch[-1]
        return tuple(batch), None
    return (batch,), None


def _arr(x: Any) -> Any:
    return np.asarray(x) if isinstance(x, gradlab.Tensor) else x  # host arrays, also for CUDA tensors


def _loss_value(loss: Any) -> float:
    data = getattr(loss, "_data", loss)
    return float(data) if isinstance(data, (np.ndarray, np.generic, float, int)) else float(loss.item())


def train_epoch(
    model: Any, loss_fn: Any, optimizer: Any, loader: Iterable, metrics: Sequence[Any] = ("accuracy",),
    callbacks: CallbackList | None = None, epoch: int = 0, clip_grad_norm: float | None = None,
    on_nan: str = "raise",
) -> dict[str, float]:
    """One pass over ``loader`` in train mode; returns the epoch's mean ``loss`` and metrics (sample-weighted).

    ``on_nan``: ``"raise"`` or ``"stop"``: a NaN/inf loss raises :class:`NonFiniteLoss` before the step is taken;
    ``"skip-batch"``: such batches, and those whose gradients are not finite, are skipped (no step; counted in
    ``logs["skipped_batches"]``), and :class:`NonFiniteLoss` only if every batch was skipped.

    >>> from gradlab import nn, optim
    >>> from gradlab.data import DataLoader, TensorDataset
    >>> _ = gradlab.manual_seed(0)
    >>> x = gradlab.randn(32, 2)
    >>> loader = DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=16)
    >>> model = nn.Linear(2, 2)

    >>> opt = optim.SGD(model.parameters(), lr=0.5)
    >>> before = model.weight.detach().clone()
    >>> logs = train_epoch(model, nn.CrossEntropyLoss(), opt, loader)
    >>> sorted(logs), bool((model.weight != before).any())  # two steps were taken
    (['accuracy', 'loss'], True)
    """
    return _train_epoch(model, loss_fn, optimizer, loader, metrics, callbacks, epoch, clip_grad_norm, on_nan)[0]


def _grads_finite(params: list[Any]) -> bool:
    total = 0.0
    with np.errstate(all="ignore"):
        for p in params:
            if p.grad is not None:
                total += float(p.grad._data.sum(dtype=np.float64))
    return math.isfinite(total)


def _train_epoch(
    model: Any, loss_fn: Any, optimizer: Any, loader: Iterable, metrics: Sequence[Any],
    callbacks: CallbackList | None, epoch: int, clip_grad_norm: float | None, on_nan: str,
    regularizers: Sequence[Any] = (),
) -> tuple[dict[str, float], int]:
    """:func:`train_epoch`, also returning the number of optimizer steps taken."""
    check_on_nan(on_nan)
    named = [get_metric(m) for m in metrics]
    cb = callbacks if callbacks is not None and callbacks.wants_batch_end else None
    skip = on_nan == "skip-batch"
    params = None
    if clip_grad_norm is not None or skip:
        params = [p for g in optimizer.param_groups for p in g["params"]]
    if clip_grad_norm is not None:
        from gradlab.nn.utils import clip_grad_norm_
    model.train()
    loss_sum, count, skipped, steps = 0.0, 0, 0, 0
    sums = [0.0] * len(named)
    for i, batch in enumerate(loader):
        inputs, target = _split(batch)
        output = model(*inputs)
        loss = loss_fn(output, target)
        value = _loss_value(loss)
        if not math.isfinite(value):
            if skip:
                skipped += 1
                continue
            raise NonFiniteLoss(
                f"training loss is {value} at epoch {epoch + 1}, batch {i + 1}: training stopped (the weights "
                "were not updated with it). Try a lower learning rate, gradient clipping or normalised inputs."
            )
        for reg in regularizers:  # penalties on the weights (e.g. L2SP): trained on, not logged in "loss"
            loss = loss + reg()
        optimizer.zero_grad()
        loss.backward()
        if clip_grad_norm is not None:
            norm = float(clip_grad_norm_(params, clip_grad_norm).item())
            if skip and not math.isfinite(norm):
                optimizer.zero_grad()
                skipped += 1
                continue
        elif skip and params is not None and not _grads_finite(params):
            optimizer.zero_grad()
            skipped += 1
            continue
        optimizer.step()
        steps += 1
        n = len(output)
        loss_sum += value * n
        count += n
        if named:
            out, tgt = _arr(output), _arr(target)
            for j, (_, fn) in enumerate(named):
                sums[j] += fn(out, tgt) * n
        if cb is not None:
            logs = {"loss": loss_sum / count}
            for j, (name, _) in enumerate(named):
                logs[name] = sums[j] / count
            logs["batch_loss"] = value
            logs["size"] = n
            cb.on_batch_end(i, logs)
    if count == 0:
        if skipped:
            raise NonFiniteLoss(f"every one of the {skipped} batches of epoch {epoch + 1} had a NaN or infinite "
                                "loss or gradient: training diverged (try a lower learning rate or gradient clipping)")
        raise ValueError("the training loader yielded no batches (is the dataset empty, or drop_last too strict?)")
    logs = {"loss": loss_sum / count}
    for j, (name, _) in enumerate(named):
        logs[name] = sums[j] / count
    if skip:
        logs["skipped_batches"] = skipped
    return logs, steps


def evaluate(model: Any, loss_fn: Any, loader: Iterable, metrics: Sequence[Any] = ("accuracy",)) -> dict[str, float]:
    """Mean loss (when ``loss_fn`` is given) and metrics of ``model`` over ``loader``, in ``eval()`` mode under
    ``no_grad()`` (the model's train/eval mode is restored afterwards).

    >>> from gradlab import nn, optim
    >>> from gradlab.data import DataLoader, TensorDataset
    >>> _ = gradlab.manual_seed(0)
    >>> x = gradlab.randn(32, 2)
    >>> loader = DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=16)
    >>> model = nn.Linear(2, 2)

    >>> res = evaluate(model, nn.CrossEntropyLoss(), loader)
    >>> sorted(res), model.training  # the model's mode is restored
    (['accuracy', 'loss'], True)
    """
    named = [get_metric(m) for m in metrics]
    was_training = getattr(model, "training", False)
    model.eval()
    loss_sum, count = 0.0, 0
    sums = [0.0] * len(named)
    try:
        with gradlab.no_grad():
            for batch in loader:
                inputs, target = _split(batch)
                output = model(*inputs)
                n = len(output)
                if loss_fn is not None:
                    loss_sum += _loss_value(loss_fn(output, target)) * n
                out, tgt = _arr(output), _arr(target)
                for j, (_, fn) in enumerate(named):
                    sums[j] += fn(out, tgt) * n
                count += n
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("the evaluation loader yielded no batches")
    logs = {"loss": loss_sum / count} if loss_fn is not None else {}
    for j, (name, _) in enumerate(named):
        logs[name] = sums[j] / count
    return logs


def predict(model: Any, data: Any, batch_size: int = 1024) -> Any:
    """The model's outputs for ``data`` (a Tensor/array of inputs, or a loader whose batches hold inputs first),
    concatenated into one Tensor, computed in ``eval()`` mode under ``no_grad()``.

    >>> from gradlab import nn, optim
    >>> from gradlab.data import DataLoader, TensorDataset
    >>> _ = gradlab.manual_seed(0)
    >>> x = gradlab.randn(32, 2)
    >>> loader = DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=16)
    >>> model = nn.Linear(2, 2)

    >>> out = predict(model, x, batch_size=10)
    >>> out.shape, out.requires_grad
    (gradlab.Size([32, 2]), False)
    """
    was_training = getattr(model, "training", False)
    model.eval()
    outs: list[np.ndarray] = []
    try:
        with gradlab.no_grad():
            if isinstance(data, (gradlab.Tensor, np.ndarray)):
                x = data if isinstance(data, gradlab.Tensor) else gradlab.from_numpy(np.asarray(data))
                for start in range(0, len(x), batch_size):
                    outs.append(np.asarray(_arr(model(x[start:start + batch_size]))))
            else:
                for batch in data:
                    inputs, _ = _split(batch)
                    outs.append(np.asarray(_arr(model(*inputs))))
    finally:
        model.train(was_training)
    if not outs:
        raise ValueError("predict: no inputs")
    return gradlab.from_numpy(np.concatenate(outs, axis=0))


def fit(
    model: Any, loss_fn: Any, optimizer: Any, train_loader: Iterable, val_loader: Iterable | None = None,
    epochs: int = 1, callbacks: Sequence[Callback] | None = None, metrics: Sequence[Any] = ("accuracy",),
    scheduler: Any = None, *, checkpoint_dir: str | os.PathLike | None = None,
    resume_from: str | os.PathLike | None = None, progress: bool = True, clip_grad_norm: float | None = None,
    scheduler_monitor: str = "val_loss", on_nan: str = "raise", regularizers: Sequence[Any] = (),
) -> History:
    """Train ``model`` for ``epochs`` epochs (in total, counting those of a resumed run) and return its History.

    Args:
        model, loss_fn, optimizer: a ``gradlab.nn.Module``, a loss ``loss_fn(output, target)`` giving the batch
            mean (epoch values are the sample-weighted means of the batch values), an optimizer.
        train_loader / val_loader: iterables of ``(inputs, target)`` batches (``DataLoader`` s); after every epoch
            the model is evaluated on ``val_loader`` (logs ``val_loss``, ``val_<metric>``).
        callbacks: :class:`~gradlab.train.callbacks.Callback` s, called in order.
        metrics: names from :data:`gradlab.train.metrics.METRICS` or callables ``f(output, target) -> float``.
        scheduler: a learning-rate scheduler, stepped after every epoch (every batch for ``OneCycleLR``;
            ``ReduceLROnPlateau`` with ``logs[scheduler_monitor]``); saved in checkpoints.
        checkpoint_dir: after every epoch, the full training state goes there (model, optimizer, scheduler,
            epoch, history, callback state, and the RNG states: the default generator and the loader's shuffle
            generator), via :func:`gradlab.io.save_checkpoint`.
        resume_from: a checkpoint folder written that way: training continues after its epoch, bit-identically.
        progress: show a :class:`~gradlab.train.callbacks.ProgressBar` (unless one is among ``callbacks``).
        clip_grad_norm: clip the gradients' global norm to this value before each step.
        on_nan: what a NaN/inf training loss or NaN/inf weights (checked after every epoch, before the callbacks
            and the checkpoint) lead to. ``"raise"`` (default): ``FloatingPointError`` naming the epoch and batch,
            or the parameter and the step; nothing non-finite is ever checkpointed. ``"stop"``: training ends; the
            unfinished epoch is dropped and, with ``checkpoint_dir``, the model, optimizer, history and callbacks
            go back to the last checkpoint (``history.stop_reason`` says why); NaN weights with no checkpoint to
            return to still raise. ``"skip-batch"``: batches with a non-finite loss or gradient are skipped
            (``logs["skipped_batches"]`` counts them); NaN weights still raise.
        regularizers: callables ``reg() -> scalar Tensor`` added to every batch's loss before ``backward`` (e.g.
            :class:`gradlab.train.finetune.L2SP`); the logged ``loss`` is the data loss alone.

    >>> from gradlab import nn, optim
    >>> from gradlab.data import DataLoader, TensorDataset
    >>> _ = gradlab.manual_seed(0)
    >>> x = gradlab.randn(32, 2)
    >>> loader = DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=16)
    >>> model = nn.Linear(2, 2)
    >>> opt = optim.SGD(model.parameters(), lr=0.5)
    >>> h = fit(model, nn.CrossEntropyLoss(), opt, loader, val_loader=loader, epochs=2, progress=False)
    >>> sorted(h.history), len(h["loss"]), h["loss"][1] < h["loss"][0]
    (['accuracy', 'loss', 'lr', 'time', 'val_accuracy', 'val_loss'], 2, True)
    """
    from gradlab.train.checkpoint import has_checkpoint, load_training_checkpoint, save_training_checkpoint

    check_on_nan(on_nan)
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    cbs = list(callbacks or [])
    if scheduler is not None and not any(isinstance(c, LRSchedulerCallback) and c.scheduler is scheduler for c in cbs):
        cbs.append(LRSchedulerCallback(scheduler, monitor=scheduler_monitor))
    if progress and not any(isinstance(c, ProgressBar) for c in cbs):
        cbs.insert(0, ProgressBar())
    cb = CallbackList(cbs)
    if scheduler is None:
        scheduler = next((c.scheduler for c in cbs if isinstance(c, LRSchedulerCallback)), None)
    state = FitState(model=model, optimizer=optimizer, loss_fn=loss_fn, scheduler=scheduler, epochs=epochs,
                     train_loader=train_loader, val_loader=val_loader, callbacks=cb, metrics=tuple(metrics))
    start = 0
    if resume_from is not None:
        start = load_training_checkpoint(resume_from, state) + 1
        state.resumed = True
    cb.set_state(state)
    history = state.history
    was_training = getattr(model, "training", True)
    cb.on_train_begin()
    try:
        # a resumed run that had finished (or stopped early) trains no more, but its callbacks still end it
        # (e.g. EarlyStopping(restore_best_weights=True) puts the best weights back, as the first run did)
        for epoch in range(start, epochs if not state.stop_training else start):
            state.epoch = epoch
            cb.on_epoch_begin(epoch)
            t0 = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"] if getattr(optimizer, "param_groups", None) else None
            try:
                logs, steps = _train_epoch(model, loss_fn, optimizer, train_loader, metrics, cb, epoch,
                                           clip_grad_norm, on_nan, tuple(regularizers))
                state.step += steps
                where = f"after epoch {epoch + 1} (step {state.step})"
                if on_nan != "stop":
                    check_finite(model, where)
                elif first_nonfinite(model) is not None:
                    raise NonFiniteLoss(f"parameter {first_nonfinite(model)!r} holds NaN or infinite values {where}")
            except NonFiniteLoss as e:
                if on_nan != "stop":
                    raise
                reason = str(e).split(": training")[0]
                if checkpoint_dir is not None and has_checkpoint(checkpoint_dir):
                    load_training_checkpoint(checkpoint_dir, state)
                    reason += "; the last checkpoint was restored"
                elif first_nonfinite(model) is not None:
                    raise FloatingPointError(f"{e} and there is no checkpoint to go back to") from None
                state.stop_training = True
                state.stop_reason = history.stop_reason = f"stopped in epoch {epoch + 1}: {reason}"
                break
            if val_loader is not None:
                for k, v in evaluate(model, loss_fn, val_loader, metrics).items():
                    logs[f"val_{k}"] = v
            if lr is not None:
                logs["lr"] = float(lr)
            logs["time"] = time.perf_counter() - t0
            cb.on_epoch_end(epoch, logs)
            history.append(epoch, logs)
            if checkpoint_dir is not None:
                save_training_checkpoint(checkpoint_dir, state, epoch)
            if state.stop_training:
                break
        cb.on_train_end(history.last())
    except BaseException as exc:
        cb.on_exception(exc)
        raise
    finally:
        model.train(was_training)
    return history
