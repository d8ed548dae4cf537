"""Shared helpers for the nn tests: copy torch weights into gradlab modules, run both, compare values and grads."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.helpers import assert_close, to_torch

__all__ = ["TOL", "copy_from_torch", "compare_module", "tol"]

TOL = {np.dtype(np.float64): (1e-6, 1e-8), np.dtype(np.float32): (1e-5, 1e-6)}


def tol(dtype: Any) -> dict:
    rtol, atol = TOL[np.dtype(dtype)]
    return {"rtol": rtol, "atol": atol}


def copy_from_torch(gl_module: Any, torch_module: Any) -> None:
    """Load the torch module's state dict (as numpy arrays) into the gradlab module (strict)."""
    gl_module.load_state_dict({k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()})


def compare_module(gl_module: Any, torch_module: Any, x: np.ndarray, dtype: Any = np.float64, seed: int = 0) -> None:
    """Same weights, same input: outputs, input gradient and every parameter gradient match torch."""
    import gradlab

    dtype = np.dtype(dtype)
    if dtype == np.float64:
        torch_module.double()
        gl_module.double()
    copy_from_torch(gl_module, torch_module)
    x = np.asarray(x, dtype=dtype)
    gx = gradlab.tensor(x, requires_grad=True)
    tx = to_torch(x, requires_grad=True)
    gy, ty = gl_module(gx), torch_module(tx)
    assert gy.dtype == dtype, f"output dtype {gy.dtype}, expected {dtype}"
    assert_close(gy, ty, **tol(dtype), msg="forward")
    up = np.random.default_rng(seed).standard_normal(gy.shape).astype(dtype)
    gy.backward(up)
    ty.backward(to_torch(up))
    assert_close(gx.grad, tx.grad, **tol(dtype), msg="input grad")
    tparams = dict(torch_module.named_parameters())
    gparams = dict(gl_module.named_parameters())
    assert list(gparams) == list(tparams)
    for name, tp in tparams.items():
        assert_close(gparams[name].grad, tp.grad, **tol(dtype), msg=f"grad of {name}")
