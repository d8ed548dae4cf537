"""``GAN``: a generator and a discriminator for images (Goodfellow et al. 2014), MLP or DCGAN-style.

* ``kind='mlp'``: G = z -> 256 -> 512 -> C*H*W (LeakyReLU 0.2, tanh out); D = C*H*W -> 512 -> 256 -> 1.
* ``kind='dcgan'`` (Radford et al. 2016): G = Linear(z, c0*H/4*W/4) -> BatchNorm1d -> ReLU -> reshape ->
  ConvTranspose2d(c0, c1, 4, 2, 1) -> BatchNorm2d -> ReLU -> ConvTranspose2d(c1, C, 4, 2, 1) -> tanh;
  D = Conv2d(C, c1, 4, 2, 1) -> LeakyReLU -> Conv2d(c1, c0, 4, 2, 1) -> BatchNorm2d -> LeakyReLU -> Linear -> 1.

Generated pixels are in [-1, 1] (train on images scaled that way, :func:`to_signed`); :meth:`GAN.sample` returns
them mapped back to [0, 1]. The losses are the non-saturating ones: D minimises ``BCE(D(x), 1) + BCE(D(G(z)), 0)``,
G minimises ``BCE(D(G(z)), 1)`` (:func:`discriminator_loss`, :func:`generator_loss`); the two networks get separate
optimizers (see :func:`gradlab.train.generative.train_gan`).

>>> import gradlab
>>> gan = GAN(latent_dim=16, kind="mlp", hidden=(32, 64))
>>> gan.sample(4, seed=0).shape, gan.discriminator(gradlab.zeros(4, 1, 28, 28)).shape
(gradlab.Size([4, 1, 28, 28]), gradlab.Size([4]))
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.models.autoencoder import _shape3, _Unflatten, check_images
from gradlab.models.registry import register_model

__all__ = ["GAN", "discriminator_loss", "generator_loss", "to_signed"]


def to_signed(x: Any) -> Any:
    """Images in [0, 1] -> [-1, 1] (the generator's tanh range).

    >>> to_signed(gradlab.tensor([0.0, 0.5, 1.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    return x * 2.0 - 1.0


def discriminator_loss(real_logits: Any, fake_logits: Any) -> Any:
    """``BCE(D(x), 1) + BCE(D(G(z)), 0)`` (batch means) from the discriminator's logits.

    >>> round(discriminator_loss(gradlab.zeros(3), gradlab.zeros(3)).item(), 4)  # 2 log 2
    1.3863
    """
    bce = nn.functional.binary_cross_entropy_with_logits
    return bce(real_logits, gradlab.ones(*real_logits.shape, dtype=real_logits.dtype)) + \
        bce(fake_logits, gradlab.zeros(*fake_logits.shape, dtype=fake_logits.dtype))


def generator_loss(fake_logits: Any) -> Any:
    """The non-saturating generator loss ``BCE(D(G(z)), 1) = -mean log D(G(z))``.

    >>> round(generator_loss(gradlab.zeros(3)).item(), 4)
    0.6931
    """
    return nn.functional.binary_cross_entropy_with_logits(
        fake_logits, gradlab.ones(*fake_logits.shape, dtype=fake_logits.dtype))


class _Discriminator(nn.Module):
    def __init__(self, body: nn.Module, shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.body = body
        self.input_shape = shape

    def forward(self, x: Any) -> Any:
        check_images(x, self.input_shape, "GAN discriminator")
        return self.body(x.reshape(len(x), *self.input_shape)).reshape(-1)


class GAN(nn.Module):
    """Generator + discriminator.

    Args:
        latent_dim: size of the noise vector z (required: a GAN has no default latent size).
        kind: ``'mlp'`` or ``'dcgan'``.
        input_shape: (C, H, W) of the images (default (1, 28, 28); H and W multiples of 4 for ``'dcgan'``).
        hidden: ``'mlp'``: the generator's hidden widths (the discriminator mirrors them); default (256, 512).
        channels: ``'dcgan'``: (c0, c1), the feature maps at 1/4 and 1/2 resolution; default (64, 32).

    ``generator(z)`` gives images (N, C, H, W) in [-1, 1]; ``discriminator(x)`` gives one logit per image (N,).

    >>> gan = GAN(latent_dim=3, input_shape=(1, 4, 4), hidden=(8,))
    >>> images = gan.sample(2, seed=0)
    >>> images.shape, gan.discriminator(images).shape, bool(images.abs().max().item() <= 1)
    (gradlab.Size([2, 1, 4, 4]), gradlab.Size([2]), True)
    >>> GAN()
    Traceback (most recent call last):
        ...
    ValueError: GAN needs a latent size: latent_dim must be a positive int, got None
    """

    def __init__(self, latent_dim: int | None = None, kind: str = "mlp", input_shape: Any = (1, 28, 28),
                 hidden: Sequence[int] = (256, 512), channels: Sequence[int] = (64, 32)) -> None:
        super().__init__()
        if latent_dim is None or isinstance(latent_dim, bool) or int(latent_dim) < 1:
            raise ValueError(f"GAN needs a latent size: latent_dim must be a positive int, got {latent_dim!r}")
        if kind not in ("mlp", "dcgan"):
            raise ValueError(f"kind must be 'mlp' or 'dcgan', got {kind!r}")
        shape = _shape3(input_shape)
        self.input_shape = shape
        self.latent_dim = int(latent_dim)
        self.kind = kind
        c, h, w = shape
        size = c * h * w
        hidden = [int(v) for v in ([hidden] if isinstance(hidden, int) else hidden)]
        c0, c1 = (int(v) for v in channels)
        if kind == "mlp":
            g: list[Any] = []
            width = self.latent_dim
            for v in hidden:
                g += [nn.Linear(width, v), nn.LeakyReLU(0.2)]
                width = v
            g += [nn.Linear(width, size), nn.Tanh(), _Unflatten(shape)]
            d: list[Any] = [nn.Flatten()]
            width = size
            for v in hidden[::-1]:
                d += [nn.Linear(width, v), nn.LeakyReLU(0.2)]
                width = v
            d.append(nn.Linear(width, 1))
        else:
            if h % 4 or w % 4:
                raise ValueError(f"the DCGAN needs H and W divisible by 4, got {h}x{w}")
            q = (c0, h // 4, w // 4)
            g = [nn.Linear(self.latent_dim, int(np.prod(q)), bias=False), nn.BatchNorm1d(int(np.prod(q))), nn.ReLU(),
                 _Unflatten(q),
                 nn.ConvTranspose2d(c0, c1, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
                 nn.ConvTranspose2d(c1, c, 4, stride=2, padding=1), nn.Tanh()]
            d = [nn.Conv2d(c, c1, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                 nn.Conv2d(c1, c0, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c0), nn.LeakyReLU(0.2),
                 nn.Flatten(), nn.Linear(int(np.prod(q)), 1)]
        self.generator = nn.Sequential(*g)
        self.discriminator = _Discriminator(nn.Sequential(*d), shape)
        self._config: dict[str, Any] = {"latent_dim": self.latent_dim, "kind": kind, "input_shape": list(shape),
                                        "hidden": hidden, "channels": [c0, c1]}

    def config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able): ``GAN(**m.config())`` rebuilds the architecture."""
        return dict(self._config)

    def noise(self, n: int, seed: int | None = None, generator: Any = None) -> Any:
        """``n`` latent vectors z ~ N(0, I) (``seed`` or ``generator`` make them reproducible)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        gen = gradlab.Generator(seed) if seed is not None else generator
        dtype = next(iter(self.generator.parameters())).dtype
        return gradlab.randn(int(n), self.latent_dim, generator=gen, dtype=dtype)

    def forward(self, z: Any) -> Any:
        """Generated images (N, C, H, W) in [-1, 1]."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"GAN: expected noise of shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.generator(z)

    def sample(self, n: int, seed: int | None = None, generator: Any = None, z: Any = None) -> Any:
        """``n`` images (N, C, H, W) in [0, 1], generated in eval mode without a graph (from ``z`` if given)."""
        z = self.noise(n, seed, generator) if z is None else z
        was = self.training
        self.eval()
        try:
            with gradlab.no_grad():
                return (self(z) + 1.0) * 0.5
        finally:
            self.train(was)


register_model("gan", GAN)
