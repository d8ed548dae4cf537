"""The LSTM/GRU gate-step kernels: numba loops against their NumPy twins, and the float32 tanh approximation."""
from __future__ import annotations

import numpy as np
import pytest

from gradlab.kernels import recurrent as R

numba = pytest.importorskip("numba")
from gradlab.kernels import _recurrent_loops as L  # noqa: E402  (needs numba)

SHAPES = [(1, 1), (2, 2), (3, 5), (64, 17), (128, 64)]  # (H, N)


def _tol(dtype):
    # float32: a few ulp of values of order 1 (the loops' tanh is within 8 ulp; sigmoids and products add a few);
    # float64: both call np.tanh, so only the compiler's rounding order differs
    return {"rtol": 0, "atol": 32 * np.finfo(np.float32).eps} if dtype == np.float32 else {"rtol": 1e-13,
                                                                                             "atol": 1e-13}


def _close(a, b, dtype):
    np.testing.assert_allclose(a, b, **_tol(dtype))


def _rand(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H,N", SHAPES)
@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("has_next", [True, False])
def test_lstm_forward_matches_twin(dtype, H, N, grad, has_next):
    rng = np.random.default_rng(H * 100 + N)
    g0, c0 = _rand(rng, (4 * H, N), dtype, 3.0), _rand(rng, (H, N), dtype, 2.0)
    res = []
    for fast in (False, True):
        g, c_prev, c = g0.copy(), c0.copy(), np.empty_like(c0)
        h_out, z = np.full((N, H), np.nan, dtype), np.full((N, H + 3), np.nan, dtype)
        m = np.empty_like(g) if grad else None
        k = np.empty_like(c) if grad else None
        R.lstm_forward_step(g, c_prev, c, h_out, z[:, :H] if has_next else None, m, k, numba=fast)
        res.append((g, c_prev, c, h_out, z, m, k))
    for a, b in zip(*res):
        if a is not None:
            _close(b, a, dtype)
    g, c_prev, c, h_out, z, m, k = res[1]
    np.testing.assert_array_equal(h_out, c_prev.T)  # c_prev holds h afterwards
    if has_next:
        np.testing.assert_array_equal(z[:, :H], h_out)
    assert np.isnan(z[:, H:]).all()  # nothing beside the h block is written


def test_lstm_forward_against_the_equations():
    rng = np.random.default_rng(0)
    H, N = 4, 3
    a, c0 = rng.standard_normal((4 * H, N)), rng.standard_normal((H, N))
    g, c_prev, c, h = a.copy(), c0.copy(), np.empty((H, N)), np.empty((N, H))
    R.lstm_forward_step(g, c_prev, c, h, numba=True)
    sig = lambda x: 1 / (1 + np.exp(-2 * x))  # the sigmoid rows arrive halved
    o, i, f, gg = sig(a[:H]), sig(a[H:2 * H]), sig(a[2 * H:3 * H]), np.tanh(a[3 * H:])
    np.testing.assert_allclose(c, f * c0 + i * gg, rtol=1e-12)
    np.testing.assert_allclose(h.T, o * np.tanh(f * c0 + i * gg), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H,N", SHAPES)
def test_lstm_backward_matches_twin(dtype, H, N):
    rng = np.random.default_rng(7 + H + N)
    T, t = 3, 1
    g_t, carry, k = (_rand(rng, (H, N), dtype) for _ in range(3))
    m, f, dc0 = _rand(rng, (4 * H, N), dtype), _rand(rng, (H, N), dtype), _rand(rng, (H, N), dtype)
    res = []
    for fast in (False, True):
        dc, d3 = dc0.copy(), np.full((4 * H, T, N), np.nan, dtype)
        R.lstm_backward_step(g_t, carry, k, m, f, dc, d3, t, numba=fast)
        res.append((dc, d3))
    for a, b in zip(*res):
        _close(b, a, dtype)
    assert np.isnan(res[1][1][:, [0, 2]]).all()  # only step t's columns are written


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H,N", SHAPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("grad", [True, False])
def test_gru_forward_matches_twin(dtype, H, N, bias, grad):
    rng = np.random.default_rng(11 + H * N)
    a0, gh0 = _rand(rng, (3 * H, N), dtype, 2.0), _rand(rng, (3 * H, N), dtype, 2.0)
    b_hn, h_prev = _rand(rng, (H,), dtype) if bias else None, _rand(rng, (H, N), dtype)
    res = []
    for fast in (False, True):
        a, gh, h = a0.copy(), gh0.copy(), np.empty((H, N), dtype)
        m = np.empty_like(a) if grad else None
        R.gru_forward_step(a, gh, b_hn, h_prev, h, m, numba=fast)
        res.append((a, h, m))
    for x, y in zip(*res):
        if x is not None:
            _close(y, x, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H,N", SHAPES)
def test_gru_backward_matches_twin(dtype, H, N):
    rng = np.random.default_rng(13 + H + N)
    g_t, carry, zdh0 = (_rand(rng, (H, N), dtype) for _ in range(3))
    m, a = _rand(rng, (3 * H, N), dtype), _rand(rng, (3 * H, N), dtype)
    res = []
    for fast in (False, True):
        zdh, dgx, dgh = zdh0.copy(), np.full((3 * H, 3, N), np.nan, dtype), np.full((3 * H, 3, N), np.nan, dtype)
        R.gru_backward_step(g_t, carry, zdh, m, a, dgx, dgh, 1, numba=fast)
        res.append((zdh, dgx, dgh))
    for x, y in zip(*res):
        _close(y, x, dtype)
    assert np.isnan(res[1][1][:, [0, 2]]).all() and np.isnan(res[1][2][:, [0, 2]]).all()


def _tanh32_loop(x):
    out = np.empty_like(x)
    _tanh_grid(x, out)
    return out


@numba.njit(cache=False)
def _tanh_grid(x, out):
    for i in range(x.size):
        out[i] = L.act_tanh(x[i])


def test_tanh_approx_within_8_ulp_of_numpy_on_a_dense_grid():
    bits = np.arange(0, 0x7F800000, 61, dtype=np.uint32)  # every 61st positive float32, denormals included
    x = bits.view(np.float32)
    x = np.concatenate([x, -x, np.float32([0.0, -0.0, 1e-45, 4e-4, 7.9053, 7.90532, 9.0, 20.0, 1e30, 3.4e38])])
    y, ref = _tanh32_loop(x), np.tanh(x)
    assert y.dtype == np.float32
    ulps = np.abs(y.view(np.int32).astype(np.int64) - ref.view(np.int32).astype(np.int64))
    same_sign = np.signbit(y) == np.signbit(ref)
    assert (ulps[same_sign] <= 8).all(), x[same_sign][np.argmax(ulps[same_sign])]
    assert (ref[~same_sign] == 0).all()  # a sign difference only on a zero
    assert np.abs(y).max() <= 1
    np.testing.assert_array_equal(y[np.abs(x) < 1e-30], x[np.abs(x) < 1e-30])  # tiny and denormal: tanh(x) = x
    assert y[-1] == 1 and y[-2] == 1


def test_tanh_is_exact_in_float64():
    x = np.linspace(-20, 20, 10001)
    out = np.empty_like(x)
    _tanh_grid(x, out)
    np.testing.assert_allclose(out, np.tanh(x), rtol=1e-15, atol=0)


def test_nan_passes_through():
    x = np.float32([np.nan, -np.nan])
    assert np.isnan(_tanh32_loop(x)).all()


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
def test_layers_agree_across_kernel_sets_in_float32(mode, reverse):
    """A whole float32 layer (the ops' wiring: buffers, slots, the gradient's layout) on both kernel sets."""
    import gradlab
    from gradlab import kernels
    from gradlab.ops.recurrent import rnn_layer

    rng = np.random.default_rng(5)
    t, n, i, h, g = 7, 24, 5, 20, {"LSTM": 4, "GRU": 3}[mode]
    arrays = [rng.standard_normal(s).astype(np.float32) * 0.5
              for s in ((t, n, i), (n, h), (n, h), (g * h, i), (g * h, h), (g * h,), (g * h,))]
    seeds = [rng.standard_normal(s).astype(np.float32) for s in ((t, n, h), (n, h), (n, h))]
    results = []
    for name in ("numpy", "numba"):
        args = [gradlab.tensor(a, requires_grad=True) for a in arrays]
        if mode == "GRU":
            args[2] = None
        with kernels.use(name):
            outs = [o for o in rnn_layer(mode, *args, reverse=reverse) if o is not None]
            loss = sum((o * gradlab.tensor(s)).sum() for o, s in zip(outs, seeds))
            loss.backward()
        results.append([o.detach().numpy() for o in outs] + [a.grad.numpy() for a in args if a is not None])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_layers_without_a_graph_agree_across_kernel_sets(mode):
    import gradlab
    from gradlab import kernels
    from gradlab.ops.recurrent import rnn_layer

    rng = np.random.default_rng(8)
    t, n, i, h, g = 5, 16, 3, 9, {"LSTM": 4, "GRU": 3}[mode]
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((t, n, i), (g * h, i), (g * h, h), (g * h,))]
    results = []
    for name in ("numpy", "numba"):
        with kernels.use(name), gradlab.no_grad():
            out, h_n, _ = rnn_layer(mode, arrays[0], None, None, *arrays[1:], reverse=True)
        results.append((out.numpy(), h_n.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=2e-5)
