"""The matrix products of one linear layer's train step (128x784 @ 784x512 and its two backward products).

Not a gradlab workload as such: numpy against torch, the floor that any gradlab layer stands on.
"""

from __future__ import annotations

import numpy as np

__all__ = ["setup_gradlab", "setup_torch", "STEPS"]

STEPS = 200
BATCH, IN, OUT = 128, 784, 512


def _arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, IN), dtype=np.float32)
    w = rng.standard_normal((IN, OUT), dtype=np.float32)
    g = rng.standard_normal((BATCH, OUT), dtype=np.float32)
    return x, w, g


def setup_gradlab():
    x, w, g = _arrays()

    def step():
        y = x @ w
        gx = g @ w.T
        gw = x.T @ g
        return y, gx, gw

    return step


def setup_torch():
    import torch

    x, w, g = (torch.from_numpy(a) for a in _arrays())

    def step():
        with torch.no_grad():
            y = x @ w
            gx = g @ w.T
            gw = x.T @ g
        return y, gx, gw

    return step
