"""RBFNetwork: k-means centres, gradients for centres/widths/read-out, training lowers the loss, beats chance."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.data.datasets.toy import make_spiral
from gradlab.models import RBFNetwork, build_model
from gradlab.models.rbf import kmeans_centres
from tests.helpers import to_numpy


def _spiral() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_spiral(300, noise=0.0, seed=0)
    return np.asarray(x, dtype=np.float32), (np.asarray(y) > 0).astype(np.int64)


def test_kmeans_init_puts_centres_on_the_data() -> None:
    x, _ = _spiral()
    net = RBFNetwork(in_features=2, num_centres=12, num_classes=2)
    net.init_centres(x, seed=0)
    c = to_numpy(net.rbf.centres)
    assert c.min() >= x.min() - 1e-3 and c.max() <= x.max() + 1e-3
    assert np.all(net.rbf.sigmas > 0)
    ref, sig = kmeans_centres(x, 12, seed=0)
    np.testing.assert_allclose(c, ref, rtol=1e-5, atol=1e-5)


def test_every_parameter_gets_a_gradient_and_training_lowers_the_loss() -> None:
    gradlab.manual_seed(0)
    x, y = _spiral()
    net = build_model("rbf", in_features=2, num_centres=30, num_classes=2)
    net.init_from_data(x, seed=0)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(net.parameters(), lr=0.05)
    xt, yt = gradlab.tensor(x), gradlab.tensor(y)
    first = loss_fn(net(xt), yt)
    first.backward()
    assert {name for name, p in net.named_parameters() if p.grad is not None and np.abs(to_numpy(p.grad)).sum() > 0} \
        == {"rbf.centres", "rbf.log_sigmas", "readout.weight", "readout.bias"}
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn(net(xt), yt)
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first.item()
    assert (to_numpy(net(xt)).argmax(1) == y).mean() > 0.9


def test_save_load_gives_the_same_outputs(tmp_path) -> None:
    x, _ = _spiral()
    net = RBFNetwork(in_features=2, num_centres=8, num_classes=2)
    net.init_centres(x)
    gradlab.save(net.state_dict(), tmp_path / "rbf.safetensors")
    other = RBFNetwork(**net.config())
    other.load_state_dict(gradlab.load(tmp_path / "rbf.safetensors"))
    np.testing.assert_array_equal(to_numpy(net(gradlab.tensor(x))), to_numpy(other(gradlab.tensor(x))))


def test_bad_input() -> None:
    net = RBFNetwork(in_features=2, num_centres=4, num_classes=2)
    with pytest.raises(ValueError, match="expected 2 features"):
        net.init_centres(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="k must be"):
        kmeans_centres(np.zeros((3, 2)), 5)
