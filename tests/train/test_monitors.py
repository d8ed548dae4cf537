"""Training monitors: per-layer statistics every N steps, the learning-rate finder, the TensorBoard writer, and
their command-line flags (``gradlab train --monitor/--tensorboard``, ``gradlab lr-find``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.train import LambdaCallback, fit
from gradlab.train.lr_finder import lr_find
from gradlab.train.monitors import TrainingMonitor
from tests.train.conftest import blobs


def _data(n=192, batch=32):
    from gradlab.data import DataLoader, TensorDataset

    x, y = blobs(n)
    return DataLoader(TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy(y)), batch_size=batch, shuffle=True,
                      generator=gradlab.Generator(3))


def _model():
    gradlab.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))


def test_update_ratio_matches_the_weights_seen_between_steps():
    model = _model()
    seen = [np.array(model[0].weight._data, copy=True)]
    record = LambdaCallback(on_batch_end=lambda b, logs: seen.append(np.array(model[0].weight._data, copy=True)))
    mon = TrainingMonitor(every=2)
    h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9), _data(),
            epochs=2, callbacks=[record, mon], progress=False)
    assert mon.steps == [1, 3, 5, 7, 9, 11]
    expected = [np.linalg.norm(seen[s] - seen[s - 1]) / np.linalg.norm(seen[s - 1]) for s in mon.steps]
    np.testing.assert_allclose(mon.series["0/update_ratio"], expected, rtol=1e-5)
    assert len(h.history["update_ratio"]) == 2
    assert set(mon.layers) == {"0", "1", "2"} and "1/dead_fraction" in mon.series
    assert not any(m._forward_hooks for m in model.modules())  # hooks removed at the end


def test_activation_and_gradient_statistics_and_dead_relus():
    model = _model()
    with gradlab.no_grad():
        model[0].bias._data[:8] = -1e3  # half the hidden units can never fire
    x, y = blobs(32)
    w0, b0 = np.array(model[0].weight._data, copy=True), np.array(model[0].bias._data, copy=True)
    mon = TrainingMonitor(every=1)
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01), [(gradlab.from_numpy(x),
        gradlab.from_numpy(y))], epochs=1, callbacks=[mon], progress=False)
    pre = x @ w0.T + b0
    assert mon.series["0/act_mean"][0] == pytest.approx(pre.mean(), rel=1e-5)
    assert mon.series["0/act_std"][0] == pytest.approx(pre.std(), rel=1e-5)
    relu = np.maximum(pre, 0)
    assert mon.series["1/act_mean"][0] == pytest.approx(relu.mean(), rel=1e-5)
    assert mon.series["1/dead_fraction"][0] == pytest.approx((~(relu > 0).any(axis=0)).mean())
    assert mon.series["1/dead_fraction"][0] >= 0.5
    g = model[2].weight.grad._data
    assert mon.series["2/grad_std"][0] == pytest.approx(float(g.std()), rel=1e-5)
    with pytest.raises(ValueError, match="every"):
        TrainingMonitor(every=0)


def test_monitor_writes_json_and_pngs(tmp_path):
    mon = TrainingMonitor(every=3, out_dir=tmp_path / "m")
    fit(_model(), nn.CrossEntropyLoss(), optim.Adam(_model().parameters()), _data(), epochs=2, callbacks=[mon],
        progress=False)
    doc = json.loads((tmp_path / "m" / "monitor.json").read_text())
    assert doc["steps"] == mon.steps and "0/update_ratio" in doc["series"]
    for name in ("monitor.png", "activations-epoch1.png", "activations-epoch2.png"):
        assert (tmp_path / "m" / name).stat().st_size > 0


def test_lr_find_sweeps_restores_and_suggests():
    model = _model()
    before = {k: np.array(v._data, copy=True) for k, v in model.state_dict().items()}
    opt = optim.SGD(model.parameters(), lr=0.05)
    loader = _data(n=1024, batch=16)
    res = lr_find(model, nn.CrossEntropyLoss(), opt, loader, start_lr=1e-5, end_lr=100.0)
    lrs = np.asarray(res["lrs"])
    assert lrs[0] == pytest.approx(1e-5) and np.allclose(lrs[1:] / lrs[:-1], lrs[1] / lrs[0])
    assert len(lrs) < len(loader)  # it stopped once the loss blew up at huge learning rates
    assert 1e-4 < res["suggestion"] < 10
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v._data, before[k])
    assert opt.param_groups[0]["lr"] == 0.05
    with pytest.raises(ValueError, match="start_lr"):
        lr_find(model, nn.CrossEntropyLoss(), opt, loader, start_lr=1.0, end_lr=0.1)


def test_tensorboard_writes_events_with_filter_images(tmp_path):
    pytest.importorskip("tensorboardX")
    from gradlab.models import LeNet5
    from gradlab.train.tensorboard import TensorBoard

    gradlab.manual_seed(0)
    model = LeNet5()
    data = [(gradlab.randn(4, 1, 28, 28), gradlab.randint(0, 10, (4,)))]
    tb = TensorBoard(tmp_path / "tb")
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01), data, epochs=2, callbacks=[tb],
        progress=False)
    files = list((tmp_path / "tb").glob("events.out.tfevents*"))
    assert files and files[0].stat().st_size > 1000 and tb.writer is None
    raw = files[0].read_bytes()
    for tag in (b"loss", b"weights/features.0.weight", b"filters/first_conv"):
        assert tag in raw


def test_cli_monitor_tensorboard_and_lr_find(tmp_path, capsys):
    from gradlab.cli import main
    from gradlab.train import experiment
    from tests.cli.conftest import toy_arrays

    experiment.register_dataset("toy", lambda train=True, root=None: toy_arrays(train))
    try:
        out = tmp_path / "run"
        assert main(["train", "--dataset", "toy", "--hidden", "16", "--epochs", "2", "--batch-size", "32",
                     "--no-progress", "--monitor", "2", "--tensorboard", str(tmp_path / "tb"), "--out",
                     str(out)]) == 0
        assert (out / "monitor" / "monitor.json").is_file() and (out / "monitor" / "monitor.png").is_file()
        assert list((tmp_path / "tb").glob("events.out.tfevents*"))
        assert main(["train", "--dataset", "toy", "--hidden", "16", "--epochs", "3", "--batch-size", "32",
                     "--no-progress", "--monitor", "2", "--out", str(out), "--resume"]) == 0
        assert main(["lr-find", "--dataset", "toy", "--hidden", "16", "--batch-size", "4", "--end-lr", "10",
                     "--plot", str(tmp_path / "lr.png")]) == 0
        assert "suggested learning rate" in capsys.readouterr().out and (tmp_path / "lr.png").is_file()
        assert main(["lr-find", "--dataset", "toy", "--start-lr", "1", "--end-lr", "0.1"]) == 2
    finally:
        del experiment.DATASETS["toy"]
