"""The DCGAN row of ``benchmarks/zoo.py`` (issue 17): the same DCGAN trained by gradlab and by torch.

Both sides build ``gradlab.models.GAN(kind="dcgan")``'s architecture, with ``(c0, c1)`` the channels at 1/4 and
1/2 resolution (default ``DCGAN_CHANNELS``) and ``z`` of ``DCGAN_LATENT`` values:

* G: Linear(z, c0*7*7, no bias) -> BatchNorm1d -> ReLU -> (c0, 7, 7) -> ConvTranspose2d(c0, c1, 4, 2, 1, no bias)
  -> BatchNorm2d -> ReLU -> ConvTranspose2d(c1, 1, 4, 2, 1) -> tanh;
* D: Conv2d(1, c1, 4, 2, 1) -> LeakyReLU(0.2) -> Conv2d(c1, c0, 4, 2, 1, no bias) -> BatchNorm2d -> LeakyReLU(0.2)
  -> Linear(c0*7*7, 1).

Recipe (gradlab's ``train_gan``): images scaled to [-1, 1]; batch ``DCGAN_BATCH``; per batch one D step on
``BCE(D(x), 1) + BCE(D(G(z).detach()), 0)`` (real and fake batches through D separately, so D's BatchNorm sees
each on its own), then one G step on the non-saturating ``BCE(D(G(z)), 1)`` with the same fakes; two Adams
(2e-4, betas (0.5, 0.999)); each library's default init (torch's; gradlab copies it; no N(0, 0.02) re-init,
which gradlab's GAN does not do). 1,000 samples are drawn with G in eval mode (BatchNorm running statistics), as
``GAN.sample`` does, and judged by ``zoo._judge``.

Workers return ``{"epoch_times": [...], "d_loss": [...], "g_loss": [...]}`` (per-epoch means) and save the
samples (1000, 1, 28, 28) in [0, 1] to ``args["samples"]``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DCGAN_BATCH", "DCGAN_CHANNELS", "DCGAN_LATENT", "gradlab_dcgan", "torch_dcgan"]

DCGAN_LATENT = 100
DCGAN_CHANNELS = (64, 32)
DCGAN_BATCH = 64
LR, BETAS = 2e-4, (0.5, 0.999)


def _data(args: dict[str, Any]) -> np.ndarray:
    from gradlab.train.generative_runs import load_images

    return load_images("mnist", train=True, limit=args.get("limit"))[0]


def gradlab_dcgan(args: dict[str, Any]) -> dict[str, Any]:
    """Train gradlab's ``GAN(kind="dcgan")`` with ``train_gan`` and save 1,000 eval-mode samples."""
    import gradlab
    from gradlab.models import GAN
    from gradlab.train.generative import train_gan

    gradlab.manual_seed(args["seed"])
    c0, c1 = args.get("channels", DCGAN_CHANNELS)
    gan = GAN(latent_dim=args.get("latent", DCGAN_LATENT), kind="dcgan", channels=(c0, c1))
    hist = train_gan(gan, _data(args), args["epochs"], args.get("batch", DCGAN_BATCH), LR, betas=BETAS,
                     seed=args["seed"])
    np.save(args["samples"], np.asarray(gan.sample(1000, seed=1).data, dtype=np.float32))
    return {"epoch_times": hist.history["time"], "d_loss": hist.history["d_loss"], "g_loss": hist.history["g_loss"]}


def torch_dcgan(args: dict[str, Any]) -> dict[str, Any]:
    """The same DCGAN and loop in torch; samples with G in eval mode, like ``GAN.sample``."""
    import time

    import torch
    from torch import nn

    torch.manual_seed(args["seed"])
    c0, c1 = args.get("channels", DCGAN_CHANNELS)
    latent, batch = args.get("latent", DCGAN_LATENT), args.get("batch", DCGAN_BATCH)
    x = torch.from_numpy(_data(args) * 2 - 1)
    g = nn.Sequential(nn.Linear(latent, c0 * 49, bias=False), nn.BatchNorm1d(c0 * 49), nn.ReLU(),
                      nn.Unflatten(1, (c0, 7, 7)),
                      nn.ConvTranspose2d(c0, c1, 4, 2, 1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
                      nn.ConvTranspose2d(c1, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, c1, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(c1, c0, 4, 2, 1, bias=False), nn.BatchNorm2d(c0), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(c0 * 49, 1))
    og = torch.optim.Adam(g.parameters(), lr=LR, betas=BETAS)
    od = torch.optim.Adam(d.parameters(), lr=LR, betas=BETAS)
    bce = nn.functional.binary_cross_entropy_with_logits
    rng = np.random.default_rng(args["seed"])
    times: list[float] = []
    losses: dict[str, list[float]] = {"d_loss": [], "g_loss": []}
    for _ in range(args["epochs"]):
        t0 = time.perf_counter()
        sums = [0.0, 0.0]
        order = torch.from_numpy(rng.permutation(len(x)))
        for start in range(0, len(x), batch):
            real = x[order[start:start + batch]]
            fake = g(torch.randn(len(real), latent))
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
            sums[0] += dl.item() * len(real)
            sums[1] += gl.item() * len(real)
        times.append(time.perf_counter() - t0)
        losses["d_loss"].append(sums[0] / len(x))
        losses["g_loss"].append(sums[1] / len(x))
    g.eval()
    with torch.no_grad():
        samples = ((g(torch.randn(1000, latent)) + 1) / 2).numpy().reshape(1000, 1, 28, 28)
    np.save(args["samples"], samples.astype(np.float32))
    return {"epoch_times": times, **losses}
