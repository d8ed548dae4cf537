"""fit / evaluate / predict: logs, History, train/eval modes, grad mode, NaN handling, metrics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.data import DataLoader, TensorDataset
from gradlab.train import (
    Callback,
    History,
    LambdaCallback,
    accuracy,
    binary_accuracy,
    evaluate,
    fit,
    get_metric,
    predict,
    top_k_accuracy,
)


def test_fit_learns_and_records_history(problem):
    model, loss_fn, opt, train, val = problem()
    hist = fit(model, loss_fn, opt, train, val, epochs=5, progress=False)
    assert isinstance(hist, History)
    h = hist.history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert all(len(v) == 5 for v in h.values())
    assert hist.epoch == [0, 1, 2, 3, 4]
    assert h["loss"][-1] < h["loss"][0]
    assert h["val_accuracy"][-1] > 0.9
    assert all(lr == pytest.approx(0.01) for lr in h["lr"])


def test_epoch_logs_are_sample_weighted_means(problem):
    model, loss_fn, opt, train, val = problem(dropout=0.0)
    hist = fit(model, loss_fn, opt, train, val, epochs=1, progress=False)
    # the validation loss is the mean over all 64 samples: compare with one full-batch evaluation
    full = evaluate(model, loss_fn, DataLoader(val.dataset, batch_size=1000))
    assert hist.history["val_loss"][0] == pytest.approx(full["loss"], rel=1e-5)
    assert hist.history["val_accuracy"][0] == pytest.approx(full["accuracy"])


def test_train_mode_in_batches_eval_and_no_grad_in_validation(problem):
    model, loss_fn, opt, train, val = problem()
    seen: list[tuple[bool, bool]] = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append((self.training, gradlab.is_grad_enabled()))
            return x

    probe_model = nn.Sequential(model, Probe())
    probe_model.eval()  # fit must switch to train() itself, and restore this mode afterwards
    fit(probe_model, loss_fn, opt, train, val, epochs=1, progress=False)
    n_train, n_val = len(train), len(val)
    assert seen[:n_train] == [(True, True)] * n_train
    assert seen[n_train:n_train + n_val] == [(False, False)] * n_val
    assert probe_model.training is False
    out = predict(probe_model, val.dataset.tensors[0])
    assert out.requires_grad is False and seen[-1] == (False, False)


def test_nan_loss_raises_naming_epoch_and_batch():
    x = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    x[25] = np.nan  # sample 25 lies in batch 3 (batches of 10, no shuffle)
    y = np.zeros(40, dtype=np.int64)
    model = nn.Linear(4, 2)
    before = model.weight.detach().numpy().copy()
    loader = DataLoader(TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy(y)), batch_size=10)
    opt = optim.SGD(model.parameters(), lr=0.0)  # lr 0: weights stay put until the NaN batch
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch 3"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2, progress=False)
    assert np.isfinite(model.weight.detach().numpy()).all()
    np.testing.assert_array_equal(model.weight.data, before)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_loss_later_epoch_from_diverging_lr():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32) * 100
    y = (x[:, :1] * 3).astype(np.float32)
    model = nn.Linear(4, 1)
    loader = DataLoader(TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy(y)), batch_size=16)
    with pytest.raises(FloatingPointError, match=r"training loss is (nan|inf) at epoch \d+, batch \d+"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), loader, epochs=50, metrics=(),
            progress=False)


def test_exception_reaches_callbacks_and_restores_mode(problem):
    model, loss_fn, opt, train, val = problem()
    events = []

    class Boom(Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("boom")

        def on_exception(self, exc):
            events.append(type(exc).__name__)

    model.eval()
    with pytest.raises(RuntimeError, match="boom"):
        fit(model, loss_fn, opt, train, val, epochs=2, callbacks=[Boom()], progress=False)
    assert events == ["RuntimeError"] and model.training is False


def test_callback_hook_order_and_batch_logs(problem):
    model, loss_fn, opt, train, val = problem()
    calls = []
    batch_logs = []
    cb = LambdaCallback(
        on_train_begin=lambda logs=None: calls.append("train_begin"),
        on_epoch_begin=lambda e, logs=None: calls.append(f"epoch_begin {e}"),
        on_batch_end=lambda b, logs=None: batch_logs.append(dict(logs)),
        on_epoch_end=lambda e, logs=None: calls.append(f"epoch_end {e} {sorted(logs)}"),
        on_train_end=lambda logs=None: calls.append("train_end"),
    )
    hist = fit(model, loss_fn, opt, train, val, epochs=2, callbacks=[cb], progress=False)
    keys = sorted(hist.history)
    assert calls == ["train_begin", "epoch_begin 0", f"epoch_end 0 {keys}", "epoch_begin 1", f"epoch_end 1 {keys}",
                     "train_end"]
    assert len(batch_logs) == 2 * len(train)
    assert set(batch_logs[0]) == {"loss", "accuracy", "batch_loss", "size"}
    assert batch_logs[len(train) - 1]["loss"] == pytest.approx(hist.history["loss"][0])


def test_stop_training_flag(problem):
    model, loss_fn, opt, train, val = problem()

    class StopAfterTwo(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.state.stop_training = True

    hist = fit(model, loss_fn, opt, train, val, epochs=10, callbacks=[StopAfterTwo()], progress=False)
    assert len(hist) == 2


def test_fit_argument_errors(problem):
    model, loss_fn, opt, train, val = problem()
    with pytest.raises(ValueError, match="epochs"):
        fit(model, loss_fn, opt, train, epochs=-1, progress=False)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, loss_fn, opt, train, epochs=1, metrics=("nope",), progress=False)
    with pytest.raises(TypeError, match="Callback"):
        fit(model, loss_fn, opt, train, epochs=1, callbacks=[object()], progress=False)
    empty = DataLoader(TensorDataset(gradlab.zeros(3, 8), gradlab.zeros(3).long()), batch_size=4, drop_last=True)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, loss_fn, opt, empty, epochs=1, progress=False)


def test_zero_epochs_returns_empty_history(problem):
    model, loss_fn, opt, train, val = problem()
    w = model[0].weight.detach().numpy().copy()
    assert len(fit(model, loss_fn, opt, train, val, epochs=0, progress=False)) == 0
    np.testing.assert_array_equal(w, model[0].weight.data)


def test_gradient_clipping_bounds_the_update():
    model = nn.Linear(3, 1, bias=False)
    model.weight.data[...] = 0.0
    x = gradlab.from_numpy(np.full((4, 3), 100.0, dtype=np.float32))
    y = gradlab.zeros(4, 1)
    loader = DataLoader(TensorDataset(x, y + 1000.0), batch_size=4)
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), loader, epochs=1, metrics=(),
        clip_grad_norm=1.0, progress=False)
    assert np.linalg.norm(model.weight.data) == pytest.approx(1.0, rel=1e-5)


def test_evaluate_and_predict(problem):
    model, loss_fn, opt, train, val = problem()
    fit(model, loss_fn, opt, train, val, epochs=3, progress=False)
    model.train()
    res = evaluate(model, loss_fn, val)
    assert set(res) == {"loss", "accuracy"} and model.training is True
    assert evaluate(model, None, val, metrics=("accuracy",)) == {"accuracy": res["accuracy"]}
    xs = val.dataset.tensors[0]
    a = predict(model, xs, batch_size=7)
    b = predict(model, val)
    c = predict(model, xs.numpy())
    assert isinstance(a, gradlab.Tensor) and a.shape == (64, 3)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-6, atol=1e-6)
    acc = float((a.numpy().argmax(1) == val.dataset.tensors[1].numpy()).mean())
    assert acc == pytest.approx(res["accuracy"])
    assert model.training is True


def test_metrics():
    out = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.35, 0.45], [0.0, 0.2, 0.8]])
    tgt = np.array([1, 0, 1, 2])
    assert accuracy(out, tgt) == 0.75
    assert accuracy(gradlab.tensor(out), gradlab.tensor(tgt)) == 0.75
    assert accuracy(out, np.eye(3)[tgt]) == 0.75  # one-hot targets
    assert top_k_accuracy(2)(out, tgt) == 1.0
    assert binary_accuracy(np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 0.0])) == pytest.approx(2 / 3)
    assert accuracy(np.array([[3.0], [-1.0]]), np.array([[1.0], [1.0]])) == 0.5
    name, fn = get_metric(lambda o, t: 1.0)
    assert name == "<lambda>" and fn(None, None) == 1.0


def test_custom_metric_callable(problem):
    model, loss_fn, opt, train, val = problem()

    def max_logit(output, target):
        return float(np.max(output))

    hist = fit(model, loss_fn, opt, train, val, epochs=1, metrics=[max_logit], progress=False)
    assert {"max_logit", "val_max_logit"} <= set(hist.history)


def test_history_json_and_plot(tmp_path, problem):
    model, loss_fn, opt, train, val = problem()
    hist = fit(model, loss_fn, opt, train, val, epochs=3, progress=False)
    text = hist.to_json(tmp_path / "history.json")
    assert json.loads((tmp_path / "history.json").read_text()) == json.loads(text)
    back = History.from_json(tmp_path / "history.json")
    assert back.history == hist.history and back.epoch == hist.epoch
    png = hist.plot(tmp_path / "sub" / "curves.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["curves.png"]


def test_history_nonfinite_values_and_padding():
    h = History()
    h.append(0, {"loss": float("nan")})
    h.append(1, {"loss": 1.0, "val_loss": 2.0})
    assert isinstance(h.history["loss"][0], float) and math.isnan(h.history["loss"][0])  # a float in memory
    assert h.history["val_loss"] == [None, 2.0]
    assert h.best("loss") == (1, 1.0)
    on_disk = json.loads(h.to_json(), parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}"))
    assert on_disk["history"]["loss"] == [None, 1.0] and on_disk["nonfinite"] == {"history/loss/0": "nan"}
    with pytest.raises(KeyError):
        h.best("accuracy")


def test_fit_clips_the_gradient_norm_before_each_step(problem):
    """With plain SGD (lr 1) every step moves the parameters by exactly the clipped gradient: norm <= max_norm."""
    model, loss_fn, _, train, _ = problem(dropout=0.0, batch_size=192)  # one batch per epoch: one step
    params = list(model.parameters())
    before = np.concatenate([p.detach().numpy().ravel() for p in params])
    fit(model, loss_fn, optim.SGD(params, lr=1.0), train, epochs=1, progress=False, clip_grad_norm=1e-3)
    step = np.concatenate([p.detach().numpy().ravel() for p in params]) - before
    assert np.linalg.norm(step) == pytest.approx(1e-3, rel=1e-3)  # the raw gradient's norm is far above 1e-3
