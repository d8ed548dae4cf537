"""gradlab.kernels.conv: the numba loops against their NumPy twins (both dtypes, odd shapes, ties, NaN), and the
fused max-pool path of the op against torch."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
import gradlab.nn.functional as F
from gradlab import kernels
from gradlab.kernels import _conv_loops, conv
from tests.helpers import assert_close, to_torch

DTYPES = [np.float32, np.float64]
needs_numba = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")


def _pool_input(rng, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0, 0, :4] = 1.5  # ties along a row (first window: offsets 0 and 1; second: 0 and 1)
    x[0, 0, 1, :2] = 1.5  # a window of four equal values -> offset 0
    x.flat[-1] = np.nan  # a NaN in the last window (when it is inside one)
    return x


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (3, 2, 7, 9), (1, 1, 2, 3), (2, 5, 11, 6)])
def test_max_pool2x2_loops_equal_the_twin(dtype, shape):
    rng = np.random.default_rng(0)
    x = _pool_input(rng, shape, dtype)
    with kernels.use("numba"):
        out, arg = conv.max_pool2x2(x)
    ref, ref_arg = conv.max_pool2x2_numpy(x)
    assert out.dtype == dtype and arg.dtype == np.uint8
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(arg, ref_arg)
    g = rng.standard_normal(out.shape).astype(dtype)
    with kernels.use("numba"):
        gx = conv.max_pool2x2_backward(g, arg, x.shape)
    np.testing.assert_array_equal(gx, conv.max_pool2x2_backward_numpy(g, ref_arg, x.shape))
    assert gx.shape == x.shape and gx.dtype == dtype


def test_max_pool2x2_twin_picks_the_first_maximum_and_the_last_nan():
    x = np.array([[[[2.0, 2.0], [2.0, 2.0]]], [[[1.0, np.nan], [np.nan, 0.0]]]]).reshape(2, 1, 2, 2)
    out, arg = conv.max_pool2x2_numpy(x)
    assert arg.ravel().tolist() == [0, 2]
    assert out[0].item() == 2.0 and np.isnan(out[1].item())
    loop_out, loop_arg = np.empty((2, 1, 1)), np.empty((2, 1, 1), np.uint8)
    _conv_loops.max_pool2x2_loop.py_func(x.reshape(2, 2, 2), loop_out, loop_arg)  # the loop's logic, uncompiled
    assert loop_arg.ravel().tolist() == [0, 2]


COL2IM_GEOMETRIES = [  # kernel, stride, pad4 (top, bottom, left, right), dilation, (H, W)
    ((3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (9, 8)),
    ((5, 5), (1, 1), (2, 2, 2, 2), (1, 1), (7, 6)),
    ((3, 2), (2, 3), (0, 1, 1, 0), (2, 1), (11, 9)),
    ((2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (5, 7)),  # non-overlapping, leftovers at the bottom/right
    ((1, 3), (3, 1), (0, 0, 2, 1), (1, 2), (8, 5)),
]


def _out_hw(kernel, stride, pad4, dilation, hw):
    return tuple((hw[a] + pad4[2 * a] + pad4[2 * a + 1] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1
                 for a in (0, 1))


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel,stride,pad4,dilation,hw", COL2IM_GEOMETRIES)
def test_col2im_loop_equals_the_twin(dtype, kernel, stride, pad4, dilation, hw):
    n, c = 3, 2
    ho, wo = _out_hw(kernel, stride, pad4, dilation, hw)
    cols = np.random.default_rng(1).standard_normal((c * kernel[0] * kernel[1], n * ho * wo)).astype(dtype)
    with kernels.use("numba"):
        got = conv.col2im(cols, (n, c, *hw), kernel, stride, pad4, dilation, (ho, wo))
    ref = conv.col2im_numpy(cols, (n, c, *hw), kernel, stride, pad4, dilation, (ho, wo))
    assert got.dtype == dtype and got.shape == (n, c, *hw)
    np.testing.assert_array_equal(got, ref)  # same additions in the same order


@pytest.mark.parametrize("kernel,stride,pad4,dilation,hw", [g for g in COL2IM_GEOMETRIES if g[1] != (1, 1)])
def test_col2im_twin_is_the_adjoint_of_im2col(kernel, stride, pad4, dilation, hw):
    """<im2col(x), c> == <x, col2im(c)>: the twin is the reference, so check it independently."""
    from gradlab.ops._im2col import _im2col

    rng = np.random.default_rng(2)
    ho, wo = _out_hw(kernel, stride, pad4, dilation, hw)
    x = rng.standard_normal((2, 3, *hw))  # (stride 1 would give the wide column layout: not this adjoint)
    cols, _ = _im2col(x, kernel[0], kernel[1], stride, pad4, dilation, ho, wo)
    c = rng.standard_normal(cols.shape)
    lhs = float(np.sum(cols * c))
    rhs = float(np.sum(x * conv.col2im_numpy(c, x.shape, kernel, stride, pad4, dilation, (ho, wo))))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_small_problems_stay_on_numpy_under_auto(monkeypatch):
    calls = []
    monkeypatch.setattr(conv.loops, "max_pool2x2_loop", lambda *a: calls.append(a))
    with kernels.use("auto"):
        conv.max_pool2x2(np.ones((1, 1, 4, 4), np.float32))  # 16 elements < POOL_THRESHOLD
    assert calls == []


def test_integer_inputs_take_the_twin():
    with kernels.use("auto"):
        out, arg = conv.max_pool2x2(np.arange(16).reshape(1, 1, 4, 4))
    assert out.dtype.kind == "i" and out.ravel().tolist() == [5, 7, 13, 15]


@pytest.mark.kernel_sets
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (3, 2, 7, 5)])
def test_max_pool2d_2x2_with_ties_and_indices_matches_torch(kernel_set, dtype, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal(shape) * 2).astype(dtype)  # many ties
    g = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2)).astype(dtype)
    xg = gradlab.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(xg, 2, return_indices=True)
    out.backward(gradlab.tensor(g))
    xt = to_torch(x, requires_grad=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(xt, 2, return_indices=True)
    t_out.backward(to_torch(g))
    assert_close(out, t_out, rtol=0, atol=0)
    np.testing.assert_array_equal(np.asarray(idx.numpy()), t_idx.numpy())
    assert_close(xg.grad, xt.grad, rtol=0, atol=0)

