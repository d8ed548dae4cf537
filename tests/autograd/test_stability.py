"""Numerical stability at extreme inputs (+-1e4): values and gradients finite and correct."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradlab
from tests.helpers import assert_close, to_numpy, to_torch

EXTREME = [-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4]
DTYPES = [np.float32, np.float64]


def _leaf(values, dtype):
    return gradlab.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def _finite(t) -> bool:
    return bool(np.all(np.isfinite(to_numpy(t))))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_extremes(dtype) -> None:
    x = _leaf(EXTREME, dtype)
    y = x.sigmoid()
    y.sum().backward()
    assert _finite(y) and _finite(x.grad)
    assert to_numpy(y)[0] == 0.0 and to_numpy(y)[-1] == 1.0
    assert to_numpy(y)[3] == 0.5
    assert to_numpy(x.grad)[0] == 0.0 and to_numpy(x.grad)[-1] == 0.0
    assert to_numpy(x.grad)[3] == pytest.approx(0.25)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_extremes(dtype) -> None:
    x = _leaf(EXTREME, dtype)
    y = gradlab.nn.functional.softplus(x)
    y.sum().backward()
    assert _finite(y) and _finite(x.grad)
    np.testing.assert_allclose(to_numpy(y)[[0, -1]], [0.0, 1e4])
    assert to_numpy(y)[3] == pytest.approx(math.log(2.0))
    np.testing.assert_allclose(to_numpy(x.grad)[[0, 3, -1]], [0.0, 0.5, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_extremes(dtype) -> None:
    x = _leaf([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype)
    y = gradlab.nn.functional.log_softmax(x, dim=1)
    assert _finite(y)
    np.testing.assert_allclose(to_numpy(y)[0], [0.0, -2e4, -1e4], rtol=1e-6)
    np.testing.assert_allclose(to_numpy(y)[1], [-math.log(3)] * 3, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(y)[2, :2], [-math.log(2)] * 2, rtol=1e-6)
    g = np.zeros((3, 3), dtype=dtype)
    g[:, 0] = 1.0  # d y[:, 0] / dx = onehot(0) - softmax
    y.backward(gradlab.tensor(g))
    assert _finite(x.grad)
    np.testing.assert_allclose(to_numpy(x.grad)[0], [0.0, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(to_numpy(x.grad)[1], [2 / 3, -1 / 3, -1 / 3], rtol=1e-5)
    np.testing.assert_allclose(to_numpy(x.grad)[2], [0.5, -0.5, 0.0], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_extremes(dtype) -> None:
    x = _leaf([[1e4, -1e4, 0.0], [1e4, 1e4, 1e4]], dtype)
    y = gradlab.nn.functional.softmax(x, dim=-1)
    (y[:, 0] * 3.0).sum().backward()
    assert _finite(y) and _finite(x.grad)
    np.testing.assert_allclose(to_numpy(y), [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_extremes(dtype) -> None:
    x = _leaf([[1e4, 1e4], [-1e4, -1e4], [1e4, -1e4]], dtype)
    y = x.logsumexp(dim=1)
    y.sum().backward()
    assert _finite(y) and _finite(x.grad)
    np.testing.assert_allclose(to_numpy(y), [1e4 + math.log(2), -1e4 + math.log(2), 1e4], rtol=1e-6)
    # float32 can only hold 1e4 + log 2 to ~1e-3, so exp(x - lse) is 0.5 to ~1e-4 there (torch too)
    rtol = 1e-6 if dtype == np.float64 else 5e-4
    np.testing.assert_allclose(to_numpy(x.grad), [[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]], rtol=rtol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_and_exp_of_negatives(dtype) -> None:
    x = _leaf(EXTREME, dtype)
    y = x.tanh() + (-(x.abs())).exp()
    y.sum().backward()
    assert _finite(y) and _finite(x.grad)
    np.testing.assert_allclose(to_numpy(y)[[0, -1]], [-1.0, 1.0])


@pytest.mark.parametrize(
    "name, fn",
    [
        ("sigmoid", lambda lib, x: x.sigmoid()),
        ("softplus", lambda lib, x: lib.nn.functional.softplus(x)),
        ("softplus_beta", lambda lib, x: lib.nn.functional.softplus(x, beta=3.0, threshold=10.0)),
        ("silu", lambda lib, x: lib.nn.functional.silu(x)),
        ("gelu", lambda lib, x: lib.nn.functional.gelu(x)),
        ("gelu_tanh", lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh")),
        ("elu", lambda lib, x: lib.nn.functional.elu(x)),
        ("log_softmax", lambda lib, x: lib.nn.functional.log_softmax(x, dim=0)),
        ("softmax", lambda lib, x: lib.nn.functional.softmax(x, dim=0)),
        ("logsumexp", lambda lib, x: x.logsumexp(dim=0)),
    ],
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_extremes_match_torch(name, fn, dtype, torch) -> None:
    values = np.asarray(EXTREME, dtype=dtype)
    g = np.linspace(-1.0, 1.0, len(values)).astype(dtype)
    x = gradlab.tensor(values, requires_grad=True)
    y = fn(gradlab, x)
    tx = to_torch(values, requires_grad=True)
    ty = fn(torch, tx)
    assert _finite(y), f"{name} forward not finite: {to_numpy(y)}"
    assert_close(y, ty, rtol=1e-6, atol=1e-6, msg=f"{name} forward")
    gy = g[: y.numel()].reshape(y.shape) if y.ndim else np.asarray(1.0, dtype=dtype)
    y.backward(gradlab.tensor(gy))
    ty.backward(to_torch(gy))
    assert _finite(x.grad), f"{name} gradient not finite: {to_numpy(x.grad)}"
    assert_close(x.grad, tx.grad, rtol=1e-5, atol=1e-6, msg=f"{name} gradient")
