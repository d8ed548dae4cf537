"""One training step of an MLP classifier: 784-512-512-10, ReLU, dropout 0.2, Adam(lr=1e-3), batch 128, float32.

A step is zero_grad, forward, cross-entropy loss, backward, optimizer step, on a fixed random batch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["setup_gradlab", "setup_torch", "STEPS"]

STEPS = 50
BATCH, IN, HIDDEN, CLASSES = 128, 784, 512, 10


def _batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, IN), dtype=np.float32), rng.integers(0, CLASSES, BATCH)


def _make_step(lib, nn, optim, x, y):
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(HIDDEN, CLASSES),
    )  # fmt: skip
    model.train()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def setup_gradlab():
    import gradlab
    from gradlab import nn, optim

    x, y = _batch()
    return _make_step(gradlab, nn, optim, gradlab.from_numpy(x), gradlab.from_numpy(y))


def setup_torch():
    import torch
    from torch import nn, optim

    x, y = _batch()
    return _make_step(torch, nn, optim, torch.from_numpy(x), torch.from_numpy(y))
