"""Recurrent layers as fused ops: one ``Function`` runs one layer in one direction over the whole sequence.

Forward does the input path of every time step at once (one batched GEMM), then loops over time with one GEMM
per step for the hidden path (all gates at once). Backward runs back-propagation through time in reverse with one
GEMM per step for the hidden-state gradient; the weight, bias and input gradients come afterwards from one GEMM
each over all time steps. The LSTM goes one step further: its per-step GEMM takes the stacked input
``[h_prev | x_t | 1]``, so the input path and the bias ride in the hidden-path product, and one GEMM over the
stacked inputs gives all its weight and bias gradients (see ``LSTMLayer`` in ``lstm.py``).

Weights use PyTorch's layout: ``w_ih`` (G*H, I), ``w_hh`` (G*H, H), ``b_ih``/``b_hh`` (G*H,), with the gates
stacked i, f, g, o for the LSTM (G = 4), r, z, n for the GRU (G = 3), one block for the plain RNN (G = 1).

Speed notes (numpy spends more time per call and per strided row than per element at these sizes):

- Inside the loop every array is *gate-major*: a step's gates are a (G*H, N) block, so each gate is a contiguous
  (H, N) slice and every elementwise op runs over contiguous memory. The (T, N, H) outputs are transposed once.
- The LSTM works in the gate order o, i, f, g (sigmoid gates side by side; the three gates whose gradient is
  proportional to the cell-state gradient side by side); gradients are permuted back to PyTorch's order.
- Sigmoids are ``0.5 * tanh(x / 2) + 0.5``, which never overflows; the halving is folded into (copies of) the
  weights, so one ``tanh`` call covers every gate of a step.
- When a gradient will be needed, forward also stores the per-step coefficients of the backward pass (computed
  while the step's values are hot in cache), so the backward loop is a handful of multiplies and one GEMM.
- Large internal buffers are recycled between calls (``_rnn_support.empty``): fresh multi-MB allocations
  page-fault on first touch, which cost about a third of an LSTM step.
- A step's elementwise work (everything between its GEMMs) is one call into ``gradlab.kernels.recurrent``
  (the LSTM and GRU, both ways): NumPy's passes, or with ``gradlab[fast]`` one compiled numba loop
  (``kernels.recurrent.loops_wanted``), which saves the per-call cost of about ten NumPy calls a step.

Every Function returns one packed array ``S`` of shape (T + 1, N, H) (T + 2 for the LSTM):
the hidden state of each time step, the initial state, and for the LSTM the final cell state in the last slot.
Forward direction: ``S[0] = h0``, ``S[1 + t] = h_t``; reverse direction: ``S[t] = h_t``, ``S[T] = h0``.
``rnn_layer`` unpacks it into ``(output, h_n, c_n)`` tensors; the gradient reaching the ``h0`` slot is ignored.
"""
from __future__ import annotations

from typing import Any

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module
from gradlab.kernels.recurrent import GRU_THRESHOLD, gru_backward_step, gru_forward_step, loops_wanted

from ._rnn_support import check_layer_args as _check
from ._rnn_support import empty as _empty
from ._rnn_support import result_dtype as _dtype
from ._rnn_support import slots as _slots
from ._rnn_support import wants_grad as _wants_grad
from .lstm import LSTMLayer

__all__ = ["RNNTanhLayer", "RNNReLULayer", "LSTMLayer", "GRULayer", "rnn_layer", "MODES"]

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


def _input_path(x: Any, w: Any, bias: Any, dt: Any) -> Any:
    """Gate-major input path for every step at once: (T, G*H, N) = w @ x_t.T + bias."""
    xp = get_array_module(x)
    T, N, _ = x.shape
    out = _empty((T, w.shape[0], N), dt, xp)
    xp.matmul(w.astype(dt, copy=False), x.astype(dt, copy=False).transpose(0, 2, 1), out=out)
    if bias is not None:
        out += bias[:, None]
    return out


def _pack(S: Any, extra: int) -> Any:
    """Gate-major states (T + 1, H, N) -> the packed (T + 1 + extra, N, H) result (last ``extra`` slots unset)."""
    xp = get_array_module(S)
    T1, H, N = S.shape
    out = xp.empty((T1 + extra, N, H), dtype=S.dtype)
    out[:T1] = S.transpose(0, 2, 1)
    return out


def _grad_gm(grad: Any, T: int, dt: Any) -> Any:
    """The packed gradient's h slots (T + 1, N, H) as a gate-major (T + 1, H, N) array."""
    xp = get_array_module(grad)
    out = _empty((T + 1, grad.shape[2], grad.shape[1]), dt, xp)
    out[...] = grad[:T + 1].transpose(0, 2, 1)
    return out


def _flat_gm(a: Any) -> Any:
    """(T, G, N) gate-major per-step blocks -> (G, T*N), columns in (t, n) order."""
    xp = get_array_module(a)
    T, G, N = a.shape
    out = _empty((G, T * N), a.dtype, xp)
    out.reshape(G, T, N)[...] = a.transpose(1, 0, 2)
    return out


def _prev_states(S: Any, poff: int, T: int) -> Any:
    """h_{t-1} for every step as (T*N, H) rows in (t, n) order."""
    xp = get_array_module(S)
    P = S[poff:poff + T]
    _, H, N = P.shape
    out = _empty((T * N, H), S.dtype, xp)
    out.reshape(T, N, H)[...] = P.transpose(0, 2, 1)
    return out


def _weight_grads(needs: tuple, d2: Any, x: Any, prev: Any, w_ih: Any) -> tuple[Any, Any, Any]:
    """dx (T, N, I), dW_ih and dW_hh from the flattened pre-activation gradients ``d2`` (G, T*N)."""
    xp = get_array_module(d2)
    T, N, I = x.shape
    dx = xp.matmul(d2.T, w_ih).reshape(T, N, I).astype(x.dtype, copy=False) if needs[0] else None
    dw_ih = xp.matmul(d2, x.reshape(T * N, I)) if needs[3] else None
    dw_hh = xp.matmul(d2, prev) if needs[4] else None
    return dx, dw_ih, dw_hh


class _SimpleRNNLayer(Function):
    """h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) over a whole sequence (one direction)."""

    relu = False

    @classmethod
    def forward(cls, ctx: Context, x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any,
                reverse: bool = False) -> Any:
        xp = get_array_module(x)
        _check("RNN", x, h0, c0, w_ih, w_hh, b_ih, b_hh, 1)
        T, N, _ = x.shape
        H = w_hh.shape[1]
        dt = _dtype(x, h0, w_ih, w_hh, b_ih, b_hh)
        bias = b_ih if b_hh is None else (b_hh if b_ih is None else b_ih + b_hh)
        A = _input_path(x, w_ih, bias, dt)
        off, poff, init, steps = _slots(T, reverse)
        S = _empty((T + 1, H, N), dt, xp)
        S[init] = 0 if h0 is None else h0.T
        wh = w_hh.astype(dt, copy=False)
        tmp = xp.empty((H, N), dtype=dt)
        for t in steps:
            a = A[t]
            xp.matmul(wh, S[t + poff], out=tmp)
            a += tmp
            if cls.relu:
                xp.maximum(a, 0, out=S[t + off])
            else:
                xp.tanh(a, out=S[t + off])
        if _wants_grad(ctx):
            ctx.save_for_backward(x, w_ih, wh, S)
            ctx.meta = (reverse, dt)
            ctx.has_bias = bias is not None
        return _pack(S, 0)

    @classmethod
    def backward(cls, ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        x, w_ih, wh, S = ctx.saved_tensors
        reverse, dt = ctx.meta
        T = S.shape[0] - 1
        off, poff, init, steps = _slots(T, reverse)
        Hc = S[off:off + T]
        D = _empty(Hc.shape, dt, xp)  # the activation's derivative at every step
        if cls.relu:
            xp.greater(Hc, 0, out=D)
        else:
            xp.multiply(Hc, Hc, out=D)
            xp.subtract(1, D, out=D)
        g = _grad_gm(grad, T, dt)
        dA = D  # overwritten step by step with the pre-activation gradient
        whT = wh.T
        carry = xp.zeros_like(S[0])
        dh = xp.empty_like(carry)
        for t in reversed(steps):
            xp.add(g[t + off], carry, out=dh)
            da = dA[t]
            da *= dh
            xp.matmul(whT, da, out=carry)
        needs = ctx.needs_input_grad
        d2 = _flat_gm(dA)
        dx, dw_ih, dw_hh = _weight_grads(needs, d2, x, _prev_states(S, poff, T) if needs[4] else None, w_ih)
        db = dA.sum(axis=(0, 2)) if ctx.has_bias and (needs[5] or needs[6]) else None
        dh0 = carry.T.copy() if needs[1] else None
        return dx, dh0, None, dw_ih, dw_hh, db if needs[5] else None, db if needs[6] else None, None


class RNNTanhLayer(_SimpleRNNLayer):
    """``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``; returns the packed (T + 1, N, H) states.

    >>> import numpy as np
    >>> x, w_ih, w_hh = np.ones((2, 1, 1)), np.ones((1, 1)), np.zeros((1, 1))
    >>> RNNTanhLayer.apply(x, None, None, w_ih, w_hh, None, None).reshape(-1)  # h0, h1, h2
    tensor([0.    , 0.7616, 0.7616], dtype=float64)
    """

    relu = False


class RNNReLULayer(_SimpleRNNLayer):
    """``h_t = relu(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``; returns the packed (T + 1, N, H) states.

    >>> import numpy as np
    >>> x, w = np.ones((3, 1, 1)), np.ones((1, 1))
    >>> RNNReLULayer.apply(x, None, None, w, w, None, None).reshape(-1).tolist()  # h_t = 1 + h_{t-1}
    [0.0, 1.0, 2.0, 3.0]
    """

    relu = True


class GRULayer(Function):
    """One GRU layer, one direction (PyTorch's equations: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).

    Backward coefficients: ``dA_n = dh * M_n`` with ``M_n = (1 - z)(1 - n^2)``; ``dA_z = dh * M_z`` with
    ``M_z = z (1 - z)(h_prev - n)``; ``dA_r = dA_n * M_r`` with ``M_r = r (1 - r)(W_hn h + b_hn)``.

    >>> import numpy as np
    >>> x, w_ih, w_hh = np.ones((4, 2, 3)), np.full((15, 3), 0.1), np.full((15, 5), 0.1)
    >>> GRULayer.apply(x, None, None, w_ih, w_hh, None, None).shape  # (T + 1, N, H)
    gradlab.Size([5, 2, 5])
    """

    @staticmethod
    def forward(ctx: Context, x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any,
                reverse: bool = False) -> Any:
        xp = get_array_module(x)
        _check("GRU", x, h0, c0, w_ih, w_hh, b_ih, b_hh, 3)
        T, N, _ = x.shape
        H = w_hh.shape[1]
        H2 = 2 * H
        dt = _dtype(x, h0, w_ih, w_hh, b_ih, b_hh)
        scale = xp.full((3 * H, 1), 0.5, dtype=dt)  # r, z rows halved (sigmoid via tanh)
        scale[H2:] = 1
        bias = None
        if b_ih is not None or b_hh is not None:
            bias = xp.zeros(3 * H, dtype=dt)
            if b_ih is not None:
                bias += b_ih
            if b_hh is not None:
                bias[:H2] += b_hh[:H2]
            bias *= scale[:, 0]
        b_hn = None if b_hh is None else xp.ascontiguousarray(b_hh[H2:], dtype=dt)
        A = _input_path(x, w_ih * scale, bias, dt)  # (T, 3H, N): r, z (halved) then W_in x + b_in
        wh = w_hh.astype(dt, copy=False) * scale
        off, poff, init, steps = _slots(T, reverse)
        S = _empty((T + 1, H, N), dt, xp)
        S[init] = 0 if h0 is None else h0.T
        gh = xp.empty((3 * H, N), dtype=dt)
        grad = _wants_grad(ctx)
        if grad:
            M = _empty((T, 3 * H, N), dt, xp)
        fast = loops_wanted(xp, dt, N * H, GRU_THRESHOLD)
        work = None if fast else xp.empty((H2, N), dtype=dt)
        m_t = xp.empty((3 * H, N), dtype=dt) if fast and not grad else None  # the loop writes it anyway
        for t in steps:  # a step: the hidden GEMM, then the cell's elementwise work (kernels.recurrent)
            hp = S[t + poff]
            xp.matmul(wh, hp, out=gh)
            gru_forward_step(A[t], gh, b_hn, hp, S[t + off], M[t] if grad else m_t, work, fast)
        if grad:
            ctx.save_for_backward(x, w_ih, w_hh, S, A, M)
            ctx.meta = (reverse, dt)
            ctx.has_bias = (b_ih is not None, b_hh is not None)
        return _pack(S, 0)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        x, w_ih, w_hh, S, A, M = ctx.saved_tensors
        reverse, dt = ctx.meta
        T, H3, N = A.shape
        H = H3 // 3
        off, poff, init, steps = _slots(T, reverse)
        fast = loops_wanted(xp, dt, N * H, GRU_THRESHOLD)
        g = _grad_gm(grad, T, dt)
        whT = w_hh.astype(dt, copy=False).T
        # [dA_r ; dA_z ; dA_n] (input path) and [dA_r ; dA_z ; r * dA_n] (hidden path), (3H, T, N): step t writes
        # the columns [:, t], so the (3H, T*N) matrices of the weight-gradient GEMMs are free views
        dGx = _empty((H3, T, N), dt, xp)
        dGh = _empty((H3, T, N), dt, xp)
        carry = xp.zeros((H, N), dtype=dt)
        zdh = xp.zeros((H, N), dtype=dt)  # z dh of the step after (in time) the current one
        work = None if fast else xp.empty((H, N), dtype=dt)
        for t in reversed(steps):
            gru_backward_step(g[t + off], carry, zdh, M[t], A[t], dGx, dGh, t, work, fast)
            xp.matmul(whT, dGh[:, t], out=carry)
        carry += zdh
        needs = ctx.needs_input_grad
        has_b_ih, has_b_hh = ctx.has_bias
        d2x = dGx.reshape(H3, T * N)
        dx = xp.matmul(d2x.T, w_ih).reshape(x.shape).astype(x.dtype, copy=False) if needs[0] else None
        dw_ih = xp.matmul(d2x, x.reshape(T * N, -1)) if needs[3] else None
        dw_hh = xp.matmul(dGh.reshape(H3, T * N), _prev_states(S, poff, T)) if needs[4] else None
        db_ih = d2x.sum(axis=1) if needs[5] and has_b_ih else None
        db_hh = dGh.sum(axis=(1, 2)) if needs[6] and has_b_hh else None
        dh0 = carry.T.copy() if needs[1] else None
        return dx, dh0, None, dw_ih, dw_hh, db_ih, db_hh, None


_LAYERS = {"RNN_TANH": RNNTanhLayer, "RNN_RELU": RNNReLULayer, "LSTM": LSTMLayer, "GRU": GRULayer}


def rnn_layer(mode: str, x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, b_ih: Any = None, b_hh: Any = None,
              reverse: bool = False) -> tuple[Any, Any, Any]:
    """One recurrent layer in one direction over a time-major sequence ``x`` (T, N, I).

    Returns ``(output (T, N, H), h_n (N, H), c_n (N, H) or None)`` as Tensors; ``h0``/``c0`` may be None (zeros).
    ``mode`` is one of ``MODES``.

    >>> import numpy as np
    >>> x, w = np.ones((3, 1, 1)), np.ones((1, 1))
    >>> out, h_n, c_n = rnn_layer("RNN_RELU", x, None, None, w, w)
    >>> out.reshape(-1).tolist(), h_n.tolist(), c_n
    ([1.0, 2.0, 3.0], [[3.0]], None)
    >>> rnn_layer("LSTM", np.ones((3, 2, 1)), None, None, np.ones((8, 1)), np.ones((8, 2)))[2].shape
    gradlab.Size([2, 2])
    """
    try:
        fn = _LAYERS[mode]
    except KeyError:
        raise ValueError(f"unknown recurrent mode {mode!r}; expected one of {MODES}") from None
    T = x.shape[0]
    S = fn.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    if reverse:
        out, h_n = S[0:T], S[0]
    else:
        out, h_n = S[1:T + 1], S[T]
    c_n = S[T + 1] if mode == "LSTM" else None
    return out, h_n, c_n
