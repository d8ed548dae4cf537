"""Fixtures for the training tests: a small synthetic classification problem and a model/optimizer factory."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.data import DataLoader, TensorDataset


def blobs(n: int = 256, features: int = 8, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs: class c centred at a random point, unit noise (separable enough to learn in a few epochs)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.5, size=(classes, features))
    y = rng.integers(0, classes, size=n)
    x = centres[y] + rng.normal(size=(n, features))
    return x.astype(np.float32), y.astype(np.int64)


@pytest.fixture
def problem():
    """``make(seed, shuffle_gen=True, dropout=0.3)`` -> (model, loss_fn, optimizer, train_loader, val_loader)."""

    def make(seed: int = 0, own_generator: bool = True, dropout: float = 0.3, batch_size: int = 32, lr: float = 0.01):
        x, y = blobs()
        gradlab.manual_seed(seed)
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 3))
        opt = optim.Adam(model.parameters(), lr=lr)
        gen = gradlab.Generator(123) if own_generator else None
        train = DataLoader(TensorDataset(gradlab.from_numpy(x[:192]), gradlab.from_numpy(y[:192])),
                           batch_size=batch_size, shuffle=True, generator=gen)
        val = DataLoader(TensorDataset(gradlab.from_numpy(x[192:]), gradlab.from_numpy(y[192:])), batch_size=64)
        return model, nn.CrossEntropyLoss(), opt, train, val

    return make
