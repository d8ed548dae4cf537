"""The kernel-set switch: environment variable, Python switch, errors, and the lazy compile."""
from __future__ import annotations

import subprocess
import sys

import pytest

from gradlab import kernels
from gradlab.kernels import _select


def test_use_restores_previous_choice():
    with kernels.use("numpy"):
        assert kernels.backend() == "numpy"
        assert not kernels.wants_numba(10**9)
    with kernels.use("numpy"):
        with kernels.use("auto"):
            pass
        assert kernels.backend() == "numpy"


def test_bad_names_are_refused(monkeypatch):
    with pytest.raises(ValueError, match="kernel set"):
        kernels.set_backend("cuda")
    monkeypatch.setenv("GRADLAB_KERNELS", "fortran")
    with pytest.raises(ValueError, match="GRADLAB_KERNELS"):
        kernels.backend()


def test_environment_variable_chooses(monkeypatch):
    monkeypatch.setenv("GRADLAB_KERNELS", "numpy")
    assert kernels.backend() == "numpy"
    assert not kernels.wants_numba(10**9)


def test_auto_keeps_small_problems_on_numpy():
    with kernels.use("auto"):
        assert not kernels.wants_numba(10, threshold=1000)
        assert kernels.wants_numba(10**6, threshold=1000) == kernels.numba_available()


def test_forcing_numba_without_numba_names_the_extra(monkeypatch):
    monkeypatch.setattr(_select, "_numba_found", False)
    with pytest.raises(ImportError, match=r"gradlab\[fast\]"):
        kernels.set_backend("numba")
    with pytest.raises(ImportError, match=r"gradlab\[fast\]"):
        with kernels.use("numba"):
            pass
    monkeypatch.setenv("GRADLAB_KERNELS", "numba")
    with pytest.raises(ImportError, match=r"gradlab\[fast\]"):
        kernels.wants_numba(10)


def test_import_gradlab_does_not_import_numba():
    code = "import sys, gradlab, gradlab.kernels; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.kernel_sets
def test_kernel_set_fixture_forces_the_set(kernel_set):
    assert kernels.backend() == kernel_set
    assert kernels.wants_numba(1) == (kernel_set == "numba")


def test_lazy_kernel_compiles_on_first_call():
    pytest.importorskip("numba")

    @kernels.njit()
    def add(a, b):
        return a + b

    assert add._compiled is None
    assert add(2, 3) == 5
    assert add._compiled is not None


@pytest.mark.kernel_sets
@pytest.mark.parametrize("unused", [0])
def test_marker_forces_the_set_without_the_fixture_by_name(request, unused):
    """A marked test that does not name ``kernel_set`` still runs once on each set, really forced."""
    expected = request.node.callspec.params["kernel_set"]
    assert kernels.backend() == expected
