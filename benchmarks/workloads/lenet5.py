"""One training step of LeNet-5 on MNIST-shaped data: batch 128 of 1x28x28, Adam(lr=1e-3), cross-entropy, float32.

The network is gradlab.models.LeNet5 (conv 6@5x5 pad 2, ReLU, max-pool, conv 16@5x5, ReLU, max-pool, FC 120-84-10)
and the same layers in torch. A step is zero_grad, forward, loss, backward, optimizer step on a fixed batch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["setup_gradlab", "setup_torch", "STEPS"]

STEPS = 50
BATCH = 128


def _batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, BATCH)


def _make_step(model, optim, loss_fn, x, y):
    model.train()
    opt = optim.Adam(model.parameters(), lr=1e-3)

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
    from gradlab.models import LeNet5

    x, y = _batch()
    gradlab.manual_seed(0)
    return _make_step(LeNet5(), optim, nn.CrossEntropyLoss(), gradlab.from_numpy(x), gradlab.from_numpy(y))


def setup_torch():
    import torch
    from torch import nn, optim

    x, y = _batch()
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip
    return _make_step(model, optim, nn.CrossEntropyLoss(), torch.from_numpy(x), torch.from_numpy(y))
