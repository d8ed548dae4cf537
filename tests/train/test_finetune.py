"""Fine-tuning: freezing by name, per-group learning rates in every optimizer, head replacement, the L2-SP penalty,
torch state dicts in safetensors, and ``run_finetune`` / ``gradlab finetune`` writing a normal run folder."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.models import MLP, LeNet5
from gradlab.nn.utils import freeze, unfreeze
from gradlab.train import fit
from gradlab.train.finetune import L2SP, find_head, load_pretrained, replace_head, run_finetune
from tests.train.conftest import blobs


def _loaders():
    from gradlab.data import DataLoader, TensorDataset

    x, y = blobs()
    return DataLoader(TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy(y)), batch_size=32, shuffle=True,
                      generator=gradlab.Generator(1))


@pytest.mark.parametrize("how", ["freeze", "requires_grad_"])
@pytest.mark.parametrize("opt_name", ["sgd", "adam", "adamw"])
def test_frozen_weights_bit_identical_after_training(how, opt_name):
    gradlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    if how == "freeze":
        assert freeze(model, "0.*", "2") == ["0.weight", "0.bias", "2.weight", "2.bias"]
    else:
        model[0].requires_grad_(False)
        model[2].requires_grad_(False)
    before = {k: np.array(v._data, copy=True) for k, v in model.state_dict().items()}
    cls = {"sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
           "adam": lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1),
           "adamw": lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1)}[opt_name]
    fit(model, nn.CrossEntropyLoss(), cls(model.parameters()), _loaders(), epochs=2, progress=False)
    after = model.state_dict()
    for k in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert np.array_equal(after[k]._data, before[k]), k
        assert after[k]._data.tobytes() == before[k].tobytes()
    assert not np.array_equal(after["4.weight"]._data, before["4.weight"])  # the head did train


def test_freeze_patterns_and_errors():
    m = LeNet5()
    names = freeze(m, "features.*")
    assert names and all(n.startswith("features.") for n in names)
    assert all(p.requires_grad == (not n.startswith("features.")) for n, p in m.named_parameters())
    assert unfreeze(m, "features.0.*") == ["features.0.weight", "features.0.bias"]
    with pytest.raises(ValueError, match="no parameter name matches 'featurez"):
        freeze(m, "featurez.*")
    with pytest.raises(TypeError, match="gradlab.nn.Module"):
        freeze(object(), "x")
    assert len(freeze(m)) == len(list(m.parameters()))  # no pattern: everything


OPTIMIZERS = {
    "SGD": dict(momentum=0.9), "Adam": {}, "AdamW": dict(weight_decay=0.01), "RMSprop": dict(momentum=0.5),
    "Adagrad": {},
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_per_group_learning_rates(name):
    """Two groups with their own lr step exactly as two one-group optimizers with those lrs."""
    cls, kw = getattr(optim, name), OPTIMIZERS[name]
    rng = np.random.default_rng(0)
    init = [rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=(2,)).astype(np.float32)]
    a = [gradlab.tensor(v.copy(), requires_grad=True) for v in init]
    b = [gradlab.tensor(v.copy(), requires_grad=True) for v in init]
    grouped = cls([{"params": [a[0]], "lr": 0.1}, {"params": [a[1]], "lr": 1e-3}], lr=0.5, **kw)
    single = [cls([b[0]], lr=0.1, **kw), cls([b[1]], lr=1e-3, **kw)]
    for _step in range(3):
        g = [rng.normal(size=v.shape).astype(np.float32) for v in init]
        for p, q, gi in zip(a, b, g):
            p.grad, q.grad = gradlab.tensor(gi), gradlab.tensor(gi.copy())
        grouped.step()
        for o in single:
            o.step()
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p._data, q._data)
    assert [g["lr"] for g in grouped.param_groups] == [0.1, 1e-3]


def test_l2sp_gradient_is_the_closed_form():
    gradlab.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    theta0 = {n: np.array(p._data, copy=True) for n, p in m.named_parameters()}
    reg = L2SP(m, alpha=0.3, exclude=["2"], beta=0.05)
    assert reg.names == ["0.weight", "0.bias"]
    rng = np.random.default_rng(1)
    with gradlab.no_grad():
        for p in m.parameters():
            p._data[...] += rng.normal(size=p.shape)
    params = dict(m.named_parameters())
    penalty = reg()
    expected = 0.3 * sum(((params[n]._data - theta0[n]) ** 2).sum() for n in ("0.weight", "0.bias")) \
        + 0.05 * sum((params[n]._data ** 2).sum() for n in ("2.weight", "2.bias"))
    assert penalty.item() == pytest.approx(expected, rel=1e-12)
    penalty.backward()
    for n, p in m.named_parameters():
        closed = 2 * 0.3 * (p._data - theta0[n]) if n.startswith("0.") else 2 * 0.05 * p._data
        np.testing.assert_allclose(p.grad._data, closed, rtol=1e-12, atol=1e-14)
    # float64 central differences on one entry
    w, eps = m[0].weight, 1e-6
    with gradlab.no_grad():
        w._data[1, 2] += eps
        up = reg().item()
        w._data[1, 2] -= 2 * eps
        down = reg().item()
        w._data[1, 2] += eps
    assert (up - down) / (2 * eps) == pytest.approx(float(w.grad._data[1, 2]), rel=1e-6)
    with pytest.raises(ValueError, match="alpha"):
        L2SP(m, alpha=-1.0)


def test_l2sp_in_fit_pulls_weights_back():
    """A large L2-SP weight keeps the shared weights closer to the pretrained ones than plain training."""
    def train(alpha):
        gradlab.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
        theta0 = np.array(model[0].weight._data, copy=True)
        regs = [L2SP(model, alpha, exclude=["2"])] if alpha else []
        h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), _loaders(), epochs=3,
                progress=False, regularizers=regs)
        return float(np.linalg.norm(model[0].weight._data - theta0)), h

    drift_plain, _ = train(0.0)
    drift_l2sp, h = train(1.0)
    assert drift_l2sp < 0.5 * drift_plain
    assert "loss" in h.history


def test_find_and_replace_head():
    m = LeNet5()
    assert find_head(m) == "classifier.5"
    assert replace_head(m, 4) == "classifier.5"
    assert m(gradlab.zeros(2, 1, 28, 28)).shape == (2, 4) and m.config()["num_classes"] == 4
    with pytest.raises(ValueError, match="no nn.Linear"):
        find_head(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="positive integer"):
        replace_head(m, 0)


class _TorchLeNet5:
    """The same architecture in torch (names features.N / classifier.N as gradlab's LeNet5)."""

    @staticmethod
    def make():
        import torch

        tnn = torch.nn
        m = tnn.Module()
        m.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                                    tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2))
        m.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84),
                                      tnn.ReLU(), tnn.Linear(84, 10))
        return m, lambda x: m.classifier(m.features(x))


def test_torch_state_dict_in_safetensors_loads(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    torch.manual_seed(0)
    tm, forward = _TorchLeNet5.make()
    save_file({k: v.contiguous() for k, v in tm.state_dict().items()}, str(tmp_path / "lenet.safetensors"))
    tmlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    save_file(tmlp.state_dict(), str(tmp_path / "mlp.safetensors"))
    x = np.random.default_rng(0).normal(size=(3, 1, 28, 28)).astype(np.float32)

    g = LeNet5()
    assert len(load_pretrained(g, tmp_path / "lenet.safetensors")) == 10
    with torch.no_grad():
        ref = forward(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(g(gradlab.from_numpy(x))._data, ref, rtol=1e-4, atol=1e-5)

    gm = MLP(784, hidden=(32,), out_features=10)
    load_pretrained(gm, tmp_path / "mlp.safetensors")
    with torch.no_grad():
        ref = tmlp(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(gm(gradlab.from_numpy(x))._data, ref, rtol=1e-4, atol=1e-5)

    with pytest.raises(RuntimeError, match="missing"):
        load_pretrained(MLP(784, hidden=(32, 16), out_features=10), tmp_path / "mlp.safetensors")


@pytest.fixture
def toy(monkeypatch):
    from gradlab.train import experiment
    from tests.cli.conftest import toy_arrays

    monkeypatch.setitem(experiment.DATASETS, "toy", lambda train=True, root=None: toy_arrays(train))

    def five(train=True, root=None):
        x, y, _ = toy_arrays(train)
        return x[::-1].copy(), (y * 2 + (x[:, 0] > 0)).astype(np.int64)[::-1].copy(), {"input_shape": [8],
                                                                                        "num_classes": 6}
    monkeypatch.setitem(experiment.DATASETS, "toy6", five)
    return "toy"


def test_run_finetune_writes_a_run_folder_and_keeps_frozen_weights(tmp_path, toy):
    from gradlab.io import load
    from gradlab.train.experiment import evaluate_run, make_config, run_training

    pre = tmp_path / "pre"
    run_training(make_config(dataset="toy", hidden=(16, 16), epochs=2, batch_size=32), pre, log=None)
    res = run_finetune(pre, tmp_path / "ft", "toy6", new_head=6, freeze=["1.*"], l2sp=1e-2, epochs=2,
                       batch_size=32, lr=0.01, log=None)
    assert 0.0 <= res["test_accuracy"] <= 1.0
    old, new = load(pre / "weights.safetensors"), load(tmp_path / "ft" / "weights.safetensors")
    assert np.asarray(new["1.weight"]._data).tobytes() == np.asarray(old["1.weight"]._data).tobytes()
    assert not np.array_equal(np.asarray(new["3.weight"]._data), np.asarray(old["3.weight"]._data))
    assert np.asarray(new["5.weight"]._data).shape == (6, 16)
    assert evaluate_run(tmp_path / "ft")["test_accuracy"] == pytest.approx(res["test_accuracy"])
    with pytest.raises(RuntimeError, match="do not fit"):  # 3 pretrained classes, 6 in the data, no new head
        run_finetune(pre, tmp_path / "bad", "toy6", epochs=1, log=None)


def test_cli_finetune(tmp_path, toy, capsys):
    from gradlab.cli import main

    pre = tmp_path / "pre"
    assert main(["train", "--dataset", "toy", "--hidden", "16,16", "--epochs", "1", "--out", str(pre),
                 "--no-progress"]) == 0
    assert main(["finetune", str(pre), "--dataset", "toy6", "--freeze", "1.*", "--new-head", "6", "--l2sp",
                 "0.01", "--epochs", "1", "--out", str(tmp_path / "ft"), "--no-progress"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert main(["finetune", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert main(["finetune", str(pre), "--dataset", "toy", "--freeze", "zzz*", "--out", str(tmp_path / "y"),
                 "--no-progress"]) == 1
    assert "no parameter name matches 'zzz*'" in capsys.readouterr().err
    weights = str(pre / "weights.safetensors")  # a bare weights file: the architecture comes from --model
    assert main(["finetune", weights, "--dataset", "toy", "--out", str(tmp_path / "z"), "--no-progress"]) == 1
    assert "name its architecture" in capsys.readouterr().err
    assert main(["finetune", weights, "--model", "mlp", "--model-kwargs", '{"hidden": [16, 16]}', "--dataset", "toy",
                 "--epochs", "1", "--out", str(tmp_path / "z"), "--no-progress"]) == 0
    assert main(["finetune", weights, "--model", "mlp", "--model-kwargs", "[1]", "--out", str(tmp_path / "w")]) == 2
