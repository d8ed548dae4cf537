"""AutoEncoder (MLP, conv), DenoisingAutoEncoder, SparseAutoEncoder: gradients, training, save/load, errors."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.models import AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder, build_model
from gradlab.train.generative import evaluate_autoencoder, train_autoencoder
from tests.helpers import to_numpy
from tests.models._zoo_data import grads_of, mnist_subset

CASES = [
    ("ae", {"kind": "mlp"}), ("ae", {"kind": "conv"}),
    ("dae", {"noise": "gaussian"}), ("dae", {"noise": "mask", "kind": "conv"}),
    ("sae", {"penalty": "l1", "sparsity_weight": 0.1}), ("sae", {"penalty": "kl"}),
]


@pytest.mark.parametrize("name,kw", CASES)
def test_every_parameter_gets_a_gradient(name, kw) -> None:
    gradlab.manual_seed(0)
    model = build_model(name, hidden=(32,), code_size=8, **kw)
    model.loss_terms(gradlab.rand(6, 1, 28, 28))["loss"].backward()
    assert all(grads_of(model).values()), grads_of(model)


@pytest.mark.parametrize("name,kw", CASES[:1] + CASES[2:3] + CASES[5:])
def test_short_training_lowers_the_loss(name, kw) -> None:
    gradlab.manual_seed(0)
    x = mnist_subset(256)
    model = build_model(name, hidden=(64,), code_size=16, **kw)
    before = evaluate_autoencoder(model, x)["recon"]
    hist = train_autoencoder(model, x, epochs=3, batch_size=32, lr=2e-3, seed=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert evaluate_autoencoder(model, x)["recon"] < 0.8 * before


def test_save_load_reconstructs_the_same(tmp_path) -> None:
    gradlab.manual_seed(0)
    model = AutoEncoder(kind="conv", code_size=4)
    x = gradlab.rand(3, 1, 28, 28)
    gradlab.save(model.state_dict(), tmp_path / "ae.safetensors")
    other = AutoEncoder(**model.config())
    other.load_state_dict(gradlab.load(tmp_path / "ae.safetensors"))
    np.testing.assert_array_equal(to_numpy(model.reconstruct(x)), to_numpy(other.reconstruct(x)))
    assert model.reconstruct(x).shape == (3, 1, 28, 28)
    assert model.reconstruct(x.reshape(3, 784)).shape == (3, 784)


def test_denoising_noise() -> None:
    x = gradlab.full((2, 1, 28, 28), 0.5)
    mask = DenoisingAutoEncoder(noise="mask", noise_level=0.3)
    noisy = to_numpy(mask.corrupt(x, gradlab.Generator(0)))
    assert set(np.unique(noisy).tolist()) == {0.0, 0.5} and 0.2 < (noisy == 0).mean() < 0.4
    gauss = DenoisingAutoEncoder(noise="gaussian", noise_level=0.2)
    g = to_numpy(gauss.corrupt(x, gradlab.Generator(0)))
    assert 0.15 < g.std() < 0.25 and g.min() >= 0 and g.max() <= 1
    np.testing.assert_array_equal(g, to_numpy(gauss.corrupt(x, gradlab.Generator(0))))


def test_sparse_penalties_match_their_formulas() -> None:
    code = gradlab.tensor(np.array([[0.1, 0.5], [0.3, 0.0]], dtype=np.float64))
    l1 = SparseAutoEncoder(penalty="l1", code_size=2).sparsity(code).item()
    assert l1 == pytest.approx(0.45)
    kl = SparseAutoEncoder(penalty="kl", code_size=2, target=0.1).sparsity(code).item()
    rho, hat = 0.1, np.clip(np.array([0.2, 0.25]), 1e-6, 1)
    assert kl == pytest.approx(float(np.sum(rho * np.log(rho / hat) + (1 - rho) * np.log((1 - rho) / (1 - hat)))))


def test_bad_input() -> None:
    model = AutoEncoder()
    with pytest.raises(ValueError, match="built for 1x28x28"):
        model.loss_terms(gradlab.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match="divisible by 4"):
        AutoEncoder(input_shape=(1, 30, 30), kind="conv")
    with pytest.raises(ValueError, match="kind"):
        AutoEncoder(kind="rnn")
    with pytest.raises(ValueError, match="noise"):
        DenoisingAutoEncoder(noise="salt")
    with pytest.raises(ValueError, match="noise_level"):
        DenoisingAutoEncoder(noise="mask", noise_level=1.0)
    with pytest.raises(ValueError, match="penalty"):
        SparseAutoEncoder(penalty="l2")
    with pytest.raises(ValueError, match="target"):
        SparseAutoEncoder(target=0.0)
