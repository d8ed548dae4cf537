"""Training loops of the unsupervised zoo: :func:`train_autoencoder` (AutoEncoder, DenoisingAutoEncoder,
SparseAutoEncoder, VAE: anything with ``loss_terms(x)``) and :func:`train_gan` (two optimizers, non-saturating
losses, a callback after each epoch for the fixed-noise sample grid).

Both take the images as one numpy array (N, C, H, W) in [0, 1], shuffle it with their own ``numpy`` generator
(``seed``), and return a :class:`~gradlab.train.history.History` with every term the model reports, per epoch, plus
``val_*`` terms when validation images are given, and ``time`` (seconds per epoch). A NaN or infinite loss stops
training with a ``FloatingPointError`` naming the epoch and batch.

>>> import numpy as np, gradlab
>>> from gradlab.models import VAE
>>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
<...>
>>> x = np.random.default_rng(0).random((64, 1, 28, 28)).astype(np.float32)
>>> hist = train_autoencoder(VAE(hidden=(32,), latent_dim=2), x, epochs=2, batch_size=32, x_val=x[:16])
>>> sorted(hist.history)
['kl', 'loss', 'recon', 'time', 'val_kl', 'val_loss', 'val_recon']
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import gradlab
from gradlab.train.history import History

__all__ = ["train_autoencoder", "evaluate_autoencoder", "evaluate_denoising", "train_gan"]


def _value(t: Any) -> float:
    return float(np.asarray(getattr(t, "data", t)))


def _images(x: Any, who: str) -> np.ndarray:
    a = np.asarray(getattr(x, "data", x))
    if a.ndim < 2 or len(a) == 0:
        raise ValueError(f"{who}: expected a non-empty batch of images, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{who}: images must be floating point in [0, 1], got {a.dtype}")
    return a


def _check_finite(value: float, epoch: int, batch: int) -> None:
    if not math.isfinite(value):
        raise FloatingPointError(f"training loss is {value} at epoch {epoch + 1}, batch {batch + 1}: training stopped. "
                                 "Try a lower learning rate.")


def evaluate_autoencoder(model: Any, x: Any, batch_size: int = 500) -> dict[str, float]:
    """The means of ``model.loss_terms`` over ``x`` (eval mode, no graph; the mode is restored).

    >>> from gradlab.models import AutoEncoder
    >>> x = np.random.default_rng(0).random((8, 1, 28, 28)).astype(np.float32)
    >>> sorted(evaluate_autoencoder(AutoEncoder(hidden=(8,), code_size=2), x))
    ['loss', 'recon']
    """
    data = _images(x, "evaluate_autoencoder")
    was = getattr(model, "training", False)
    model.eval()
    sums: dict[str, float] = {}
    try:
        with gradlab.no_grad():
            for start in range(0, len(data), batch_size):
                xb = data[start:start + batch_size]
                for k, v in model.loss_terms(gradlab.tensor(xb)).items():
                    sums[k] = sums.get(k, 0.0) + _value(v) * len(xb)
    finally:
        model.train(was)
    return {k: v / len(data) for k, v in sums.items()}


def evaluate_denoising(model: Any, x: Any, noise: str = "gaussian", level: float = 0.5, seed: int = 0,
                       batch_size: int = 500) -> float:
    """Mean reconstruction loss (Bernoulli NLL, nats per image) of the clean ``x`` from a corrupted copy
    (``noise`` ``'gaussian'``: add N(0, level^2) and clip to [0, 1]; ``'mask'``: zero each pixel with probability
    ``level``), with the model in eval mode; the same noise for every model given the same ``seed``.

    >>> import numpy as np
    >>> from gradlab.models import AutoEncoder
    >>> x = np.random.default_rng(0).random((8, 1, 28, 28)).astype(np.float32)
    >>> evaluate_denoising(AutoEncoder(hidden=(8,), code_size=2), x) > 0
    True
    """
    from gradlab.models.autoencoder import bernoulli_nll

    data = _images(x, "evaluate_denoising")
    rng = np.random.default_rng(seed)
    if noise == "gaussian":
        noisy = np.clip(data + rng.standard_normal(data.shape).astype(data.dtype) * level, 0, 1).astype(data.dtype)
    elif noise == "mask":
        noisy = data * (rng.random(data.shape) >= level).astype(data.dtype)
    else:
        raise ValueError(f"noise must be 'gaussian' or 'mask', got {noise!r}")
    was = getattr(model, "training", False)
    model.eval()
    total = 0.0
    try:
        with gradlab.no_grad():
            for start in range(0, len(data), batch_size):
                xb = gradlab.tensor(noisy[start:start + batch_size])
                logits = model.decode(model.encode(xb))
                total += _value(bernoulli_nll(logits, gradlab.tensor(data[start:start + batch_size]))) * len(xb)
    finally:
        model.train(was)
    return total / len(data)


def train_autoencoder(model: Any, x: Any, epochs: int = 10, batch_size: int = 128, lr: float = 1e-3,
                      seed: int = 0, x_val: Any = None, optimizer: Any = None,
                      on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
                      log: Callable[[str], None] | None = None) -> History:
    """Minimise ``model.loss_terms(batch)['loss']`` with Adam (``lr``) unless ``optimizer`` is given.

    ``on_epoch_end(epoch, logs)`` runs after each epoch; ``log`` receives a one-line summary per epoch.

    >>> import gradlab
    >>> from gradlab.models.autoencoder import AutoEncoder
    >>> gradlab.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> x = np.random.default_rng(0).random((16, 1, 4, 4)).astype(np.float32)
    >>> h = train_autoencoder(AutoEncoder((1, 4, 4), hidden=(8,), code_size=2), x, epochs=2, batch_size=8)
    >>> len(h["loss"]), sorted(h.history)
    (2, ['loss', 'recon', 'time'])
    >>> train_autoencoder(AutoEncoder((1, 4, 4), hidden=(8,)), x, epochs=0)
    Traceback (most recent call last):
        ...
    ValueError: epochs and batch_size must be >= 1, got 0, 128
    """
    data = _images(x, "train_autoencoder")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    opt = optimizer if optimizer is not None else gradlab.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    history = History()
    model.train()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(data))
        sums: dict[str, float] = {}
        for b, start in enumerate(range(0, len(data), batch_size)):
            xb = gradlab.tensor(data[order[start:start + batch_size]])
            terms = model.loss_terms(xb)
            loss = terms["loss"]
            value = _value(loss)
            _check_finite(value, epoch, b)
            opt.zero_grad()
            loss.backward()
            opt.step()
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + (value if k == "loss" else _value(v)) * len(xb)
        logs = {k: v / len(data) for k, v in sums.items()}
        if x_val is not None:
            logs.update({f"val_{k}": v for k, v in evaluate_autoencoder(model, x_val).items()})
        logs["time"] = time.perf_counter() - t0
        history.append(epoch, logs)
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k} {v:.4g}" for k, v in logs.items()))
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs)
    return history


def train_gan(gan: Any, x: Any, epochs: int = 10, batch_size: int = 64, lr: float = 2e-4,
              betas: tuple[float, float] = (0.5, 0.999), seed: int = 0,
              on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
              log: Callable[[str], None] | None = None) -> History:
    """Alternate one discriminator step and one generator step per batch, each with its own Adam.

    D minimises ``BCE(D(x), 1) + BCE(D(G(z)), 0)`` (the fake batch detached), then G minimises the
    non-saturating ``BCE(D(G(z)), 1)`` on the same fakes. Images ``x`` are in [0, 1] and scaled to [-1, 1].
    Logged per epoch: ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake`` (the mean probabilities D gives real and
    generated images), ``time``.

    >>> from gradlab.models import GAN
    >>> x = np.random.default_rng(0).random((32, 1, 28, 28)).astype(np.float32)
    >>> hist = train_gan(GAN(latent_dim=4, hidden=(8, 8)), x, epochs=1, batch_size=16)
    >>> sorted(hist.history)
    ['d_fake', 'd_loss', 'd_real', 'g_loss', 'time']
    """
    from gradlab.models.gan import discriminator_loss, generator_loss

    data = _images(x, "train_gan")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    signed = data * data.dtype.type(2) - data.dtype.type(1)
    opt_g = gradlab.optim.Adam(gan.generator.parameters(), lr=lr, betas=betas)
    opt_d = gradlab.optim.Adam(gan.discriminator.parameters(), lr=lr, betas=betas)
    rng = np.random.default_rng(seed)
    noise_gen = gradlab.Generator(seed + 1)
    history = History()
    gan.train()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(signed))
        sums = {"d_loss": 0.0, "g_loss": 0.0, "d_real": 0.0, "d_fake": 0.0}
        n_seen = 0
        for b, start in enumerate(range(0, len(signed), batch_size)):
            real = gradlab.tensor(signed[order[start:start + batch_size]])
            n = len(real)
            fake = gan(gan.noise(n, generator=noise_gen))
            real_logits = gan.discriminator(real)
            fake_logits = gan.discriminator(fake.detach())
            d_loss = discriminator_loss(real_logits, fake_logits)
            _check_finite(_value(d_loss), epoch, b)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = generator_loss(gan.discriminator(fake))
            _check_finite(_value(g_loss), epoch, b)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            sums["d_loss"] += _value(d_loss) * n
            sums["g_loss"] += _value(g_loss) * n
            sums["d_real"] += float(np.mean(1.0 / (1.0 + np.exp(-np.asarray(real_logits._data, np.float64))))) * n
            sums["d_fake"] += float(np.mean(1.0 / (1.0 + np.exp(-np.asarray(fake_logits._data, np.float64))))) * n
            n_seen += n
        logs = {k: v / n_seen for k, v in sums.items()}
        logs["time"] = time.perf_counter() - t0
        history.append(epoch, logs)
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k} {v:.4g}" for k, v in logs.items()))
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs)
    return history
