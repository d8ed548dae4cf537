"""LeNet5 and SimpleCNN: same logits and parameter gradients as the same architectures in torch with copied
weights; registry names and kwargs; LeNet5 learns MNIST digits from a small subset."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.models import LeNet5, SimpleCNN, build_model
from tests.helpers import assert_close, to_torch

torch = pytest.importorskip("torch")
tnn = torch.nn


class TorchLeNet5(tnn.Module):
    """The reference: the same layers, names and order as gradlab.models.LeNet5."""

    def __init__(self, num_classes=10, act=tnn.ReLU, pool=tnn.MaxPool2d):
        super().__init__()
        self.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), act(), pool(2), tnn.Conv2d(6, 16, 5), act(),
                                       pool(2))
        self.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), act(), tnn.Linear(120, 84), act(),
                                         tnn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class TorchSimpleCNN(tnn.Module):
    def __init__(self, num_classes=10, c1=32, c2=64, hidden=256, dropout=0.3):
        super().__init__()

        def block(cin, cout):
            return [tnn.Conv2d(cin, cout, 3, padding=1, bias=False), tnn.BatchNorm2d(cout), tnn.ReLU()]

        self.features = tnn.Sequential(*block(1, c1), *block(c1, c1), tnn.MaxPool2d(2), *block(c1, c2),
                                       *block(c2, c2), tnn.MaxPool2d(2))
        self.classifier = tnn.Sequential(tnn.Flatten(), tnn.Dropout(dropout), tnn.Linear(c2 * 49, hidden), tnn.ReLU(),
                                         tnn.Dropout(dropout), tnn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def _copy(tmodel, gmodel):
    state = {k: v.detach().numpy() for k, v in tmodel.state_dict().items()}
    gmodel.load_state_dict(state)
    assert list(gmodel.state_dict()) == list(state)


def _step_both(gmodel, tmodel, dtype, n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1, 28, 28)).astype(dtype)
    y = rng.integers(0, 10, n)
    out = gmodel(gradlab.tensor(x))
    ref = tmodel(to_torch(x))
    nn.functional.cross_entropy(out, gradlab.tensor(y)).backward()
    tnn.functional.cross_entropy(ref, torch.from_numpy(y)).backward()
    return out, ref


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_lenet5_matches_torch(dtype, act):
    tmodel = TorchLeNet5(act=tnn.ReLU if act == "relu" else tnn.Tanh).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    gmodel = LeNet5(activation=act)
    if dtype == np.float64:
        gmodel.double()
    _copy(tmodel, gmodel)
    out, ref = _step_both(gmodel, tmodel, dtype)
    tol = dict(rtol=1e-6, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    assert out.dtype == dtype
    assert_close(out, ref, **tol)
    tparams = dict(tmodel.named_parameters())
    for name, p in gmodel.named_parameters():
        assert p.grad.dtype == dtype
        assert_close(p.grad, tparams[name].grad, **tol, msg=name)


@pytest.mark.parametrize("train", [True, False])
def test_simple_cnn_matches_torch(train):
    tmodel = TorchSimpleCNN(c1=4, c2=6, hidden=16, dropout=0.0).double()
    gmodel = SimpleCNN(channels=(4, 6), hidden=16, dropout=0.0).double()
    _copy(tmodel, gmodel)
    gmodel.train(train)
    tmodel.train(train)
    out, ref = _step_both(gmodel, tmodel, np.float64)
    assert_close(out, ref, rtol=1e-6, atol=1e-9)
    tparams = dict(tmodel.named_parameters())
    for name, p in gmodel.named_parameters():
        assert_close(p.grad, tparams[name].grad, rtol=1e-6, atol=1e-9, msg=name)
    tbuffers = dict(tmodel.named_buffers())
    for name, b in gmodel.named_buffers():
        assert_close(b, tbuffers[name], msg=name)


def test_registry_and_kwargs():
    m = build_model("lenet5", num_classes=3, in_channels=2, activation="tanh", pool="avg", input_size=32)
    assert isinstance(m, LeNet5)
    assert m(gradlab.zeros(2, 2, 32, 32)).shape == (2, 3)
    assert type(LeNet5(**m.config())(gradlab.zeros(1, 2, 32, 32))) is gradlab.Tensor
    c = build_model("cnn", num_classes=5, in_channels=3, channels=(8, 16), hidden=32, dropout=0.5)
    assert isinstance(c, SimpleCNN) and c(gradlab.zeros(2, 3, 28, 28)).shape == (2, 5)
    assert SimpleCNN(**c.config()).config() == c.config()
    assert sum(p.numel() for p in LeNet5().parameters()) == 61706
    assert sum(p.numel() for p in SimpleCNN().parameters()) == sum(
        p.numel() for p in TorchSimpleCNN().parameters())
    with pytest.raises(ValueError, match="pool"):
        LeNet5(pool="min")


def test_lenet5_learns_mnist_digits():
    """2,000 training images, 3 epochs of Adam: above 90% on 1,000 test images (full runs: benchmarks/)."""
    datasets = pytest.importorskip("gradlab.data.datasets")
    try:
        train, test = datasets.MNIST(train=True, download=False), datasets.MNIST(train=False, download=False)
    except FileNotFoundError as e:  # pragma: no cover - the shared data is missing on this machine
        pytest.skip(f"MNIST not available: {e}")
    x, y = train.as_tensors(standardize=True)
    xt, yt = test.as_tensors(standardize=True)
    n = 2000
    x, y, xt, yt = x[:n].reshape(-1, 1, 28, 28), y[:n], xt[:1000].reshape(-1, 1, 28, 28), yt[:1000]
    gradlab.manual_seed(0)
    model = LeNet5()
    opt = optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    order = np.random.default_rng(0)
    for _ in range(3):
        perm = order.permutation(n)
        for i in range(0, n, 50):
            idx = perm[i : i + 50]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with gradlab.no_grad():
        acc = (model(xt).numpy().argmax(1) == yt.numpy()).mean()
    assert acc > 0.9, acc
