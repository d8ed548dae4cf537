"""Callbacks: EarlyStopping, ModelCheckpoint (atomic writes), CSVLogger, LRSchedulerCallback, ProgressBar."""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pytest

import gradlab
from gradlab import optim
from gradlab.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LRSchedulerCallback,
    ModelCheckpoint,
    ProgressBar,
    fit,
    load_weights,
)


class ScriptedVal(Callback):
    """Replaces ``logs[key]`` with scripted values, one per epoch (it must come before the callback under test)."""

    def __init__(self, values, key="val_loss"):
        self.values, self.key = list(values), key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


@pytest.mark.parametrize(
    ("values", "patience", "min_delta", "expected_epochs", "best_epoch"),
    [
        ([1.0, 0.8, 0.85, 0.9, 0.7, 0.6], 2, 0.0, 4, 1),  # no improvement in epochs 3 and 4 -> stop after 4
        ([1.0, 0.8, 0.85, 0.9, 0.7, 0.6], 3, 0.0, 6, 5),  # patience 3 lets the drop at epoch 5 count
        ([1.0, 0.99, 0.98, 0.97, 0.96, 0.95], 2, 0.05, 3, 0),  # improvements below min_delta do not count
        ([1.0, 1.0, 1.0, 1.0], 0, 0.0, 2, 0),  # patience 0: stop at the first epoch without improvement
        ([5.0, 4.0, 3.0, 2.0], 1, 0.0, 4, 3),  # always improving: runs to the end
    ],
)
def test_early_stopping_scripted(problem, values, patience, min_delta, expected_epochs, best_epoch):
    model, loss_fn, opt, train, val = problem()
    es = EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta)
    hist = fit(model, loss_fn, opt, train, val, epochs=len(values), callbacks=[ScriptedVal(values), es],
               progress=False)
    assert len(hist) == expected_epochs
    assert es.best_epoch == best_epoch and es.best == values[best_epoch]
    assert hist.history["val_loss"] == values[:expected_epochs]
    assert es.stopped_epoch == (expected_epochs - 1 if expected_epochs < len(values) else 0)


def test_early_stopping_max_mode_and_baseline(problem):
    model, loss_fn, opt, train, val = problem()
    es = EarlyStopping(monitor="val_accuracy", patience=1)  # 'auto' -> max for accuracies
    assert es.mode == "max"
    hist = fit(model, loss_fn, opt, train, val, epochs=6,
               callbacks=[ScriptedVal([0.5, 0.7, 0.6, 0.9, 0.95, 0.99], "val_accuracy"), es], progress=False)
    assert len(hist) == 3 and es.best == 0.7
    es2 = EarlyStopping(monitor="val_loss", patience=1, baseline=0.5)
    hist2 = fit(model, loss_fn, opt, train, val, epochs=5, callbacks=[ScriptedVal([0.9, 0.8, 0.7, 0.6, 0.4]), es2],
                progress=False)
    assert len(hist2) == 2  # never beats the baseline


def test_early_stopping_restores_best_weights(problem):
    model, loss_fn, opt, train, val = problem()
    snapshots = {}
    snap = LambdaCallback(on_epoch_end=lambda e, logs=None: snapshots.__setitem__(
        e, {k: v.numpy().copy() for k, v in model.state_dict().items()}))
    es = EarlyStopping(patience=2, restore_best_weights=True)
    fit(model, loss_fn, opt, train, val, epochs=8, callbacks=[ScriptedVal([3, 2, 1, 2, 3, 4, 5, 6]), es, snap],
        progress=False)
    assert es.best_epoch == 2 and len(snapshots) == 5
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), snapshots[2][k])
        assert not np.array_equal(v.numpy(), snapshots[4][k])


def test_early_stopping_missing_monitor_warns(problem):
    model, loss_fn, opt, train, _ = problem()
    with pytest.warns(UserWarning, match="val_loss"):
        hist = fit(model, loss_fn, opt, train, None, epochs=2, callbacks=[EarlyStopping()], progress=False)
    assert len(hist) == 2


def test_model_checkpoint_best_only(tmp_path, problem):
    model, loss_fn, opt, train, val = problem()
    saved = []
    ck = ModelCheckpoint(tmp_path / "ckpt", monitor="val_loss", save_best_only=True)
    probe = LambdaCallback(on_epoch_end=lambda e, logs=None: saved.append(
        (e, os.stat(ck.best_model_path).st_mtime_ns if ck.best_model_path else None,
         {k: v.numpy().copy() for k, v in model.state_dict().items()})))
    fit(model, loss_fn, opt, train, val, epochs=5, callbacks=[ScriptedVal([3, 1, 2, 0.5, 4]), ck, probe],
        progress=False)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["best.safetensors"]
    assert ck.best == 0.5
    best_state = saved[3][2]
    fresh, *_ = problem(seed=1)
    load_weights(fresh, tmp_path / "ckpt" / "best.safetensors")
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), best_state[k])


def test_model_checkpoint_every_epoch_with_template(tmp_path, problem):
    model, loss_fn, opt, train, val = problem()
    ck = ModelCheckpoint(tmp_path, filename="e{epoch:02d}-acc{val_accuracy:.2f}")
    fit(model, loss_fn, opt, train, val, epochs=3, callbacks=[ck], progress=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3 and names[0].startswith("e01-acc") and names[2].startswith("e03-acc")
    assert all(n.endswith(".safetensors") for n in names)


def test_model_checkpoint_write_is_atomic(tmp_path, problem, monkeypatch):
    """A save that fails half-way leaves the previous file intact and no temporary files behind."""
    model, loss_fn, opt, train, val = problem()
    ck = ModelCheckpoint(tmp_path, save_best_only=True)
    fit(model, loss_fn, opt, train, val, epochs=1, callbacks=[ck], progress=False)
    path = tmp_path / "best.safetensors"
    before = path.read_bytes()
    real_replace = os.replace

    def failing_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        fit(model, loss_fn, opt, train, val, epochs=1, callbacks=[ScriptedVal([-1.0]), ck], progress=False)
    monkeypatch.setattr(os, "replace", real_replace)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.safetensors"]


def test_csv_logger_contents(tmp_path, problem):
    model, loss_fn, opt, train, val = problem()
    path = tmp_path / "logs" / "train.csv"
    hist = fit(model, loss_fn, opt, train, val, epochs=3, callbacks=[CSVLogger(path)], progress=False)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    for i, row in enumerate(rows[1:]):
        for key, cell in zip(rows[0][1:], row[1:]):
            assert float(cell) == hist.history[key][i]  # full precision (repr) round-trips exactly
    # append=True continues the file under the same header; the default overwrites it
    fit(model, loss_fn, opt, train, val, epochs=1, callbacks=[CSVLogger(path, append=True)], progress=False)
    assert len(list(csv.reader(path.open()))) == 5
    fit(model, loss_fn, opt, train, val, epochs=1, callbacks=[CSVLogger(path, separator=";")], progress=False)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch;loss;")


def test_lr_scheduler_callback_epoch_and_plateau(problem):
    model, loss_fn, opt, train, val = problem()
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    hist = fit(model, loss_fn, opt, train, val, epochs=5, scheduler=sched, progress=False)
    assert hist.history["lr"] == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025])
    model, loss_fn, opt, train, val = problem()
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, patience=0)
    hist = fit(model, loss_fn, opt, train, val, epochs=4, callbacks=[ScriptedVal([1, 2, 3, 4]),
                                                                     LRSchedulerCallback(plateau)], progress=False)
    assert hist.history["lr"] == pytest.approx([0.01, 0.01, 0.001, 0.0001])


def test_lr_scheduler_callback_per_batch_onecycle(problem):
    model, loss_fn, opt, train, val = problem()
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, epochs=2, steps_per_epoch=len(train))
    cb = LRSchedulerCallback(sched)
    assert cb.interval == "batch"
    fit(model, loss_fn, opt, train, val, epochs=2, callbacks=[cb], progress=False)
    assert sched.last_epoch == 2 * len(train)
    with pytest.raises(ValueError, match="interval"):
        LRSchedulerCallback(sched, interval="sometimes")
    with pytest.raises(KeyError, match="val_loss"):
        plateau = optim.lr_scheduler.ReduceLROnPlateau(opt)
        fit(model, loss_fn, opt, train, None, epochs=1, scheduler=plateau, progress=False)


def test_progress_bar_output(problem, capsys):
    model, loss_fn, opt, train, val = problem()
    bar_out = io.StringIO()
    fit(model, loss_fn, opt, train, val, epochs=2, callbacks=[ProgressBar(file=bar_out, update_every=1, leave=True)])
    text = bar_out.getvalue()
    assert "epoch 1/2" in text and "loss=" in text and "accuracy=" in text
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("epoch 2/2: loss=") and "val_accuracy=" in out[1]
    fit(model, loss_fn, opt, train, val, epochs=1, progress=False)
    assert capsys.readouterr() == ("", "")
    fit(model, loss_fn, opt, train, val, epochs=1, callbacks=[ProgressBar(disable=True)])
    assert capsys.readouterr() == ("", "")


def test_progress_default_is_on(problem, capsys):
    model, loss_fn, opt, train, val = problem()
    fit(model, loss_fn, opt, train, val, epochs=1)
    captured = capsys.readouterr()
    assert "epoch 1/1" in captured.err and captured.out.startswith("epoch 1/1: loss=")


def test_callback_base_is_inert():
    cb = Callback()
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    cb.on_batch_end(0, {})
    cb.on_epoch_end(0, {})
    cb.on_train_end()
    assert cb.state_dict() == {} and cb.model is None
    with pytest.raises(ValueError):
        LambdaCallback(on_bogus=print)
    with pytest.raises(ValueError):
        EarlyStopping(mode="sideways")
    gradlab.manual_seed(0)
