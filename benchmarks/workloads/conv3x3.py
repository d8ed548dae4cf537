"""One 3x3 convolution layer, forward and backward: 64 -> 64 channels, 32x32 maps, padding 1, batch 32, float32.

A step is the layer's forward and the backward of a fixed upstream gradient (input, weight and bias gradients).
"""

from __future__ import annotations

import numpy as np

__all__ = ["setup_gradlab", "setup_torch", "STEPS"]

STEPS = 20
WARMUP = 3
BATCH, CH, SIZE = 32, 64, 32


def _arrays() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, CH, SIZE, SIZE), dtype=np.float32)
    g = rng.standard_normal((BATCH, CH, SIZE, SIZE), dtype=np.float32)
    return x, g


def _make_step(lib, nn, x, g):
    lib.manual_seed(0)
    conv = nn.Conv2d(CH, CH, 3, padding=1)
    x.requires_grad_(True)

    def step():
        x.grad = None
        conv.zero_grad()
        conv(x).backward(g)
        return conv.weight.grad

    return step


def setup_gradlab():
    import gradlab
    from gradlab import nn

    x, g = _arrays()
    return _make_step(gradlab, nn, gradlab.from_numpy(x), gradlab.from_numpy(g))


def setup_torch():
    import torch
    from torch import nn

    x, g = _arrays()
    return _make_step(torch, nn, torch.from_numpy(x), torch.from_numpy(g))
