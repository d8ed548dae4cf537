"""Fixtures shared by every test directory. Torch comparisons go through ``tests/helpers.py``."""

from __future__ import annotations

import numpy as np
import pytest

try:
    import gradlab
except ImportError:  # the core is not importable: the tests that need it fail on their own import
    gradlab = None


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Every test starts from the same random state (numpy's global one and gradlab's default generator)."""
    np.random.seed(0)
    seed = getattr(gradlab, "manual_seed", None)
    if seed is not None:
        seed(0)


@pytest.fixture
def torch():
    """The reference implementation, seeded; the test is skipped where torch is not installed."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch
