"""The zoo's run-folder engine (train_generative / sample_generative), its pictures, and the DataInit callback."""
from __future__ import annotations

import json

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.data import DataLoader, TensorDataset
from gradlab.models import RBFNetwork
from gradlab.train import fit
from gradlab.train import pictures as P
from gradlab.train.adversarial import DataInit
from gradlab.train.generative_runs import load_generative_run, sample_generative, train_generative
from tests.helpers import to_numpy


def _mnist_available() -> bool:
    try:
        from gradlab.data.datasets import MNIST

        MNIST(train=False, download=False)
        return True
    except Exception:
        return False


needs_mnist = pytest.mark.skipif(not _mnist_available(), reason="MNIST files not available")


@needs_mnist
def test_vae_run_writes_the_pictures_and_samples_reproducibly(tmp_path) -> None:
    out = tmp_path / "vae"
    res = train_generative("vae", out, epochs=1, limit=200, model_kwargs={"hidden": [32], "latent_dim": 2},
                           log=None)
    for name in ("config.json", "weights.safetensors", "history.json", "results.json", "curves.png", "elbo.png",
                 "reconstructions.png", "samples.png", "interpolation.png", "latent_scatter.png", "manifold.png"):
        assert (out / name).is_file(), name
    hist = json.loads((out / "history.json").read_text())
    assert {"recon", "kl", "val_recon", "val_kl"} <= set(hist["history"])
    assert res["test_loss"] == pytest.approx(res["test_recon"] + res["test_kl"], rel=1e-5)
    model, config = load_generative_run(out)
    assert config["model_kwargs"]["latent_dim"] == 2 and config["task"] == "generative"
    a = sample_generative(out, n=9, seed=5, out=tmp_path / "a.png")
    b = sample_generative(out, n=9, seed=5, out=tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes() and a != b
    again = load_generative_run(out)[0]
    np.testing.assert_array_equal(to_numpy(model.sample(4, seed=1)), to_numpy(again.sample(4, seed=1)))


@needs_mnist
def test_gan_run_writes_a_grid_per_epoch(tmp_path) -> None:
    out = tmp_path / "gan"
    res = train_generative("gan", out, epochs=2, limit=128, model_kwargs={"hidden": [16, 32], "latent_dim": 8},
                           log=None)
    assert (out / "samples" / "epoch_001.png").is_file() and (out / "samples" / "epoch_002.png").is_file()
    assert (out / "losses.png").is_file() and (out / "samples.png").is_file()
    assert {"d_loss", "g_loss"} <= set(res) and res["epochs"] == 2
    assert sample_generative(out, n=4, seed=0).endswith("samples_seed0.png")


@needs_mnist
def test_bad_input(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"asked for images of shape \[1, 32, 32\] but --dataset mnist has"):
        train_generative("vae", tmp_path / "x", epochs=1, limit=10, model_kwargs={"input_shape": [1, 32, 32]},
                         log=None)
    with pytest.raises(ValueError, match="unknown model"):
        train_generative("lenet5", tmp_path / "x", epochs=1, log=None)
    out = tmp_path / "ae"
    train_generative("ae", out, epochs=1, limit=64, model_kwargs={"hidden": [16], "code_size": 4}, log=None)
    assert (out / "reconstructions.png").is_file()
    with pytest.raises(ValueError, match="no prior to sample from"):
        sample_generative(out)
    with pytest.raises(FileNotFoundError, match="no config.json"):
        sample_generative(tmp_path / "nothing")


def test_picture_writers_check_their_input(tmp_path) -> None:
    imgs = np.random.default_rng(0).random((4, 1, 28, 28))
    assert P.save_reconstructions(imgs, imgs[::-1], tmp_path / "r.png", ncols=3).endswith("r.png")
    with pytest.raises(ValueError, match="reconstructions"):
        P.save_reconstructions(imgs, imgs[:2], tmp_path / "r.png")
    with pytest.raises(ValueError, match="2-D codes"):
        P.save_latent_scatter(np.zeros((5, 3)), np.zeros(5), tmp_path / "s.png")
    with pytest.raises(ValueError, match="square images"):
        P.as_images(np.zeros((2, 10)))
    decode = lambda z: np.tile(z[:, :1], (1, 16)) * 0 + 0.5  # noqa: E731
    assert P.save_manifold(decode, tmp_path / "m.png", n=4).endswith("m.png")
    assert P.save_interpolation(decode, np.zeros((2, 2)), np.ones((2, 2)), tmp_path / "i.png", steps=5)


def test_data_init_places_rbf_centres_before_training() -> None:
    gradlab.manual_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(300, 2)) * 5 + 20).astype(np.float32)  # far from the random initial centres
    y = (x[:, 0] > 20).astype(np.int64)
    net = RBFNetwork(in_features=2, num_centres=10, num_classes=2)
    before = to_numpy(net.rbf.centres).copy()
    loader = DataLoader(TensorDataset(gradlab.tensor(x), gradlab.tensor(y)), batch_size=50)
    fit(net, nn.CrossEntropyLoss(), optim.Adam(net.parameters(), lr=0.05), loader, epochs=15, progress=False,
        callbacks=[DataInit()])
    c = to_numpy(net.rbf.centres)
    assert np.abs(c.mean(0) - 20).max() < 3 and np.abs(before.mean(0) - 20).max() > 15
    assert (to_numpy(net(gradlab.tensor(x))).argmax(1) == y).mean() > 0.9
