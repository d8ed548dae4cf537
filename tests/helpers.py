"""Comparing gradlab with torch: the one place tests convert values and check closeness.

Use from any test module as ``from tests.helpers import assert_close, to_numpy, to_torch``.
Every function accepts gradlab Tensors, numpy arrays, torch tensors and plain Python numbers or lists.

>>> assert_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-9]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["to_numpy", "to_torch", "assert_close", "default_tolerances", "import_torchvision"]


def to_numpy(x: Any) -> np.ndarray:
    """The values of ``x`` as a numpy array (no copy where none is needed)."""
    data = getattr(x, "_data", None)
    if isinstance(data, (np.ndarray, np.generic)):  # a gradlab Tensor (or Parameter): ._data holds its values
        return np.asarray(data)
    if type(x).__module__.startswith("torch"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def to_torch(x: Any, requires_grad: bool | None = None):
    """A torch tensor with the same values and dtype as ``x``, sharing no memory with it.

    ``requires_grad=None`` copies the flag from a gradlab Tensor (False for anything else).
    """
    import torch

    out = torch.from_numpy(np.array(to_numpy(x), copy=True))
    if requires_grad is None:
        requires_grad = bool(getattr(x, "requires_grad", False))
    if requires_grad:
        out.requires_grad_(True)
    return out


def default_tolerances(*dtypes: np.dtype) -> tuple[float, float]:
    """(rtol, atol) like ``torch.testing.assert_close``, for the least precise of ``dtypes``; exact for ints/bools."""
    kinds = [np.dtype(d) for d in dtypes]
    if not any(d.kind in "fc" for d in kinds):
        return 0.0, 0.0
    if any(d == np.float16 for d in kinds):
        return 1e-3, 1e-5
    if any(d in (np.float32, np.complex64) for d in kinds):
        return 1.3e-6, 1e-5
    return 1e-7, 1e-7


def assert_close(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    *,
    check_dtype: bool = False,
    msg: str = "",
) -> None:
    """Assert equal shapes and ``|actual - expected| <= atol + rtol * |expected|`` elementwise.

    Tolerances default per dtype (see ``default_tolerances``). ``None`` on both sides passes (e.g. two missing grads);
    ``None`` on one side fails.
    """
    if actual is None or expected is None:
        assert actual is None and expected is None, f"{msg} one side is None: actual={actual!r}, expected={expected!r}"
        return
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{msg} shape mismatch: actual {a.shape} vs expected {e.shape}"
    if check_dtype:
        assert a.dtype == e.dtype, f"{msg} dtype mismatch: actual {a.dtype} vs expected {e.dtype}"
    d_rtol, d_atol = default_tolerances(a.dtype, e.dtype)
    np.testing.assert_allclose(
        a, e, rtol=d_rtol if rtol is None else rtol, atol=d_atol if atol is None else atol, err_msg=msg
    )


_TORCHVISION_OPS: list = []  # keeps the operator definitions below alive for the whole process


def import_torchvision() -> Any:
    """``torchvision`` (0.28.0, the reference for ``gradlab.data.transforms``), importable beside the CPU torch.

    The wheel on disk is a CUDA build: its C extension ``torchvision._C`` does not load next to torch 2.13.0+cpu,
    so the ``torchvision::*`` operators are never defined, and ``torchvision/_meta_registrations.py`` then fails at
    import time registering fake kernels for ``torchvision::nms`` and ``torchvision::qnms`` ("operator
    torchvision::nms does not exist"; its other registrations are skipped when the extension is missing). Defining
    those two schemas first (without kernels: calling them still fails) lets the pure-Python parts, the transforms,
    import. Skips the calling test when torchvision is not installed.
    """
    import pytest
    import torch

    if not _TORCHVISION_OPS and not hasattr(torch.ops.torchvision, "nms"):
        lib = torch.library.Library("torchvision", "DEF")  # noqa: TOR901 - a schema-only definition, no kernels
        for name in ("nms", "qnms"):
            lib.define(f"{name}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _TORCHVISION_OPS.append(lib)
    return pytest.importorskip("torchvision")
