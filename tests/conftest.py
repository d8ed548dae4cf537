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


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "kernel_sets: run the test once per kernel set (numpy and, where numba is installed, numba; gradlab.kernels)",
    )


def pytest_generate_tests(metafunc) -> None:
    """Tests marked ``kernel_sets`` (or in a module with ``pytestmark = pytest.mark.kernel_sets``) run on both kernel
    sets, so a numba kernel can never drift from its NumPy twin. Without numba the numba run is skipped, not failed."""
    if metafunc.definition.get_closest_marker("kernel_sets") is None:
        return
    if "kernel_set" not in metafunc.fixturenames:
        metafunc.fixturenames.append("kernel_set")
    metafunc.parametrize("kernel_set", ["numpy", "numba"], indirect=True)


@pytest.fixture(autouse=True)
def _kernel_sets_marker(request) -> None:
    """Make the ``kernel_sets`` marker take effect in tests that do not ask for ``kernel_set`` by name: pytest builds a
    test's fixture list before ``pytest_generate_tests`` runs, so the appended name alone would parametrise the test
    without ever forcing the kernel set."""
    if request.node.get_closest_marker("kernel_sets") is not None:
        request.getfixturevalue("kernel_set")


@pytest.fixture
def kernel_set(request):
    """The kernel set a ``kernel_sets`` test runs on (forced with ``gradlab.kernels.use`` for the test's duration)."""
    name = getattr(request, "param", "numpy")
    from gradlab import kernels

    if name == "numba" and not kernels.numba_available():
        pytest.skip("numba is not installed (pip install 'gradlab[fast]')")
    with kernels.use(name):
        yield name
