"""gradlab.kernels.norm: the numba BatchNorm loops against their NumPy twins, and the op's running statistics and
gradients against torch on both kernel sets."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import kernels, nn
from gradlab.kernels import _norm_loops, norm
from tests.helpers import assert_close, to_torch

needs_numba = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-11, atol=1e-11)}
SHAPES = [(7, 5), (16, 3), (4, 3, 5, 6), (2, 3, 7), (3, 1, 1, 1), (2, 4, 1, 1)]


def _close(a, b, dtype):
    np.testing.assert_allclose(a, b, **TOL[dtype])


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_loops_equal_the_twin(dtype, shape, affine):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 50).astype(dtype)  # a mean far from zero: the shifted sums matter
    w = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    b = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    with kernels.use("numba"):
        got = norm.batch_norm_train(x, w, b, 1e-5)
    ref = norm.batch_norm_train_numpy(x, w, b, 1e-5)
    assert got[0].dtype == dtype and got[0].shape == shape
    for g_, r_ in zip(got, ref):
        _close(g_, r_, dtype)
    g = rng.standard_normal(shape).astype(dtype)
    with kernels.use("numba"):
        back = norm.batch_norm_train_backward(g, x, got[1], got[3], w)
    ref_back = norm.batch_norm_train_backward_numpy(g, x, ref[1], ref[3], w)
    for g_, r_ in zip(back, ref_back):
        assert g_.dtype == dtype
        _close(g_, r_, dtype)


def test_loops_uncompiled_give_the_twins_numbers():
    """The loops' logic, run as plain Python (no numba needed), against the twin, in float64."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 4))
    w, b = rng.standard_normal(2), rng.standard_normal(2)
    out, mean, var, inv = np.empty_like(x), np.empty(2), np.empty(2), np.empty(2)
    _norm_loops.batch_norm_forward_loop.py_func(x, w, b, 1e-5, out, mean, var, inv)
    ref = norm.batch_norm_train_numpy(x, w, b, 1e-5)
    for a, r in zip((out, mean, var, inv), ref):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(x.shape)
    gx, gw, gb = np.empty_like(x), np.empty(2), np.empty(2)
    _norm_loops.batch_norm_backward_loop.py_func(g, x, mean, inv, w, gx, gw, gb)
    for a, r in zip((gx, gw, gb), norm.batch_norm_train_backward_numpy(g, x, mean, inv, w)):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


def test_one_value_per_channel_is_refused():
    with kernels.use("numpy"), pytest.raises(ValueError, match="more than 1 value per channel"):
        norm.batch_norm_train(np.ones((1, 3)), None, None, 1e-5)


@pytest.mark.kernel_sets
@pytest.mark.parametrize("module,shape", [(nn.BatchNorm1d, (16, 5)), (nn.BatchNorm1d, (4, 5, 3)),
                                          (nn.BatchNorm2d, (4, 3, 5, 7))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_training_steps_match_torch(kernel_set, module, shape, dtype):
    """Three training steps: outputs, input/weight/bias gradients and the running statistics equal torch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    ours = module(shape[1], momentum=0.3)
    theirs = getattr(torch.nn, module.__name__)(shape[1], momentum=0.3).to(getattr(torch, dtype))
    ours.to(getattr(gradlab, dtype))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    for step in range(3):
        x = (rng.standard_normal(shape) * (step + 1) + 2.0).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        xg = gradlab.tensor(x, requires_grad=True)
        xt = to_torch(x, requires_grad=True)
        out, t_out = ours(xg), theirs(xt)
        out.backward(gradlab.tensor(g))
        t_out.backward(to_torch(g))
        assert_close(out, t_out, **tol)
        assert_close(xg.grad, xt.grad, **tol)
        assert_close(ours.weight.grad, theirs.weight.grad, **tol)
        assert_close(ours.bias.grad, theirs.bias.grad, **tol)
        assert_close(ours.running_mean, theirs.running_mean, **tol)
        assert_close(ours.running_var, theirs.running_var, **tol)
        ours.zero_grad()
        theirs.zero_grad()
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape).astype(dtype)
    assert_close(ours(gradlab.tensor(x)), theirs(to_torch(x)), **tol)


@needs_numba
def test_batch_norm_inplace_change_of_input_is_detected():
    """The fused path saves the input itself (the NumPy path keeps xhat): an in-place change must be caught."""
    x = gradlab.randn(6, 3, requires_grad=True)
    y = x * 1.0
    with kernels.use("numba"):
        out = nn.functional.batch_norm(y, None, None, training=True)
    with gradlab.no_grad():
        y.add_(1.0)
    with kernels.use("numba"), pytest.raises(RuntimeError, match="modified by an inplace"):
        out.sum().backward()
