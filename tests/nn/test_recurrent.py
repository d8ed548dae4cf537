"""RNN / LSTM / GRU and their cells against torch with the same weights (float64), plus gradchecks of the fused ops."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradlab
from gradlab.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from gradlab.ops.recurrent import rnn_layer
from tests.helpers import assert_close, to_numpy

pytestmark = pytest.mark.kernel_sets  # every test runs on the NumPy passes and on the numba gate-step loops

T, N, I, H = 5, 3, 4, 6
TOL = dict(rtol=1e-6, atol=1e-6)

KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def _pair(torch, kind: str, **kw):
    """A torch module in float64 and a gradlab module loaded with its state_dict (converted to numpy)."""
    if kind.startswith("rnn"):
        nl = kind.split("_")[1]
        tm = torch.nn.RNN(I, H, nonlinearity=nl, **kw).double()
        gm = RNN(I, H, nonlinearity=nl, dtype=gradlab.float64, **kw)
    else:
        tm = getattr(torch.nn, kind.upper())(I, H, **kw).double()
        gm = {"lstm": LSTM, "gru": GRU}[kind](I, H, dtype=gradlab.float64, **kw)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, gm


def _compare(torch, tm, gm, kind, x_np, hx_np, extra_loss_weights):
    """Run both with loss = sum(out * w_out) + sum(h_n * w_h) (+ sum(c_n * w_c)); compare values and all grads."""
    is_lstm = kind == "lstm"
    tx = torch.tensor(x_np, requires_grad=True)
    gx = gradlab.tensor(x_np, requires_grad=True)
    if hx_np is None:
        thx = ghx = None
        t_states = g_states = []
    elif is_lstm:
        t_states = [torch.tensor(a, requires_grad=True) for a in hx_np]
        g_states = [gradlab.tensor(a, requires_grad=True) for a in hx_np]
        thx, ghx = tuple(t_states), tuple(g_states)
    else:
        t_states = [torch.tensor(hx_np, requires_grad=True)]
        g_states = [gradlab.tensor(hx_np, requires_grad=True)]
        thx, ghx = t_states[0], g_states[0]
    t_out, t_h = tm(tx, thx)
    g_out, g_h = gm(gx, ghx)
    t_parts = [t_out, *(t_h if is_lstm else (t_h,))]
    g_parts = [g_out, *(g_h if is_lstm else (g_h,))]
    t_loss, g_loss = 0, 0
    for tp, gp, w in zip(t_parts, g_parts, extra_loss_weights):
        assert tuple(gp.shape) == tuple(tp.shape)
        assert_close(gp, tp, **TOL)
        t_loss = t_loss + (tp * torch.tensor(w[: tp.numel()].reshape(tp.shape))).sum()
        g_loss = g_loss + (gp * gradlab.tensor(w[: gp.numel()].reshape(gp.shape))).sum()
    t_loss.backward()
    g_loss.backward()
    assert_close(gx.grad, tx.grad, **TOL, msg="input grad")
    for ts, gs in zip(t_states, g_states):
        assert_close(gs.grad, ts.grad, **TOL, msg="initial-state grad")
    gparams = dict(gm.named_parameters())
    tnames = [n for n, _ in tm.named_parameters()]
    assert list(gparams) == tnames
    for name, tp in tm.named_parameters():
        assert_close(gparams[name].grad, tp.grad, **TOL, msg=name)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,with_state",
                         list(itertools.product([1, 2], [False, True], [False, True], [False, True])))
def test_matches_torch(torch, kind, num_layers, bidirectional, batch_first, with_state):
    tm, gm = _pair(torch, kind, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, T, I) if batch_first else (T, N, I))
    D = 2 if bidirectional else 1
    hx = None
    if with_state:
        hx = rng.standard_normal((num_layers * D, N, H))
        if kind == "lstm":
            hx = (hx, rng.standard_normal((num_layers * D, N, H)))
    weights = [rng.standard_normal(T * N * D * H) for _ in range(3)]
    _compare(torch, tm, gm, kind, x, hx, weights)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched_matches_torch(torch, kind, with_state):
    tm, gm = _pair(torch, kind, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((T, I))
    hx = None
    if with_state:
        hx = rng.standard_normal((4, H))
        if kind == "lstm":
            hx = (hx, rng.standard_normal((4, H)))
    weights = [rng.standard_normal(T * 2 * H * 2) for _ in range(3)]
    _compare(torch, tm, gm, kind, x, hx, weights)


@pytest.mark.parametrize("kind", KINDS)
def test_no_bias_matches_torch(torch, kind):
    tm, gm = _pair(torch, kind, bias=False)
    assert [n for n, _ in gm.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    rng = np.random.default_rng(3)
    _compare(torch, tm, gm, kind, rng.standard_normal((T, N, I)), None,
             [rng.standard_normal(T * N * H) for _ in range(3)])


def test_float32_matches_torch(torch):
    tm = torch.nn.LSTM(I, H, num_layers=2)
    gm = LSTM(I, H, num_layers=2)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((T, N, I)).astype(np.float32)
    t_out, _ = tm(torch.from_numpy(x))
    g_out, (h_n, c_n) = gm(gradlab.from_numpy(x))
    assert g_out.dtype == gradlab.float32 and h_n.dtype == gradlab.float32
    assert_close(g_out, t_out, rtol=1e-5, atol=1e-5)


# ---- parameters, init, dropout ------------------------------------------------------------------------------
def test_parameter_names_shapes_and_init(torch):
    gm = GRU(7, 10, num_layers=2, bidirectional=True)
    tm = torch.nn.GRU(7, 10, num_layers=2, bidirectional=True)
    g = {n: p.shape for n, p in gm.named_parameters()}
    t = {n: tuple(p.shape) for n, p in tm.named_parameters()}
    assert list(g) == list(t) and g == t
    bound = 1 / np.sqrt(10)
    for p in gm.parameters():
        assert p.dtype == gradlab.float32
        assert np.abs(p._data).max() <= bound and p._data.std() > bound / 4
    # a torch state_dict loads unchanged and round-trips
    gm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    for k, v in gm.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), tm.state_dict()[k].numpy())
    assert len(gm.all_weights) == 4 and len(gm.all_weights[0]) == 4


def test_repr():
    assert repr(LSTM(3, 4, num_layers=2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"
    assert repr(RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"
    assert repr(GRUCell(3, 4)) == "GRUCell(3, 4)"


def test_dropout_between_layers_only_in_training():
    gm = LSTM(I, H, num_layers=2, dropout=0.5)
    x = gradlab.randn(T, N, I)
    gm.eval()
    a, _ = gm(x)
    b, _ = gm(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    gm.train()
    c, _ = gm(x)
    d, _ = gm(x)
    assert not np.allclose(c.detach().numpy(), d.detach().numpy())
    one = LSTM(I, H, num_layers=1, dropout=0.5)  # no layer after the last: dropout has no effect
    one.train()
    e, _ = one(x)
    f, _ = one(x)
    np.testing.assert_array_equal(e.detach().numpy(), f.detach().numpy())


def test_errors():
    m = LSTM(I, H)
    with pytest.raises(RuntimeError, match="input_size"):
        m(gradlab.randn(T, N, I + 1))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        m(gradlab.randn(T, N, I), (gradlab.zeros(2, N, H), gradlab.zeros(2, N, H)))
    with pytest.raises(ValueError, match="2D or 3D"):
        m(gradlab.randn(N, I, 1, 1))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(I, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        GRU(I, H, dropout=1.5)
    with pytest.raises(NotImplementedError):
        LSTM(I, H, proj_size=2)


def test_no_grad_builds_no_graph():
    m = GRU(I, H)
    with gradlab.no_grad():
        out, h = m(gradlab.randn(T, N, I))
    assert out.grad_fn is None and not out.requires_grad


def test_input_leaf_grad_per_time_step():
    """The clean way to read d loss / d x_t: a leaf input; x.grad[t] is the gradient reaching step t."""
    m = RNN(I, H)
    x = gradlab.randn(T, N, I, requires_grad=True)
    out, _ = m(x)
    out[-1].sum().backward()
    assert x.grad.shape == (T, N, I)
    assert np.all(np.linalg.norm(x.grad.numpy().reshape(T, -1), axis=1) > 0)


# ---- cells ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(torch, kind, batched, with_state):
    if kind.startswith("rnn"):
        nl = kind.split("_")[1]
        tm = torch.nn.RNNCell(I, H, nonlinearity=nl).double()
        gm = RNNCell(I, H, nonlinearity=nl, dtype=gradlab.float64)
    else:
        tm = getattr(torch.nn, kind.upper() + "Cell")(I, H).double()
        gm = {"lstm": LSTMCell, "gru": GRUCell}[kind](I, H, dtype=gradlab.float64)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(5)
    shape = (N, I) if batched else (I,)
    hshape = (N, H) if batched else (H,)
    x = rng.standard_normal(shape)
    n_states = 2 if kind == "lstm" else 1
    states = [rng.standard_normal(hshape) for _ in range(n_states)] if with_state else []
    tx, gx = torch.tensor(x, requires_grad=True), gradlab.tensor(x, requires_grad=True)
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    gs = [gradlab.tensor(s, requires_grad=True) for s in states]
    if kind == "lstm":
        t_out = tm(tx, tuple(ts) if ts else None)
        g_out = gm(gx, tuple(gs) if gs else None)
    else:
        t_out = (tm(tx, ts[0] if ts else None),)
        g_out = (gm(gx, gs[0] if gs else None),)
    t_loss = g_loss = 0
    for a, b in zip(g_out, t_out):
        assert_close(a, b, **TOL)
        w = rng.standard_normal(hshape)
        t_loss = t_loss + (b * torch.tensor(w)).sum()
        g_loss = g_loss + (a * gradlab.tensor(w)).sum()
    t_loss.backward()
    g_loss.backward()
    assert_close(gx.grad, tx.grad, **TOL)
    for a, b in zip(gs, ts):
        assert_close(a.grad, b.grad, **TOL)
    tp = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        assert_close(p.grad, tp[name].grad, **TOL, msg=name)


@pytest.mark.parametrize("cell", [RNNCell, LSTMCell, GRUCell])
def test_cells_gradcheck(cell):
    m = cell(3, 4, dtype=gradlab.float64)
    x = gradlab.randn(2, 3, dtype=gradlab.float64, requires_grad=True)
    h = gradlab.randn(2, 4, dtype=gradlab.float64, requires_grad=True)
    c = gradlab.randn(2, 4, dtype=gradlab.float64, requires_grad=True)
    params = list(m.parameters())

    def fn(x, h, c, *ps):
        out = m(x, (h, c)) if cell is LSTMCell else m(x, h)
        return out

    assert gradlab.gradcheck(fn, (x, h, c, *params), atol=1e-7, rtol=1e-5)


# ---- the fused ops directly --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
def test_fused_layer_gradcheck(mode, reverse):
    rng = np.random.default_rng(6)
    t, n, i, h = 4, 2, 3, 3
    g = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}[mode]
    shapes = [(t, n, i), (n, h), (n, h), (g * h, i), (g * h, h), (g * h,), (g * h,)]
    args = [gradlab.tensor(rng.standard_normal(s) * 0.7, requires_grad=True) for s in shapes]
    if mode != "LSTM":
        args[2] = None

    def fn(*a):
        out, h_n, c_n = rnn_layer(mode, *a, reverse=reverse)
        return (out, h_n) if c_n is None else (out, h_n, c_n)

    assert gradlab.gradcheck(fn, args, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_fused_layer_stable_for_large_inputs(mode):
    """Pre-activations of +-1e4 saturate the gates without overflow warnings or NaNs."""
    g = {"LSTM": 4, "GRU": 3}[mode]
    x = gradlab.tensor(np.full((3, 2, 2), 1e4), requires_grad=True)
    w_ih = gradlab.tensor(np.tile([[1.0, -1.0]], (g * 2, 1)), requires_grad=True)
    w_hh = gradlab.tensor(np.ones((g * 2, 2)), requires_grad=True)
    with np.errstate(all="raise"):
        out, h_n, _ = rnn_layer(mode, x, None, None, w_ih, w_hh)
        out.sum().backward()
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()


def test_fused_layer_validates_shapes():
    x = gradlab.randn(3, 2, 4)
    with pytest.raises(ValueError, match="weight_ih"):
        rnn_layer("LSTM", x, None, None, gradlab.randn(12, 4), gradlab.randn(12, 4))
    with pytest.raises(ValueError, match="unknown recurrent mode"):
        rnn_layer("XYZ", x, None, None, gradlab.randn(3, 4), gradlab.randn(3, 3))
    with pytest.raises(ValueError, match="h0"):
        rnn_layer("RNN_TANH", x, gradlab.randn(5, 3), None, gradlab.randn(3, 4), gradlab.randn(3, 3))


def test_module_outputs_are_tensors_with_torch_shapes():
    m = GRU(I, H, num_layers=3, bidirectional=True, batch_first=True)
    out, h_n = m(gradlab.randn(N, T, I))
    assert out.shape == (N, T, 2 * H) and h_n.shape == (6, N, H)
    assert to_numpy(out).dtype == np.float32


def test_retain_graph_backward_twice_accumulates():
    for cls in (RNN, LSTM, GRU):
        m = cls(I, H, dtype=gradlab.float64)
        x = gradlab.randn(T, N, I, dtype=gradlab.float64, requires_grad=True)
        out, _ = m(x)
        loss = (out * out).sum()
        loss.backward(retain_graph=True)
        first = x.grad.numpy().copy()
        loss.backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-12)


def test_interleaved_graphs_keep_their_saved_buffers():
    """Workspace memory is recycled between calls: pending graphs must not see each other's buffers.

    Sizes large enough for the pool (arrays of 64 KiB and more).
    """
    t, n, i, h = 20, 16, 4, 32
    x = np.random.default_rng(7).standard_normal((t, n, i))

    def grads(m, run_between=None):
        xt = gradlab.tensor(x, requires_grad=True)
        out, _ = m(xt)
        if run_between is not None:
            run_between()
        out.sum().backward()
        return xt.grad.numpy().copy(), [p.grad.numpy().copy() for p in m.parameters()]

    for cls in (RNN, LSTM, GRU):
        a = cls(i, h, dtype=gradlab.float64)
        b = cls(i, h, dtype=gradlab.float64)
        ref_x, ref_p = grads(a)
        for p in a.parameters():
            p.grad = None

        def other(b=b):  # a second graph built, backpropagated and dropped while the first one waits
            for _ in range(2):
                o, _ = b(gradlab.tensor(x * 3, requires_grad=True))
                o.sum().backward()

        gx, gp = grads(a, other)
        np.testing.assert_array_equal(gx, ref_x)
        for p, q in zip(gp, ref_p):
            np.testing.assert_array_equal(p, q)
