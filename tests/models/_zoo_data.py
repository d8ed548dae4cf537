"""Small image sets for the zoo's model tests: 256 MNIST training digits in [0, 1] (or a skip)."""
from __future__ import annotations

import functools

import numpy as np
import pytest


@functools.lru_cache(maxsize=1)
def _mnist() -> np.ndarray | None:
    try:
        from gradlab.train.generative_runs import load_images

        return load_images("mnist", train=True, limit=256)[0]
    except (OSError, ValueError, RuntimeError):
        return None


def mnist_subset(n: int = 256) -> np.ndarray:
    """The first ``n`` (<= 256) MNIST training images (N, 1, 28, 28) float32 in [0, 1]; skips without MNIST."""
    x = _mnist()
    if x is None:
        pytest.skip("MNIST files not available")
    return x[:n]


def grads_of(model) -> dict[str, bool]:
    """name -> whether the parameter received a nonzero gradient."""
    from tests.helpers import to_numpy

    return {name: p.grad is not None and bool(np.abs(to_numpy(p.grad)).sum() > 0)
            for name, p in model.named_parameters()}
