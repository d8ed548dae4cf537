"""GAN (MLP and DCGAN): losses, gradients, a short training, reproducible sampling, errors."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.models import GAN, build_model
from gradlab.models.gan import discriminator_loss, generator_loss
from gradlab.train.generative import train_gan
from tests.helpers import assert_close, to_numpy, to_torch
from tests.models._zoo_data import grads_of, mnist_subset


def test_losses_match_torch(torch) -> None:
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=6), rng.normal(size=6)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    r, f = to_torch(real), to_torch(fake)
    assert_close(discriminator_loss(gradlab.tensor(real), gradlab.tensor(fake)).item(),
                 (bce(r, torch.ones(6, dtype=torch.float64)) + bce(f, torch.zeros(6, dtype=torch.float64))).item())
    # non-saturating: -mean log sigmoid(D(G(z)))
    assert_close(generator_loss(gradlab.tensor(fake)).item(), (-torch.nn.functional.logsigmoid(f).mean()).item())


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_every_parameter_gets_a_gradient(kind) -> None:
    gradlab.manual_seed(0)
    gan = build_model("gan", latent_dim=8, kind=kind, hidden=(16, 32), channels=(8, 4))
    fake = gan(gan.noise(4))
    assert fake.shape == (4, 1, 28, 28)
    loss = discriminator_loss(gan.discriminator(gradlab.rand(4, 1, 28, 28)), gan.discriminator(fake.detach()))
    loss = loss + generator_loss(gan.discriminator(fake))
    loss.backward()
    assert all(grads_of(gan).values()), grads_of(gan)


def test_short_training_moves_samples_towards_the_data() -> None:
    # GAN losses are not monotone; what must improve is how the samples look: here their per-pixel mean image,
    # which starts as a uniform grey and must move towards the mean digit
    gradlab.manual_seed(0)
    x = mnist_subset(256)
    gan = GAN(latent_dim=16, kind="mlp", hidden=(64, 128))
    target = x.mean(0)

    def distance() -> float:
        return float(np.abs(to_numpy(gan.sample(256, seed=0)).mean(0) - target).mean())

    before = distance()
    hist = train_gan(gan, x, epochs=3, batch_size=32, lr=1e-3, seed=0)
    assert set(hist.history) == {"d_loss", "g_loss", "d_real", "d_fake", "time"}
    assert all(np.isfinite(hist.history["g_loss"])) and all(np.isfinite(hist.history["d_loss"]))
    assert distance() < 0.9 * before


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_save_load_sample_gives_the_same_images(tmp_path, kind) -> None:
    gradlab.manual_seed(0)
    gan = GAN(latent_dim=8, kind=kind, hidden=(16, 32), channels=(8, 4))
    gradlab.save(gan.state_dict(), tmp_path / "gan.safetensors")
    other = GAN(**gan.config())
    other.load_state_dict(gradlab.load(tmp_path / "gan.safetensors"))
    a, b = to_numpy(gan.sample(6, seed=1)), to_numpy(other.sample(6, seed=1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (6, 1, 28, 28) and 0 <= a.min() and a.max() <= 1


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="GAN needs a latent size"):
        GAN()
    with pytest.raises(ValueError, match="GAN needs a latent size"):
        GAN(latent_dim=0)
    with pytest.raises(ValueError, match="divisible by 4"):
        GAN(latent_dim=4, kind="dcgan", input_shape=(1, 30, 30))
    gan = GAN(latent_dim=4, hidden=(8, 8))
    with pytest.raises(ValueError, match=r"noise of shape \(N, 4\)"):
        gan(gradlab.zeros(2, 5))
    with pytest.raises(ValueError, match="built for 1x28x28"):
        gan.discriminator(gradlab.zeros(2, 1, 32, 32))
