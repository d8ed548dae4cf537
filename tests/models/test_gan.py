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


def _torch_dcgan(torch, latent: int, c0: int, c1: int, q: int):
    nn = torch.nn
    g = nn.Sequential(nn.Linear(latent, c0 * q * q, bias=False), nn.BatchNorm1d(c0 * q * q), nn.ReLU(),
                      nn.Unflatten(1, (c0, q, q)), nn.ConvTranspose2d(c0, c1, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(c1), nn.ReLU(), nn.ConvTranspose2d(c1, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, c1, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(c1, c0, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(c0), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(c0 * q * q, 1))
    return g, d


def _copy_into(torch, gan: GAN, g, d) -> None:
    state = {k: to_numpy(v) for k, v in gan.state_dict().items()}
    for net, prefix in ((g, "generator."), (d, "discriminator.body.")):
        mine = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        theirs = net.state_dict()
        assert set(theirs) - {k for k in theirs if k.endswith("num_batches_tracked")} <= set(mine), set(mine)
        net.load_state_dict({k: torch.from_numpy(np.array(mine[k])).to(v.dtype) if k in mine else v
                             for k, v in theirs.items()})


def test_dcgan_training_step_matches_torch(torch) -> None:
    # train_gan's loop (D on real and fake separately, then G on the same fakes; two Adams) against the same loop
    # in torch from the same weights, noise and batch order: every weight and BatchNorm statistic must agree
    gradlab.manual_seed(0)
    latent, c0, c1, n, batch = 5, 6, 4, 16, 8
    gan = GAN(latent_dim=latent, kind="dcgan", input_shape=(1, 8, 8), channels=(c0, c1))
    g, d = _torch_dcgan(torch, latent, c0, c1, 2)
    _copy_into(torch, gan, g, d)
    x = np.random.default_rng(3).random((n, 1, 8, 8)).astype(np.float32)
    noise_gen = gradlab.Generator(1)  # train_gan draws its noise from Generator(seed + 1)
    zs = [to_torch(gradlab.randn(batch, latent, generator=noise_gen)) for _ in range(n // batch)]
    order = np.random.default_rng(0).permutation(n)
    hist = train_gan(gan, x, epochs=1, batch_size=batch, lr=1e-3, seed=0)
    og = torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    xt = torch.from_numpy(x * 2 - 1)
    d_losses = []
    for b, z in enumerate(zs):
        real = xt[torch.from_numpy(order[b * batch:(b + 1) * batch])]
        fake = g(z)
        rl, fl = d(real).view(-1), d(fake.detach()).view(-1)
        dl = bce(rl, torch.ones_like(rl)) + bce(fl, torch.zeros_like(fl))
        od.zero_grad()
        dl.backward()
        od.step()
        gl = d(fake).view(-1)
        gl = bce(gl, torch.ones_like(gl))
        og.zero_grad()
        gl.backward()
        og.step()
        d_losses.append(dl.item())
    assert_close(hist.history["d_loss"][0], float(np.mean(d_losses)), rtol=1e-5, atol=1e-6)
    state = {k: to_numpy(v) for k, v in gan.state_dict().items()}
    for net, prefix in ((g, "generator."), (d, "discriminator.body.")):
        for k, v in net.state_dict().items():
            if not k.endswith("num_batches_tracked"):
                assert_close(state[prefix + k], v.detach().numpy(), rtol=1e-4, atol=1e-5)
    z = gan.noise(4, seed=2)
    g.eval()
    with torch.no_grad():
        assert_close(to_numpy(gan.sample(4, z=z)), ((g(to_torch(z)) + 1) / 2).numpy(), rtol=1e-4, atol=1e-5)
