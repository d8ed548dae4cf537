"""Every stateful callback survives an interruption: train N epochs straight vs interrupted at epoch k and resumed
from the checkpoint (in a fresh set of objects, as a new process would): identical weights, callback state, files."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import gradlab
from gradlab import optim
from gradlab.train import Callback, CSVLogger, EarlyStopping, LRSchedulerCallback, ModelCheckpoint, fit

EPOCHS = 5


class Interrupt(Callback):
    """A kill at a chosen moment: ``KeyboardInterrupt`` at the start of epoch ``at`` (its checkpoint is the previous
    epoch's), or, with ``after_logs``, after the other callbacks logged epoch ``at`` but before its checkpoint."""

    def __init__(self, at: int, after_logs: bool = False) -> None:
        self.at, self.after_logs = at, after_logs

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at and not self.after_logs:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at and self.after_logs:
            raise KeyboardInterrupt


def _callbacks(kind, opt, folder):
    if kind == "early-stopping-restore-best":  # loss falls, so with mode max the best epoch is the first one
        return [EarlyStopping(monitor="loss", mode="max", patience=100, restore_best_weights=True)]
    if kind == "early-stopping-stops":
        return [EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.5, restore_best_weights=True)]
    if kind == "model-checkpoint":
        return [ModelCheckpoint(folder / "best", monitor="loss", mode="max", save_best_only=True),
                ModelCheckpoint(folder / "every")]
    if kind == "schedulers-in-callbacks":  # two chained schedulers, neither given to fit as its scheduler
        return [LRSchedulerCallback(optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.8)),
                LRSchedulerCallback(optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)),
                LRSchedulerCallback(optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0.5),
                                    monitor="val_loss")]
    if kind == "csv-logger":
        return [CSVLogger(folder / "log.csv")]
    raise AssertionError(kind)


def _run(problem, kind, folder, epochs, extra=(), resume=False, seed=0):
    model, loss_fn, opt, train, val = problem(seed=seed)
    cbs = _callbacks(kind, opt, folder)
    ckpt = folder / "checkpoint"
    try:
        hist = fit(model, loss_fn, opt, train, val, epochs=epochs, callbacks=[*cbs, *extra], checkpoint_dir=ckpt,
                   resume_from=ckpt if resume else None, progress=False)
    except KeyboardInterrupt:
        hist = None
    return model, opt, cbs, hist


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _plain(state):
    """A callback state with arrays as lists, paths as relative names (comparable across the two folders)."""
    if isinstance(state, dict):
        return {k: _plain(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return [_plain(v) for v in state]
    if hasattr(state, "tolist"):
        return state.tolist()
    if isinstance(state, str) and "/" in state:
        return state.rsplit("/", 2)[-2:]
    return state


KINDS = ["early-stopping-restore-best", "early-stopping-stops", "model-checkpoint", "schedulers-in-callbacks",
         "csv-logger"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("at", [1, 3])
def test_interrupted_and_resumed_equals_straight(tmp_path, problem, kind, at):
    straight, opt_a, cbs_a, hist_a = _run(problem, kind, tmp_path / "a", EPOCHS)
    _, _, _, none = _run(problem, kind, tmp_path / "b", EPOCHS, extra=[Interrupt(at)])
    assert none is None or len(none) <= at  # interrupted (or stopped early on its own)
    gradlab.manual_seed(1234)  # a new process: another random state, which the checkpoint must replace
    resumed, opt_b, cbs_b, hist_b = _run(problem, kind, tmp_path / "b", EPOCHS, resume=True, seed=9)

    a, b = _weights(straight), _weights(resumed)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert opt_a.param_groups[0]["lr"] == opt_b.param_groups[0]["lr"]
    assert hist_a.epoch == hist_b.epoch
    assert {k: v for k, v in hist_a.history.items() if k != "time"} == \
        {k: v for k, v in hist_b.history.items() if k != "time"}
    for ca, cb in zip(cbs_a, cbs_b):
        if not isinstance(ca, CSVLogger):  # its state is a file length, which the times written change
            assert _plain(ca.state_dict()) == _plain(cb.state_dict()), type(ca).__name__
    if kind == "csv-logger":
        rows_a = list(csv.reader((tmp_path / "a" / "log.csv").open()))
        rows_b = list(csv.reader((tmp_path / "b" / "log.csv").open()))
        assert [r[0] for r in rows_a] == [r[0] for r in rows_b] == ["epoch", "1", "2", "3", "4", "5"]
    if kind == "model-checkpoint":
        for sub in ("best", "every"):
            names = sorted(p.name for p in (tmp_path / "a" / sub).iterdir())
            assert names == sorted(p.name for p in (tmp_path / "b" / sub).iterdir())
            for name in names:
                assert (tmp_path / "a" / sub / name).read_bytes() == (tmp_path / "b" / sub / name).read_bytes()


def test_csv_rows_of_an_unfinished_epoch_are_not_repeated(tmp_path, problem):
    """Killed after the CSV row of epoch 3 was written but before its checkpoint: epoch 3 is redone, logged once."""
    _run(problem, "csv-logger", tmp_path / "a", EPOCHS)
    _run(problem, "csv-logger", tmp_path / "b", EPOCHS, extra=[Interrupt(2, after_logs=True)])
    rows = list(csv.reader((tmp_path / "b" / "log.csv").open()))
    assert [r[0] for r in rows] == ["epoch", "1", "2", "3"]  # the row of the epoch the kill interrupted
    _run(problem, "csv-logger", tmp_path / "b", EPOCHS, resume=True)
    rows_a = list(csv.reader((tmp_path / "a" / "log.csv").open()))
    rows_b = list(csv.reader((tmp_path / "b" / "log.csv").open()))
    assert [r[0] for r in rows_b] == ["epoch", "1", "2", "3", "4", "5"]
    time_col = rows_a[0].index("time")
    assert [r[:time_col] + r[time_col + 1:] for r in rows_a] == [r[:time_col] + r[time_col + 1:] for r in rows_b]
