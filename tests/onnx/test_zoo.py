"""The zoo's models (gradlab.models: perceptron, RBF network, autoencoders, VAE, GAN) exported in eval mode and run
in ONNX Runtime: the outputs match gradlab's for two batch sizes."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.models import GAN, VAE, AutoEncoder, DenoisingAutoEncoder, Perceptron, RBFNetwork, SparseAutoEncoder
from tests.onnx.common import check_export


def _images(n: int, seed: int = 0, shape: tuple = (1, 8, 8)) -> np.ndarray:
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def _settle_batch_norm(model: nn.Module, x: np.ndarray) -> None:
    """Non-trivial running statistics: a few training-mode passes."""
    model.train()
    with gradlab.no_grad():
        for _ in range(2):
            model(gradlab.tensor(x))
    model.eval()


@pytest.mark.parametrize("classes", [1, 3])
def test_perceptron(classes):
    check_export(Perceptron(64, classes), [_images(3), _images(10, seed=1)])


def test_rbf_network():
    model = RBFNetwork(64, num_centres=12, num_classes=4, sigma=2.0)
    model.init_centres(gradlab.tensor(_images(20, seed=2).reshape(20, -1)))
    check_export(model, [_images(3), _images(10, seed=1)])


def test_rbf_layer():
    layer = nn.RBF(5, 7, sigma=0.7)
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    check_export(layer, [x, x[:1] * 2.0])


@pytest.mark.parametrize("model", [
    AutoEncoder((1, 8, 8), hidden=(16,), code_size=4), AutoEncoder((1, 8, 8), code_size=4, kind="conv"),
    AutoEncoder((1, 8, 8), hidden=(16,), code_size=4, code_activation="tanh"),
    SparseAutoEncoder((1, 8, 8), hidden=(16,), code_size=6), SparseAutoEncoder((1, 8, 8), code_size=6, penalty="l1"),
], ids=["mlp", "conv", "mlp-tanh-code", "sparse-kl", "sparse-l1"])
def test_autoencoders(model):
    check_export(model, [_images(3), _images(10, seed=1)])


@pytest.mark.parametrize("noise", ["gaussian", "mask"])
def test_denoising_autoencoder_exports_without_noise(noise):
    model = DenoisingAutoEncoder((1, 8, 8), hidden=(16,), code_size=4, noise=noise, noise_level=0.5)
    x = _images(5)
    check_export(model, [x, _images(2, seed=1)])
    model.eval()  # eval mode: no corruption, the same output twice, equal to the plain autoencoder's
    with gradlab.no_grad():
        a, b = model(gradlab.tensor(x))._data, model(gradlab.tensor(x))._data
        plain = model.decode(model.encode(gradlab.tensor(x)))._data.reshape(a.shape)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, plain)


class _Decoder(nn.Module):
    def __init__(self, vae: VAE) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, z):
        return self.vae.decode(z)


def test_vae_mean_path_and_decoder():
    vae = VAE((1, 8, 8), hidden=(16,), latent_dim=3)
    proto = check_export(vae, [_images(3), _images(10, seed=1)])  # eval: (logits, mu, logvar) of the mean code
    assert len(proto.graph.output) == 3
    z = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    check_export(_Decoder(vae), [z, z[:1]])


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_gan_generator_and_discriminator(kind):
    gan = GAN(latent_dim=5, kind=kind, input_shape=(1, 8, 8), hidden=(16, 8), channels=(8, 4))
    z = np.random.default_rng(4).standard_normal((6, 5)).astype(np.float32)
    imgs = _images(6) * 2 - 1
    if kind == "dcgan":
        _settle_batch_norm(gan.generator, z)
        _settle_batch_norm(gan.discriminator, imgs)
    check_export(gan, [z[:3], z])
    check_export(gan.generator, [z[:3], z])
    check_export(gan.discriminator, [imgs[:2], imgs])
