"""Autoencoders for images in [0, 1]: ``AutoEncoder`` (MLP or convolutional), ``DenoisingAutoEncoder`` (Gaussian or
masking noise on the input, the clean image as target) and ``SparseAutoEncoder`` (an L1 penalty on the code, or a
KL divergence between a target mean activation and each code unit's batch mean).

Every model here has ``encode(x)``, ``decode(z)`` (logits), ``reconstruct(x)`` (probabilities, the input's shape)
and ``loss_terms(x)``: a dict whose ``'loss'`` is the Tensor to minimise and whose other entries (Tensors without a
graph) are logged per epoch by :func:`gradlab.train.generative.train_generative`. The reconstruction term is the
Bernoulli negative log-likelihood (binary cross-entropy of the logits, summed over pixels, averaged over images).

>>> import gradlab
>>> ae = AutoEncoder(input_shape=(1, 28, 28), hidden=(64,), code_size=8)
>>> x = gradlab.rand(4, 1, 28, 28)
>>> ae.encode(x).shape, ae.reconstruct(x).shape
(gradlab.Size([4, 8]), gradlab.Size([4, 1, 28, 28]))
>>> sorted(ae.loss_terms(x))
['loss', 'recon']
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.models.registry import register_model

__all__ = ["AutoEncoder", "DenoisingAutoEncoder", "SparseAutoEncoder", "bernoulli_nll", "check_images"]


class _Unflatten(nn.Module):
    """(N, prod(shape)) -> (N, *shape)."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x: Any) -> Any:
        return x.reshape(len(x), *self.shape)


def _shape3(input_shape: Any) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in ([input_shape] if isinstance(input_shape, int) else input_shape))
    if len(shape) == 1:
        shape = (1, 1, shape[0])
    if len(shape) == 2:
        shape = (1,) + shape
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (C, H, W), (H, W) or a size, got {input_shape!r}")
    return shape  # type: ignore[return-value]


def check_images(x: Any, shape: tuple[int, ...], who: str) -> None:
    """Raise ``ValueError`` unless ``x`` is a batch of ``shape`` images (or of flat vectors of the same size).

    >>> check_images(gradlab.zeros(2, 1, 28, 28), (1, 28, 28), "VAE")
    >>> check_images(gradlab.zeros(2, 1, 32, 32), (1, 28, 28), "VAE")
    Traceback (most recent call last):
    ...
    ValueError: VAE was built for 1x28x28 inputs (784 values) but got a batch of shape (2, 1, 32, 32)
    """
    size = int(np.prod(shape))
    s = tuple(x.shape)
    if not (len(s) >= 2 and (s[1:] == tuple(shape) or s[1:] == (size,))):
        raise ValueError(f"{who} was built for {'x'.join(map(str, shape))} inputs ({size} values) but got a batch "
                         f"of shape {s}")


def bernoulli_nll(logits: Any, target: Any) -> Any:
    """Binary cross-entropy of ``logits`` against ``target`` in [0, 1], summed over each sample's values and
    averaged over the batch (nats per sample).

    >>> round(bernoulli_nll(gradlab.zeros(2, 3), gradlab.ones(2, 3)).item(), 4)  # 3 * log 2
    2.0794
    """
    t = target.reshape(logits.shape)
    return nn.functional.binary_cross_entropy_with_logits(logits, t, reduction="sum") / len(logits)


def _mlp(sizes: Sequence[int], act: str = "relu", last_act: bool = False) -> list[Any]:
    from gradlab.models.mlp import make_activation

    layers: list[Any] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or last_act:
            layers.append(make_activation(act))
    return layers


class AutoEncoder(nn.Module):
    """An autoencoder: ``x -> code -> logits of x``.

    Args:
        input_shape: (C, H, W) of the images (default (1, 28, 28)).
        hidden: MLP variant: the encoder's hidden widths (the decoder mirrors them).
        code_size: size of the code (bottleneck).
        kind: ``'mlp'`` or ``'conv'`` (two stride-2 3x3 convolutions, 16 and 32 channels, then a Linear to the
            code; the decoder mirrors them with ``ConvTranspose2d``; H and W must be multiples of 4).
        code_activation: activation after the code layer (``None``: linear code).

    >>> import gradlab
    >>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> ae, x = AutoEncoder((1, 4, 4), hidden=(8,), code_size=2), gradlab.rand(3, 1, 4, 4)
    >>> ae.encode(x).shape, ae(x).shape
    (gradlab.Size([3, 2]), gradlab.Size([3, 1, 4, 4]))
    >>> sorted(ae.loss_terms(x))
    ['loss', 'recon']
    """

    def __init__(self, input_shape: Any = (1, 28, 28), hidden: Sequence[int] = (256,), code_size: int = 32,
                 kind: str = "mlp", code_activation: str | None = None) -> None:
        super().__init__()
        from gradlab.models.mlp import make_activation

        shape = _shape3(input_shape)
        if code_size < 1:
            raise ValueError(f"code_size must be positive, got {code_size}")
        if kind not in ("mlp", "conv"):
            raise ValueError(f"kind must be 'mlp' or 'conv', got {kind!r}")
        hidden = [int(h) for h in ([hidden] if isinstance(hidden, int) else hidden)]
        self.input_shape = shape
        self.code_size = int(code_size)
        self.kind = kind
        c, h, w = shape
        size = c * h * w
        if kind == "mlp":
            enc = [nn.Flatten(), *_mlp([size, *hidden, self.code_size], last_act=False)]
            dec = _mlp([self.code_size, *hidden[::-1], size])
        else:
            if h % 4 or w % 4:
                raise ValueError(f"the conv autoencoder needs H and W divisible by 4, got {h}x{w}")
            flat = 32 * (h // 4) * (w // 4)
            enc = [nn.Conv2d(c, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2, padding=1),
                   nn.ReLU(), nn.Flatten(), nn.Linear(flat, self.code_size)]
            dec = [nn.Linear(self.code_size, flat), nn.ReLU(), _Unflatten((32, h // 4, w // 4)),
                   nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                   nn.ConvTranspose2d(16, c, 3, stride=2, padding=1, output_padding=1), nn.Flatten()]
        if code_activation is not None:
            enc.append(make_activation(code_activation))
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)
        self._config: dict[str, Any] = {"input_shape": list(shape), "hidden": hidden, "code_size": self.code_size,
                                        "kind": kind, "code_activation": code_activation}

    def config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able): ``type(m)(**m.config())`` rebuilds the architecture."""
        return dict(self._config)

    def _images(self, x: Any) -> Any:
        check_images(x, self.input_shape, type(self).__name__)
        return x.reshape(len(x), *self.input_shape)

    def encode(self, x: Any) -> Any:
        """The code (N, code_size) of a batch of images."""
        return self.encoder(self._images(x))

    def decode(self, z: Any) -> Any:
        """Logits (N, C*H*W) of the images decoded from codes ``z``."""
        return self.decoder(z)

    def forward(self, x: Any) -> Any:
        """Reconstruction logits, shaped like the images (N, C, H, W)."""
        return self.decode(self.encode(x)).reshape(len(x), *self.input_shape)

    def reconstruct(self, x: Any) -> Any:
        """Reconstructed images (probabilities in [0, 1]), shaped like ``x``."""
        return self(x).sigmoid().reshape(x.shape)

    def loss_terms(self, x: Any) -> dict[str, Any]:
        """``{'loss', 'recon'}``: the Bernoulli reconstruction loss (nats per image)."""
        recon = bernoulli_nll(self.decode(self.encode(x)), x)
        return {"loss": recon, "recon": recon.detach()}


class DenoisingAutoEncoder(AutoEncoder):
    """An autoencoder trained to undo noise: the encoder sees a corrupted image, the loss compares the decoding
    with the clean one. Corruption happens only in training mode (``loss_terms``) or when asked (:meth:`corrupt`).

    Args:
        noise: ``'gaussian'`` (add N(0, noise_level^2), clip to [0, 1]) or ``'mask'`` (set each pixel to 0 with
            probability ``noise_level``).
        noise_level: the standard deviation or the masking probability.
        other arguments: as :class:`AutoEncoder`.

    >>> import gradlab
    >>> dae = DenoisingAutoEncoder((1, 4, 4), hidden=(8,), code_size=2, noise="mask", noise_level=0.5)
    >>> dae.corrupt(gradlab.ones(3, 1, 4, 4), generator=gradlab.Generator().manual_seed(0)).shape
    gradlab.Size([3, 1, 4, 4])
    >>> DenoisingAutoEncoder(noise="salt")
    Traceback (most recent call last):
        ...
    ValueError: noise must be 'gaussian' or 'mask', got 'salt'
    """

    def __init__(self, input_shape: Any = (1, 28, 28), hidden: Sequence[int] = (256,), code_size: int = 32,
                 kind: str = "mlp", code_activation: str | None = None, noise: str = "gaussian",
                 noise_level: float = 0.5) -> None:
        super().__init__(input_shape, hidden, code_size, kind, code_activation)
        if noise not in ("gaussian", "mask"):
            raise ValueError(f"noise must be 'gaussian' or 'mask', got {noise!r}")
        if not noise_level >= 0 or (noise == "mask" and noise_level >= 1):
            raise ValueError(f"noise_level must be >= 0 (and < 1 for masking), got {noise_level}")
        self.noise = noise
        self.noise_level = float(noise_level)
        self._config.update(noise=noise, noise_level=self.noise_level)

    def corrupt(self, x: Any, generator: Any = None) -> Any:
        """A noisy copy of ``x`` (no graph), drawn from ``generator`` (default: the global one)."""
        data = np.asarray(getattr(x, "data", x))
        rng = gradlab.backend.rng(generator)
        if self.noise == "gaussian":
            noisy = np.clip(data + rng.standard_normal(data.shape).astype(data.dtype) * self.noise_level, 0.0, 1.0)
        else:
            noisy = data * (rng.random(data.shape) >= self.noise_level).astype(data.dtype)
        return gradlab.tensor(noisy.astype(data.dtype, copy=False))

    def loss_terms(self, x: Any) -> dict[str, Any]:
        """Reconstruction of the clean ``x`` from a corrupted copy (training mode; the clean ``x`` in eval)."""
        inp = self.corrupt(x) if self.training else x
        recon = bernoulli_nll(self.decode(self.encode(inp)), x)
        return {"loss": recon, "recon": recon.detach()}


class SparseAutoEncoder(AutoEncoder):
    """An autoencoder whose code is pushed to be sparse.

    Args:
        penalty: ``'l1'`` (``weight * mean_n sum_j |h_nj|``, ReLU code) or ``'kl'`` (``weight * sum_j
            KL(target || mean_n h_nj)`` between Bernoulli means, sigmoid code).
        sparsity_weight: the penalty's weight.
        target: the target mean activation of each code unit for ``'kl'`` (in (0, 1)).
        other arguments: as :class:`AutoEncoder` (``code_activation`` is chosen by the penalty).

    ``loss_terms`` also reports ``code_mean``, the mean code activation of the batch.

    >>> import gradlab
    >>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> sae = SparseAutoEncoder((1, 4, 4), hidden=(8,), code_size=5, penalty="l1")
    >>> sorted(sae.loss_terms(gradlab.rand(3, 1, 4, 4)))
    ['code_mean', 'loss', 'recon', 'sparsity']
    """

    def __init__(self, input_shape: Any = (1, 28, 28), hidden: Sequence[int] = (256,), code_size: int = 64,
                 kind: str = "mlp", penalty: str = "kl", sparsity_weight: float = 1.0, target: float = 0.05) -> None:
        if penalty not in ("l1", "kl"):
            raise ValueError(f"penalty must be 'l1' or 'kl', got {penalty!r}")
        if not 0.0 < target < 1.0:
            raise ValueError(f"target must be in (0, 1), got {target}")
        if not sparsity_weight >= 0:
            raise ValueError(f"sparsity_weight must be >= 0, got {sparsity_weight}")
        super().__init__(input_shape, hidden, code_size, kind, "relu" if penalty == "l1" else "sigmoid")
        self.penalty = penalty
        self.sparsity_weight = float(sparsity_weight)
        self.target = float(target)
        self._config.pop("code_activation")
        self._config.update(penalty=penalty, sparsity_weight=self.sparsity_weight, target=self.target)

    def sparsity(self, code: Any) -> Any:
        """The (unweighted) sparsity penalty of a batch of codes."""
        if self.penalty == "l1":
            return code.abs().sum() / len(code)
        rho = self.target
        rho_hat = code.mean(0).clamp(1e-6, 1 - 1e-6)
        kl = rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()
        return kl.sum()

    def loss_terms(self, x: Any) -> dict[str, Any]:
        """Reconstruction + ``sparsity_weight`` * penalty; also ``sparsity`` and ``code_mean``."""
        code = self.encode(x)
        recon = bernoulli_nll(self.decode(code), x)
        sparse = self.sparsity(code)
        return {"loss": recon + sparse * self.sparsity_weight, "recon": recon.detach(), "sparsity": sparse.detach(),
                "code_mean": code.detach().mean()}


register_model("ae", AutoEncoder)
register_model("dae", DenoisingAutoEncoder)
register_model("sae", SparseAutoEncoder)
