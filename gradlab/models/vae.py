"""``VAE``: the variational autoencoder of Kingma & Welling (2014) for images in [0, 1].

The encoder maps an image to the mean ``mu`` and log-variance ``logvar`` of a diagonal Gaussian ``q(z|x)``; a code
is drawn with the reparameterisation trick ``z = mu + exp(logvar / 2) * eps``, ``eps ~ N(0, I)`` (so gradients flow
to ``mu`` and ``logvar``), and a Bernoulli decoder gives pixel logits. Training minimises the negative ELBO

    -ELBO(x) = E_q[-log p(x|z)] + KL(q(z|x) || N(0, I)),

estimated with one sample; the KL term has the closed form ``-1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))``
(:func:`gaussian_kl`). ``loss_terms`` returns both parts (nats per image) so they are logged per epoch.

>>> import gradlab
>>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
<...>
>>> vae = VAE(hidden=(64,), latent_dim=2)
>>> terms = vae.loss_terms(gradlab.rand(8, 1, 28, 28))
>>> sorted(terms), vae.sample(3, seed=0).shape
(['kl', 'loss', 'recon'], gradlab.Size([3, 1, 28, 28]))
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.models.autoencoder import _mlp, _shape3, bernoulli_nll, check_images
from gradlab.models.registry import register_model

__all__ = ["VAE", "gaussian_kl", "reparameterize"]


def gaussian_kl(mu: Any, logvar: Any) -> Any:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per sample (shape (N,)), in closed form.

    >>> gaussian_kl(gradlab.zeros(2, 3), gradlab.zeros(2, 3)).tolist()
    [0.0, 0.0]
    >>> round(gaussian_kl(gradlab.tensor([[1.0]]), gradlab.tensor([[0.0]])).item(), 4)
    0.5
    """
    return ((mu * mu) + logvar.exp() - logvar - 1.0).sum(1) * 0.5


def reparameterize(mu: Any, logvar: Any, eps: Any = None, generator: Any = None) -> Any:
    """``mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` drawn from ``generator`` unless given.

    >>> reparameterize(gradlab.tensor([1.0]), gradlab.tensor([0.0]), eps=gradlab.tensor([2.0])).tolist()
    [3.0]
    """
    if eps is None:
        eps = gradlab.randn(*mu.shape, generator=generator, dtype=mu.dtype)
    if tuple(eps.shape) != tuple(mu.shape):
        raise ValueError(f"reparameterize: eps has shape {tuple(eps.shape)}, mu has {tuple(mu.shape)}")
    return mu + (logvar * 0.5).exp() * eps


class VAE(nn.Module):
    """A variational autoencoder with MLP encoder/decoder and a Bernoulli decoder.

    Args:
        input_shape: (C, H, W) of the images (default (1, 28, 28)).
        hidden: hidden widths of the encoder (the decoder mirrors them); default (400,).
        latent_dim: size of the latent code (default 20; 2 gives the latent scatter and manifold pictures).
        activation: hidden activation (default ``'relu'``).
        beta: weight of the KL term in the loss (1 is the ELBO).

    >>> import gradlab
    >>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> vae = VAE((1, 4, 4), hidden=(8,), latent_dim=2)
    >>> vae.sample(2, seed=0).shape
    gradlab.Size([2, 1, 4, 4])
    >>> sorted(vae.loss_terms(gradlab.rand(3, 1, 4, 4)))
    ['kl', 'loss', 'recon']
    """

    def __init__(self, input_shape: Any = (1, 28, 28), hidden: Sequence[int] = (400,), latent_dim: int = 20,
                 activation: str = "relu", beta: float = 1.0) -> None:
        super().__init__()
        shape = _shape3(input_shape)
        if latent_dim is None or int(latent_dim) < 1:
            raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        hidden = [int(h) for h in ([hidden] if isinstance(hidden, int) else hidden)]
        if not hidden:
            raise ValueError("VAE needs at least one hidden layer")
        self.input_shape = shape
        self.latent_dim = int(latent_dim)
        self.beta = float(beta)
        size = int(np.prod(shape))
        self.encoder = nn.Sequential(nn.Flatten(), *_mlp([size, *hidden], activation, last_act=True))
        self.fc_mu = nn.Linear(hidden[-1], self.latent_dim)
        self.fc_logvar = nn.Linear(hidden[-1], self.latent_dim)
        self.decoder = nn.Sequential(*_mlp([self.latent_dim, *hidden[::-1], size], activation))
        self._config: dict[str, Any] = {"input_shape": list(shape), "hidden": hidden, "latent_dim": self.latent_dim,
                                        "activation": activation, "beta": self.beta}

    def config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able): ``VAE(**m.config())`` rebuilds the architecture."""
        return dict(self._config)

    def encode(self, x: Any) -> tuple[Any, Any]:
        """``(mu, logvar)`` of q(z|x), each (N, latent_dim)."""
        check_images(x, self.input_shape, "VAE")
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: Any) -> Any:
        """Pixel logits (N, C*H*W) of p(x|z)."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"VAE.decode: expected codes of shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.decoder(z)

    def forward(self, x: Any) -> tuple[Any, Any, Any]:
        """``(logits, mu, logvar)``: one reparameterised sample per image (the mean code in eval mode)."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar) if self.training else mu
        return self.decode(z), mu, logvar

    def loss_terms(self, x: Any) -> dict[str, Any]:
        """``{'loss': recon + beta * kl, 'recon', 'kl'}`` in nats per image (one-sample estimate of -ELBO)."""
        mu, logvar = self.encode(x)
        logits = self.decode(reparameterize(mu, logvar))
        recon = bernoulli_nll(logits, x)
        kl = gaussian_kl(mu, logvar).mean()
        return {"loss": recon + kl * self.beta, "recon": recon.detach(), "kl": kl.detach()}

    def images(self, logits: Any) -> Any:
        """Pixel probabilities shaped as images (N, C, H, W)."""
        return logits.sigmoid().reshape(len(logits), *self.input_shape)

    def reconstruct(self, x: Any) -> Any:
        """The decoded mean code of each image (probabilities), shaped like ``x``."""
        mu, _ = self.encode(x)
        return self.decode(mu).sigmoid().reshape(x.shape)

    def sample(self, n: int, seed: int | None = None, generator: Any = None) -> Any:
        """``n`` images (N, C, H, W) decoded from prior draws ``z ~ N(0, I)`` (``seed`` makes them reproducible),
        computed in eval mode without a graph."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        gen = gradlab.Generator(seed) if seed is not None else generator
        dtype = self.fc_mu.weight.dtype
        z = gradlab.randn(int(n), self.latent_dim, generator=gen, dtype=dtype)
        was = self.training
        self.eval()
        try:
            with gradlab.no_grad():
                return self.images(self.decode(z))
        finally:
            self.train(was)


register_model("vae", VAE)
