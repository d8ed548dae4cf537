"""Convolution, pooling and upsampling ops (gradlab/ops/conv.py through gradlab.nn.functional) against torch.

Hypothesis draws shapes, strides, paddings, dilations and groups; forward and backward are compared with torch in
float64 (rtol 1e-6) and float32 (rtol 1e-4: products of many terms accumulate in a different order than torch's
kernels); every op is also gradchecked in float64 on small cases.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gradlab
import gradlab.nn.functional as F
from tests.helpers import assert_close, to_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (function_scoped_fixture: the kernel_sets tests get the kernel set from a fixture, fixed for all examples)
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
TOL = {"float64": dict(rtol=1e-6, atol=1e-8), "float32": dict(rtol=1e-4, atol=1e-4)}


def _compare(gl_fn, torch_fn, arrays, dtype="float64", seed=0, grads=True):
    """Run both libraries on the same inputs (all requiring grad), one random upstream gradient; compare all."""
    arrays = [np.asarray(a, dtype=dtype) if a is not None else None for a in arrays]
    gl_in = [gradlab.tensor(a, requires_grad=True) if a is not None else None for a in arrays]
    t_in = [to_torch(a, requires_grad=True) if a is not None else None for a in arrays]
    out = gl_fn(*gl_in)
    ref = torch_fn(*t_in)
    assert out.dtype == np.dtype(dtype), f"dtype {out.dtype} != {dtype}"
    assert_close(out, ref, **TOL[dtype], msg="forward")
    if not grads:
        return
    g = np.random.default_rng(seed).standard_normal(ref.shape).astype(dtype)
    out.backward(gradlab.tensor(g))
    ref.backward(to_torch(g))
    for i, (a, b) in enumerate(zip(gl_in, t_in)):
        if a is not None:
            assert a.grad is not None, f"no gradient for input {i}"
            assert a.grad.dtype == np.dtype(dtype)
            assert_close(a.grad, b.grad, **TOL[dtype], msg=f"grad of input {i}")


def _rand(rng, *shape):
    return rng.standard_normal(shape)


# ---------------------------------------------------------------------------------------------------------------
# conv2d
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def conv2d_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg, og = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    assume(h + 2 * ph >= dh * (kh - 1) + 1 and w + 2 * pw >= dw * (kw - 1) + 1)
    bias = draw(st.booleans())
    return dict(n=n, c=cg * groups, o=og * groups, cg=cg, k=(kh, kw), h=h, w=w, groups=groups, bias=bias,
                stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw))


def _conv2d_arrays(case, seed):
    rng = np.random.default_rng(seed)
    x = _rand(rng, case["n"], case["c"], case["h"], case["w"])
    w = _rand(rng, case["o"], case["cg"], *case["k"])
    b = _rand(rng, case["o"]) if case["bias"] else None
    return x, w, b


@pytest.mark.kernel_sets
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(case=conv2d_cases(), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch(case, seed, dtype):
    kw = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
    _compare(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw),
             _conv2d_arrays(case, seed), dtype, seed)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("k,dilation", [((3, 3), 1), ((2, 4), 1), ((3, 2), (2, 3)), ((1, 1), 1)])
def test_conv2d_string_padding(padding, k, dilation):
    rng = np.random.default_rng(1)
    x, w, b = _rand(rng, 2, 4, 9, 8), _rand(rng, 6, 2, *k), _rand(rng, 6)
    kw = dict(padding=padding, dilation=dilation, groups=2)
    _compare(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw), [x, w, b])


def test_conv2d_depthwise_and_1x1():
    rng = np.random.default_rng(2)
    x = _rand(rng, 2, 4, 6, 6)
    kw = dict(padding=1, groups=4)
    _compare(lambda x, w: F.conv2d(x, w, **kw), lambda x, w: TF.conv2d(x, w, **kw), [x, _rand(rng, 8, 1, 3, 3)])
    _compare(lambda x, w, b: F.conv2d(x, w, b), lambda x, w, b: TF.conv2d(x, w, b),
             [x, _rand(rng, 5, 4, 1, 1), _rand(rng, 5)])
    kw = dict(stride=2)  # a strided 1x1 conv takes the im2col path
    _compare(lambda x, w: F.conv2d(x, w, **kw), lambda x, w: TF.conv2d(x, w, **kw), [x, _rand(rng, 5, 4, 1, 1)])


def test_conv2d_unbatched_input():
    rng = np.random.default_rng(3)
    _compare(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
             [_rand(rng, 3, 5, 5), _rand(rng, 2, 3, 3, 3)])


def test_conv2d_float32_stays_float32_and_input_without_grad():
    x = gradlab.randn(2, 3, 8, 8)
    conv_w = gradlab.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, conv_w, padding=1)
    assert y.dtype == np.float32 and y._data.flags.c_contiguous
    y.sum().backward()
    assert conv_w.grad.dtype == np.float32 and x.grad is None


def test_conv2d_weight_cache_off_recomputes_columns(monkeypatch):
    from gradlab.ops import conv as C

    monkeypatch.setattr(C, "COLS_CACHE_BYTES", 0)
    rng = np.random.default_rng(4)
    kw = dict(stride=2, padding=1, dilation=1)
    _compare(lambda x, w: F.conv2d(x, w, **kw), lambda x, w: TF.conv2d(x, w, **kw),
             [_rand(rng, 2, 3, 7, 7), _rand(rng, 4, 3, 3, 3)])


@pytest.mark.kernel_sets
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=conv2d_cases(), seed=st.integers(0, 2**16))
def test_conv2d_tiled_path_matches_torch(case, seed, dtype, monkeypatch):
    """Force the tiled path (stride 1, one group: the input gradient, and forward when no weight gradient is
    needed) with tiles of a few columns, so that tiles straddle rows and samples."""
    from gradlab.ops import _im2col as I
    from gradlab.ops import conv as C

    monkeypatch.setattr(I, "TILED_MIN_BYTES", 0)
    monkeypatch.setattr(I, "TILE_BYTES", 1)  # T = 64 positions per tile
    monkeypatch.setattr(C, "COLS_CACHE_BYTES", 0)  # the weight gradient too (columns "too big" to keep)
    case = dict(case, stride=(1, 1), groups=1, c=case["cg"], o=case["o"] // case["groups"])
    kw = dict(stride=1, padding=case["padding"], dilation=case["dilation"])
    _compare(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw),
             _conv2d_arrays(case, seed), dtype, seed)
    x, w, b = _conv2d_arrays(case, seed)  # inference (no weight gradient): forward itself is tiled
    with gradlab.no_grad():
        out = F.conv2d(gradlab.tensor(x.astype(dtype)), gradlab.tensor(w.astype(dtype)),
                       None if b is None else gradlab.tensor(b.astype(dtype)), **kw)
    ref = TF.conv2d(to_torch(x.astype(dtype)), to_torch(w.astype(dtype)),
                    None if b is None else to_torch(b.astype(dtype)), **kw)
    assert_close(out, ref, **TOL[dtype])


@pytest.mark.parametrize("kw", [dict(), dict(padding=2), dict(padding=(1, 0), dilation=2), dict(groups=2)])
def test_conv2d_input_grad_flat_col2im_matches_torch(kw, monkeypatch):
    """Stride 1 with more output than input channels takes the flat-grid col2im for the input gradient."""
    from gradlab.ops import conv as C

    calls = []
    real = C._col2im_flat
    monkeypatch.setattr(C, "_col2im_flat", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(5)
    x, w, b = _rand(rng, 3, 6, 9, 8), _rand(rng, 16, 6 // kw.get("groups", 1), 3, 3), _rand(rng, 16)
    _compare(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw), [x, w, b])
    assert calls, "the flat col2im path was not taken"


@pytest.mark.parametrize("k,dilation", [((2, 4), 1), ((4, 3), (1, 2))])
def test_conv2d_same_padding_with_even_kernel_on_the_tiled_and_flat_paths(k, dilation, monkeypatch):
    """'same' with an even kernel pads one more at the bottom/right: both stride-1 fast paths must follow."""
    from gradlab.ops import _im2col as I

    monkeypatch.setattr(I, "TILED_MIN_BYTES", 0)
    monkeypatch.setattr(I, "TILE_BYTES", 1)
    rng = np.random.default_rng(6)
    kw = dict(padding="same", dilation=dilation)
    for c, o in ((2, 7), (7, 2)):  # more outputs: flat col2im; more inputs: tiled convolution of the gradient
        x, w, b = _rand(rng, 2, c, 9, 8), _rand(rng, o, c, *k), _rand(rng, o)
        _compare(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw), [x, w, b])


def test_conv2d_inplace_change_of_input_is_detected():
    x = gradlab.randn(1, 2, 5, 5, requires_grad=True)
    w = gradlab.randn(3, 2, 3, 3, requires_grad=True)
    h = x * 1.0
    y = F.conv2d(h, w)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---------------------------------------------------------------------------------------------------------------
# conv1d
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def conv1d_cases(draw):
    groups = draw(st.sampled_from([1, 2]))
    cg, og, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    s, d, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 2))
    length = draw(st.integers(1, 12))
    assume(length + 2 * p >= d * (k - 1) + 1)
    return dict(n=draw(st.integers(1, 3)), c=cg * groups, cg=cg, o=og * groups, k=k, s=s, d=d, p=p, length=length,
                groups=groups)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(case=conv1d_cases(), seed=st.integers(0, 2**16))
def test_conv1d_matches_torch(case, seed, dtype):
    rng = np.random.default_rng(seed)
    x = _rand(rng, case["n"], case["c"], case["length"])
    w, b = _rand(rng, case["o"], case["cg"], case["k"]), _rand(rng, case["o"])
    kw = dict(stride=case["s"], padding=case["p"], dilation=case["d"], groups=case["groups"])
    _compare(lambda x, w, b: F.conv1d(x, w, b, **kw), lambda x, w, b: TF.conv1d(x, w, b, **kw), [x, w, b], dtype, seed)


def test_conv1d_same_padding_and_unbatched():
    rng = np.random.default_rng(5)
    x, w = _rand(rng, 3, 10), _rand(rng, 4, 3, 4)
    _compare(lambda x, w: F.conv1d(x, w, padding="same"), lambda x, w: TF.conv1d(x, w, padding="same"), [x, w])


# ---------------------------------------------------------------------------------------------------------------
# conv_transpose2d
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def conv_transpose_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    cg, og = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    for size, kk, ss, pp, oo, dd in zip((h, w), k, s, p, op, d):
        assume((size - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1 >= 1)
    return dict(n=draw(st.integers(1, 2)), cin=cg * groups, og=og, k=k, h=h, w=w, groups=groups,
                kw=dict(stride=s, padding=p, output_padding=op, dilation=d, groups=groups), bias=draw(st.booleans()))


@pytest.mark.kernel_sets
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(case=conv_transpose_cases(), seed=st.integers(0, 2**16))
def test_conv_transpose2d_matches_torch(case, seed, dtype):
    rng = np.random.default_rng(seed)
    x = _rand(rng, case["n"], case["cin"], case["h"], case["w"])
    w = _rand(rng, case["cin"], case["og"], *case["k"])
    b = _rand(rng, case["og"] * case["groups"]) if case["bias"] else None
    kw = case["kw"]
    _compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw),
             [x, w, b], dtype, seed)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the same weight and geometry."""
    rng = np.random.default_rng(6)
    x, w = gradlab.tensor(_rand(rng, 2, 4, 9, 9)), gradlab.tensor(_rand(rng, 6, 2, 3, 3))
    kw = dict(stride=2, padding=1, dilation=1, groups=2)
    y = F.conv2d(x, w, **kw)
    v = gradlab.tensor(_rand(rng, *y.shape))
    back = F.conv_transpose2d(v, w, **kw)
    assert back.shape == x.shape
    assert np.isclose(float((y * v).sum().item()), float((x * back).sum().item()), rtol=1e-10)


# ---------------------------------------------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------------------------------------------


@st.composite
def pool_cases(draw, dilation=True):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    assume(h + 2 * p[0] >= d[0] * (k[0] - 1) + 1 and w + 2 * p[1] >= d[1] * (k[1] - 1) + 1)
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w), k=k, s=s, p=p, d=d,
                ceil_mode=draw(st.booleans()))


@pytest.mark.kernel_sets
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(case=pool_cases(), seed=st.integers(0, 2**16))
def test_max_pool2d_matches_torch(case, seed, dtype):
    x = _rand(np.random.default_rng(seed), *case["shape"])
    kw = dict(kernel_size=case["k"], stride=case["s"], padding=case["p"], dilation=case["d"],
              ceil_mode=case["ceil_mode"])
    # a window wholly inside the padding is degenerate (torch then routes its gradient outside the plane)
    assume(np.isfinite(TF.max_pool2d(torch.from_numpy(x), **kw).numpy()).all())
    _compare(lambda x: F.max_pool2d(x, **kw), lambda x: TF.max_pool2d(x, **kw), [x], dtype, seed)
    out, idx = F.max_pool2d(gradlab.tensor(x), return_indices=True, **kw)
    _, tidx = TF.max_pool2d(torch.from_numpy(x), return_indices=True, **kw)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@pytest.mark.kernel_sets
def test_max_pool2d_ties_go_to_the_first_maximum_and_nan_wins():
    x = np.zeros((1, 1, 4, 4))
    _compare(lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [x])
    _compare(lambda x: F.max_pool2d(x, 3, 1, 1), lambda x: TF.max_pool2d(x, 3, 1, 1), [x])
    x[0, 0, 1, 1] = np.nan
    out = F.max_pool2d(gradlab.tensor(x), 2)
    ref = TF.max_pool2d(torch.from_numpy(x), 2)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(case=pool_cases(dilation=False), seed=st.integers(0, 2**16), include=st.booleans(),
       override=st.sampled_from([None, None, 3]))
def test_avg_pool2d_matches_torch(case, seed, dtype, include, override):
    x = _rand(np.random.default_rng(seed), *case["shape"])
    kw = dict(kernel_size=case["k"], stride=case["s"], padding=case["p"], ceil_mode=case["ceil_mode"],
              count_include_pad=include, divisor_override=override)
    _compare(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), [x], dtype, seed)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(h=st.integers(1, 10), w=st.integers(1, 10), oh=st.integers(1, 6), ow=st.one_of(st.none(), st.integers(1, 6)),
       seed=st.integers(0, 2**16))
def test_adaptive_avg_pool2d_matches_torch(h, w, oh, ow, seed, dtype):
    x = _rand(np.random.default_rng(seed), 2, 3, h, w)
    size = (oh, ow)
    _compare(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size), [x], dtype, seed)


def test_adaptive_avg_pool2d_divisible_and_global():
    x = _rand(np.random.default_rng(7), 2, 3, 8, 6)
    for size in [1, (4, 3), (2, 6), (8, 1)]:
        _compare(lambda x, size=size: F.adaptive_avg_pool2d(x, size),
                 lambda x, size=size: TF.adaptive_avg_pool2d(x, size), [x])


# ---------------------------------------------------------------------------------------------------------------
# nearest upsampling
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(h=st.integers(1, 7), w=st.integers(1, 7), seed=st.integers(0, 2**16),
       how=st.one_of(
           st.tuples(st.just("scale"), st.sampled_from([1, 2, 3, 0.5, 1.5, 2.5, 1.7])),
           st.tuples(st.just("size"), st.tuples(st.integers(1, 12), st.integers(1, 12))),
       ))
def test_interpolate_nearest_matches_torch(h, w, seed, how, dtype):
    x = _rand(np.random.default_rng(seed), 2, 2, h, w)
    kind, value = how
    kw = dict(scale_factor=value) if kind == "scale" else dict(size=value)
    if kind == "scale":
        assume(int(h * value) >= 1 and int(w * value) >= 1)
    _compare(lambda x: F.interpolate(x, mode="nearest", **kw), lambda x: TF.interpolate(x, mode="nearest", **kw),
             [x], dtype, seed)


def test_interpolate_nearest_1d():
    x = _rand(np.random.default_rng(8), 2, 3, 5)
    for kw in [dict(scale_factor=2), dict(size=7), dict(size=3)]:
        _compare(lambda x, kw=kw: F.interpolate(x, **kw), lambda x, kw=kw: TF.interpolate(x, **kw), [x])


def test_interpolate_other_modes_are_not_implemented():
    with pytest.raises(NotImplementedError, match="bilinear"):
        F.interpolate(gradlab.zeros(1, 1, 2, 2), scale_factor=2, mode="bilinear")


# ---------------------------------------------------------------------------------------------------------------
# gradcheck (float64, small) for every op
# ---------------------------------------------------------------------------------------------------------------


def _t(rng, *shape):
    return gradlab.tensor(rng.standard_normal(shape), requires_grad=True)


GRADCHECK_CASES = {
    "conv2d": (lambda r: (_t(r, 2, 4, 5, 5), _t(r, 4, 2, 3, 2), _t(r, 4)),
               lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
    "conv2d_same": (lambda r: (_t(r, 1, 2, 4, 4), _t(r, 3, 2, 2, 2)), lambda x, w: F.conv2d(x, w, padding="same")),
    "conv1d": (lambda r: (_t(r, 2, 2, 7), _t(r, 3, 2, 3), _t(r, 3)),
               lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2)),
    "conv_transpose2d": (lambda r: (_t(r, 2, 4, 3, 3), _t(r, 4, 1, 3, 2), _t(r, 2)),
                         lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)),
    "max_pool2d": (lambda r: (_t(r, 2, 2, 5, 5),), lambda x: F.max_pool2d(x, 3, 2, 1)),
    "max_pool2d_nonoverlap": (lambda r: (_t(r, 1, 2, 4, 6),), lambda x: F.max_pool2d(x, 2)),
    "avg_pool2d": (lambda r: (_t(r, 2, 2, 5, 5),),
                   lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)),
    "adaptive_avg_pool2d": (lambda r: (_t(r, 2, 2, 5, 7),), lambda x: F.adaptive_avg_pool2d(x, (3, 4))),
    "adaptive_avg_pool2d_divisible": (lambda r: (_t(r, 2, 2, 4, 6),), lambda x: F.adaptive_avg_pool2d(x, (2, 3))),
    "upsample_nearest": (lambda r: (_t(r, 1, 2, 3, 2),), lambda x: F.interpolate(x, scale_factor=2)),
    "upsample_nearest_size": (lambda r: (_t(r, 1, 2, 3, 4),), lambda x: F.interpolate(x, size=(5, 3))),
}


@pytest.mark.kernel_sets
@pytest.mark.parametrize("name", sorted(GRADCHECK_CASES))
def test_gradcheck(name):
    make, fn = GRADCHECK_CASES[name]
    assert gradlab.gradcheck(fn, make(np.random.default_rng(9)))


# ---------------------------------------------------------------------------------------------------------------
# errors name the shapes
# ---------------------------------------------------------------------------------------------------------------


def test_conv2d_channel_mismatch_names_shapes():
    with pytest.raises(RuntimeError, match=r"weight of size \[4, 3, 3, 3\].*input\[2, 5, 8, 8\].*3 channels.*5"):
        F.conv2d(gradlab.zeros(2, 5, 8, 8), gradlab.zeros(4, 3, 3, 3))


def test_conv2d_kernel_larger_than_padded_input():
    with pytest.raises(RuntimeError, match=r"padded input size per channel: \(6 x 6\).*\(7 x 7\).*can't be greater"):
        F.conv2d(gradlab.zeros(1, 1, 4, 4), gradlab.zeros(1, 1, 7, 7), padding=1)


def test_conv2d_groups_must_divide_channels():
    with pytest.raises(RuntimeError, match=r"out_channels \(5, weight of size \[5, 2, 3, 3\]\).*groups \(2\)"):
        F.conv2d(gradlab.zeros(1, 4, 8, 8), gradlab.zeros(5, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match=r"groups=3.*expected input\[1, 4, 8, 8\] to have 6 channels"):
        F.conv2d(gradlab.zeros(1, 4, 8, 8), gradlab.zeros(6, 2, 3, 3), groups=3)


def test_conv_shape_and_argument_errors():
    with pytest.raises(RuntimeError, match=r"4-D.*\[8, 8\]"):
        F.conv2d(gradlab.zeros(8, 8), gradlab.zeros(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match=r"bias of size \[3\].*\[4\]"):
        F.conv2d(gradlab.zeros(1, 1, 5, 5), gradlab.zeros(4, 1, 3, 3), gradlab.zeros(3))
    with pytest.raises(ValueError, match="strided"):
        F.conv2d(gradlab.zeros(1, 1, 5, 5), gradlab.zeros(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="padding string"):
        F.conv2d(gradlab.zeros(1, 1, 5, 5), gradlab.zeros(1, 1, 3, 3), padding="full")
    with pytest.raises(RuntimeError, match="should be the same"):
        F.conv2d(gradlab.zeros(1, 1, 5, 5), gradlab.zeros(1, 1, 3, 3, dtype=gradlab.float64))
    with pytest.raises(RuntimeError, match=r"conv1d.*\[2, 3, 5\].*\[1, 1, 3, 3\]"):
        F.conv1d(gradlab.zeros(2, 3, 5), gradlab.zeros(1, 1, 3, 3))


def test_conv_transpose2d_errors():
    with pytest.raises(RuntimeError, match=r"expected input\[1, 3, 4, 4\] to have 2 channels"):
        F.conv_transpose2d(gradlab.zeros(1, 3, 4, 4), gradlab.zeros(2, 2, 3, 3))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(gradlab.zeros(1, 2, 4, 4), gradlab.zeros(2, 2, 3, 3), stride=2, output_padding=2)


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be smaller than or equal to half"):
        F.max_pool2d(gradlab.zeros(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(RuntimeError, match=r"input size \[1, 1, 2, 2\].*too small"):
        F.max_pool2d(gradlab.zeros(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match=r"4-D.*\[4, 4\]"):
        F.avg_pool2d(gradlab.zeros(4, 4), 2)


# ---------------------------------------------------------------------------------------------------------------
# internal paths: column layouts, input-gradient strategies, the im2col workspace
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("waste,gx_ratio", [(0.0, 0.0), (100.0, 0.0), (0.0, 100.0), (100.0, 100.0)])
def test_every_layout_and_input_gradient_path(monkeypatch, waste, gx_ratio):
    """Standard vs padded-row ("wide") columns, col2im vs convolution for the stride-1 input gradient."""
    from gradlab.ops import _im2col as I
    from gradlab.ops import conv as C

    monkeypatch.setattr(I, "WIDE_MAX_WASTE", waste)
    monkeypatch.setattr(C, "GX_CONV_MAX_RATIO", gx_ratio)
    rng = np.random.default_rng(10)
    for k, kw in [((3, 3), dict(padding=1)), ((2, 3), dict(padding=(0, 2), dilation=(2, 1), groups=2)),
                  ((1, 1), dict(padding=1)), ((3, 1), dict(padding="same")), ((5, 5), {})]:
        x, w, b = _rand(rng, 2, 4, 7, 8), _rand(rng, 6, 4 // kw.get("groups", 1), *k), _rand(rng, 6)
        _compare(lambda x, w, b, kw=kw: F.conv2d(x, w, b, **kw), lambda x, w, b, kw=kw: TF.conv2d(x, w, b, **kw),
                 [x, w, b])
    x, w = _rand(rng, 2, 4, 5, 5), _rand(rng, 4, 3, 3, 3)
    kw = dict(padding=1, output_padding=(0, 1), dilation=2)  # stride-1 transposed conv with output padding
    _compare(lambda x, w: F.conv_transpose2d(x, w, **kw), lambda x, w: TF.conv_transpose2d(x, w, **kw), [x, w])


def test_retain_graph_backward_twice_rebuilds_the_columns():
    rng = np.random.default_rng(11)
    x = gradlab.tensor(_rand(rng, 2, 3, 6, 6), requires_grad=True)
    w = gradlab.tensor(_rand(rng, 4, 3, 3, 3), requires_grad=True)
    y = F.conv2d(x, w, padding=1).sum()
    y.backward(retain_graph=True)
    gw, gx = w.grad.numpy().copy(), x.grad.numpy().copy()
    F.conv2d(gradlab.tensor(_rand(rng, 2, 3, 6, 6)), w.detach(), padding=1)  # reuses the freed workspace buffer
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * gw, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 2 * gx, rtol=1e-12)


def test_workspace_reuse_keeps_results_apart():
    from gradlab.ops.conv import workspace

    rng = np.random.default_rng(12)
    w = gradlab.tensor(_rand(rng, 4, 3, 3, 3))
    xs = [gradlab.tensor(_rand(rng, 2, 3, 8, 8)) for _ in range(3)]
    with gradlab.no_grad():
        first = [F.conv2d(x, w, padding=1).numpy().copy() for x in xs]
        again = [F.conv2d(x, w, padding=1).numpy() for x in reversed(xs)][::-1]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert workspace.nbytes > 0
    workspace.clear()
    assert workspace.nbytes == 0


def test_workspace_bounds_and_recency(monkeypatch):
    from gradlab.ops import _im2col as I

    pool = I._Workspace()
    monkeypatch.setattr(I, "WORKSPACE_BYTES", 3 * 800)
    monkeypatch.setattr(I, "WORKSPACE_MAX_ARRAY", 1000)
    a, b, c, d = (pool.get((200,), np.float32) for _ in range(4))
    pool.put(a.reshape(10, 20))  # a view: its base goes back
    pool.put(b)
    pool.put(c)
    pool.put(d)  # over the total: the oldest (a) is dropped
    assert pool.nbytes == 3 * 800
    assert pool.get((200,), np.float32) is d  # the most recently returned first
    pool.put(np.empty(300, np.float32))  # 1200 bytes: above the per-array cap, not kept
    assert pool.nbytes == 2 * 800
    assert pool.get((201,), np.float32).shape == (201,)  # no match: a fresh array
