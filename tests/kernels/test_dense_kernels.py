"""gradlab.kernels.dense: each numba loop equals its NumPy twin (both dtypes, edge sizes), and the twins compute the
right functions and gradients (float64 central differences)."""
from __future__ import annotations

import numpy as np
import pytest

from gradlab import kernels
from gradlab.kernels import _dense_loops as L
from gradlab.kernels import dense

numba_only = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")
SHAPES = [(1, 1), (1, 7), (9, 1), (3, 5), (200, 100), (64, 513)]
DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return {"rtol": 2e-5, "atol": 2e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}


@numba_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_bias_relu_loop_equals_twin(shape, dtype):
    rng = np.random.default_rng(0)
    h = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    ref, got = h.copy(), h.copy()
    dense.bias_act_numpy(ref, b, "relu")
    L.bias_relu(got, b)
    np.testing.assert_array_equal(got, ref)


@numba_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("act", ["relu", "tanh", "logistic"])
def test_backward_loops_equal_twin(act, shape, dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape).astype(dtype)
    dense.bias_act_numpy(a, np.zeros(shape[1], dtype), act)
    if act == "relu":
        a[0, 0] = 0.0  # the derivative at 0 is 0, as gradlab's and torch's relu
    d = rng.standard_normal(shape).astype(dtype)
    ref, got = d.copy(), d.copy()
    gb_ref, gb_got = np.empty(shape[1], dtype), np.full(shape[1], np.nan, dtype)
    dense.act_backward_numpy(ref, a, act, gb_ref)
    {"relu": L.relu_backward_sum, "tanh": L.tanh_backward_sum, "logistic": L.logistic_backward_sum}[act](
        got, a, gb_got
    )
    np.testing.assert_allclose(got, ref, **_tol(dtype))
    np.testing.assert_allclose(gb_got, gb_ref, rtol=_tol(dtype)["rtol"], atol=10 * _tol(dtype)["atol"])


@numba_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 10), (7, 2), (200, 10), (33, 64), (5, 65)])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_ce_loop_equals_twin(shape, dtype, weighted):
    rng = np.random.default_rng(2)
    z = (rng.standard_normal(shape) * 5).astype(dtype)
    z[0, 0] = 80.0  # large logits: the max is subtracted
    t = rng.integers(0, shape[1], shape[0])
    w = rng.random(shape[0]).astype(dtype) if weighted else None
    ref, got = z.copy(), z.copy()
    gb_ref, gb_got = np.empty(shape[1], dtype), np.full(shape[1], np.nan, dtype)
    loss_ref = dense.softmax_ce_grad_numpy(ref, t, w, 0.25, gb_ref)
    wk = np.empty(0, dtype) if w is None else w
    loss_got = L.softmax_ce_grad(got, t.astype(np.int64), wk, 0.25, gb_got)
    np.testing.assert_allclose(got, ref, **_tol(dtype))
    np.testing.assert_allclose(gb_got, gb_ref, rtol=_tol(dtype)["rtol"], atol=10 * _tol(dtype)["atol"])
    assert loss_got == pytest.approx(loss_ref, rel=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.kernel_sets
@pytest.mark.parametrize("act", ["identity", "relu", "tanh", "logistic"])
def test_dispatchers_agree_with_twins_on_both_kernel_sets(act):
    rng = np.random.default_rng(3)
    h = rng.standard_normal((50, 40)).astype(np.float32)  # 2000 elements: above DENSE_THRESHOLD
    b = rng.standard_normal(40).astype(np.float32)
    ref, got = h.copy(), h.copy()
    dense.bias_act_numpy(ref, b, act)
    dense.bias_act_(got, b, act)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)
    d = rng.standard_normal((50, 40)).astype(np.float32)
    d_ref, d_got = d.copy(), d.copy()
    gb_ref, gb_got = np.empty(40, np.float32), np.empty(40, np.float32)
    dense.act_backward_numpy(d_ref, ref, act, gb_ref)
    dense.act_backward_(d_got, got, act, gb_got)
    np.testing.assert_allclose(d_got, d_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb_got, gb_ref, rtol=1e-5, atol=1e-5)


def _fd_grad(f, z, eps=1e-6):
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += eps
        zm[idx] -= eps
        g[idx] = (f(zp) - f(zm)) / (2 * eps)
    return g


@pytest.mark.parametrize("out", ["softmax", "logistic", "identity", "exp"])
@pytest.mark.parametrize("weighted", [False, True])
def test_output_grad_is_the_gradient_of_the_loss(out, weighted):
    rng = np.random.default_rng(4)
    z = rng.standard_normal((6, 3))
    if out == "softmax":
        t = rng.integers(0, 3, 6)
    elif out == "logistic":
        t = (rng.random((6, 3)) > 0.5).astype(np.float64)
    else:
        t = rng.random((6, 3)) * 2
    w = rng.random(6) if weighted else None

    def loss(zz):
        return dense.output_grad_(zz.copy(), t, w, 0.3, out, np.empty(3))

    g, gb = z.copy(), np.empty(3)
    with kernels.use("numpy"):
        value = dense.output_grad_(g, t, w, 0.3, out, gb)
    assert value == pytest.approx(loss(z), rel=1e-12)
    np.testing.assert_allclose(g, _fd_grad(loss, z), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, g.sum(axis=0), rtol=1e-12)


def test_softmax_loss_value_is_the_cross_entropy():
    z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    t = np.array([1, 2])
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = -np.log(p[[0, 1], t]).mean()
    assert dense.softmax_ce_grad_numpy(z.copy(), t, None, 0.5, np.empty(3)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("act", ["relu", "tanh", "logistic", "identity"])
def test_act_backward_is_the_derivative(act):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3)) + 0.05  # keep away from relu's kink

    def fwd(xx):
        h = xx.copy()
        dense.bias_act_numpy(h, np.zeros(3), act)
        return h

    a = fwd(x)
    d, gb = np.ones_like(x), np.empty(3)
    dense.act_backward_numpy(d, a, act, gb)
    eps = 1e-6
    np.testing.assert_allclose(d, (fwd(x + eps) - fwd(x - eps)) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_bad_names_raise():
    h = np.zeros((2, 2))
    with pytest.raises(ValueError, match="activation must be one of"):
        dense.bias_act_numpy(h, np.zeros(2), "gelu")
    with pytest.raises(ValueError, match="output must be one of"):
        dense.output_grad_(h, h, None, 1.0, "softmax2", np.empty(2))
