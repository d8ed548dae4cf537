"""VAE: the KL term against its closed form, the reparameterised sample's gradient (gradcheck), training, sampling."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.models import VAE, build_model
from gradlab.models.vae import gaussian_kl, reparameterize
from gradlab.train.generative import evaluate_autoencoder, train_autoencoder
from tests.helpers import assert_close, to_numpy, to_torch
from tests.models._zoo_data import grads_of, mnist_subset


def test_kl_matches_the_closed_form_and_torch(torch) -> None:
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)) * 0.5
    ours = to_numpy(gaussian_kl(gradlab.tensor(mu), gradlab.tensor(logvar)))
    var = np.exp(logvar)  # KL(N(mu, var) || N(0, 1)) = 1/2 (var + mu^2 - 1 - log var), summed over dimensions
    np.testing.assert_allclose(ours, 0.5 * (var + mu ** 2 - 1 - logvar).sum(1), rtol=1e-12)
    d = torch.distributions
    q = d.Normal(to_torch(mu), torch.exp(0.5 * to_torch(logvar)))
    ref = d.kl_divergence(q, d.Normal(torch.zeros(5, 4, dtype=torch.float64), 1.0)).sum(1)
    assert_close(ours, ref, rtol=1e-10, atol=1e-12)


def test_model_kl_term_is_the_closed_form_of_its_encoder() -> None:
    gradlab.manual_seed(0)
    vae = VAE(hidden=(16,), latent_dim=3)
    x = gradlab.rand(4, 1, 28, 28)
    mu, logvar = (to_numpy(t).astype(np.float64) for t in vae.encode(x))
    expected = (0.5 * (np.exp(logvar) + mu ** 2 - 1 - logvar).sum(1)).mean()
    assert vae.loss_terms(x)["kl"].item() == pytest.approx(expected, rel=1e-5)


def test_reparameterised_sample_gradcheck_float64() -> None:
    rng = np.random.default_rng(1)
    mu = gradlab.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    logvar = gradlab.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    eps = gradlab.tensor(rng.normal(size=(3, 2)))
    assert gradlab.gradcheck(lambda m, lv: reparameterize(m, lv, eps=eps), (mu, logvar))
    z = reparameterize(mu, logvar, eps=eps)
    z.sum().backward()
    np.testing.assert_allclose(to_numpy(mu.grad), 1.0)
    np.testing.assert_allclose(to_numpy(logvar.grad), 0.5 * np.exp(0.5 * to_numpy(logvar.detach())) * to_numpy(eps))


def test_every_parameter_gets_a_gradient() -> None:
    gradlab.manual_seed(0)
    vae = build_model("vae", hidden=(32,), latent_dim=4)
    vae.loss_terms(gradlab.rand(6, 1, 28, 28))["loss"].backward()
    assert all(grads_of(vae).values()), grads_of(vae)


def test_short_training_lowers_the_negative_elbo() -> None:
    gradlab.manual_seed(0)
    x = mnist_subset(256)
    vae = VAE(hidden=(128,), latent_dim=8)
    before = evaluate_autoencoder(vae, x)["loss"]
    hist = train_autoencoder(vae, x, epochs=3, batch_size=32, lr=2e-3, seed=0)
    assert {"recon", "kl"} <= set(hist.history)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert evaluate_autoencoder(vae, x)["loss"] < 0.7 * before


def test_save_load_sample_gives_the_same_images(tmp_path) -> None:
    gradlab.manual_seed(0)
    vae = VAE(hidden=(32,), latent_dim=2)
    gradlab.save(vae.state_dict(), tmp_path / "vae.safetensors")
    other = VAE(**vae.config())
    other.load_state_dict(gradlab.load(tmp_path / "vae.safetensors"))
    a, b = to_numpy(vae.sample(5, seed=3)), to_numpy(other.sample(5, seed=3))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 1, 28, 28) and 0 <= a.min() and a.max() <= 1
    assert not np.array_equal(a, to_numpy(vae.sample(5, seed=4)))


def test_bad_input() -> None:
    vae = VAE(hidden=(8,), latent_dim=2)
    with pytest.raises(ValueError, match="built for 1x28x28"):
        vae.encode(gradlab.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"codes of shape \(N, 2\)"):
        vae.decode(gradlab.zeros(2, 3))
    with pytest.raises(ValueError, match="latent_dim"):
        VAE(latent_dim=0)
    with pytest.raises(ValueError, match="n must be"):
        vae.sample(0)
