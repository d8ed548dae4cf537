"""The fused LSTM layer: one ``Function`` runs one LSTM layer in one direction over a whole sequence (the layout
and speed notes shared with the other recurrent layers are in ``recurrent.py``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module
from gradlab.kernels.recurrent import LSTM_THRESHOLD, loops_wanted, lstm_backward_step, lstm_forward_step

from ._rnn_support import check_layer_args as _check
from ._rnn_support import empty as _empty
from ._rnn_support import result_dtype as _dtype
from ._rnn_support import slots as _slots
from ._rnn_support import wants_grad as _wants_grad

__all__ = ["LSTMLayer"]


class LSTMLayer(Function):
    """One LSTM layer, one direction, over a whole sequence (PyTorch's equations and gate order i, f, g, o).

    Backward coefficients (internal order o, i, f, g; s(1 - s) is the sigmoid's derivative):
    ``dA_o = dh * M_o`` with ``M_o = o (1 - o) tanh(c)``; ``dA_(i,f,g) = dc * M_(i,f,g)`` with
    ``M_i = i (1 - i) g``, ``M_f = f (1 - f) c_prev``, ``M_g = i (1 - g^2)``; ``dc_t = dh_t K_t + f_{t+1} dc_{t+1}``
    with ``K = o (1 - tanh(c)^2)``.

    Layout (measured on the benchmark shapes, batch 64, seq 50, hidden 128): each step is one GEMM of
    ``[W_hh | W_ih | b]`` (4H, H+I+1) with the stacked step input ``Z[t] = [h_prev | x_t | 1]`` (N, H+I+1), so the
    input path, the bias and the hidden path cost one product and no extra pass; ``Z`` (T, N, H+I+1) is then also
    the right-hand side of the weight gradient, whose single GEMM ``dA @ Z`` gives dW_hh, dW_ih and the bias
    gradient together. The hidden states go straight into the packed, batch-major result; the activated gates of
    every step are kept (their f rows are backward's carry factors); backward writes the pre-activation gradients
    straight into the (4H, T*N) matrix its GEMM reads.

    >>> x, w_ih, w_hh = np.ones((4, 2, 3)), np.full((20, 3), 0.1), np.full((20, 5), 0.1)
    >>> S = LSTMLayer.apply(x, None, None, w_ih, w_hh, None, None)
    >>> S.shape  # h0, h_1..h_4, then the final cell state
    gradlab.Size([6, 2, 5])
    >>> bool((S[1:5].abs() < 1).all())
    True
    """

    @staticmethod
    def forward(ctx: Context, x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any,
                reverse: bool = False) -> Any:
        xp = get_array_module(x)
        _check("LSTM", x, h0, c0, w_ih, w_hh, b_ih, b_hh, 4)
        T, N, I = x.shape
        H = w_hh.shape[1]
        H3, H4 = 3 * H, 4 * H
        KZ = H + I + 1
        dt = _dtype(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        perm = xp.asarray(np.r_[H3:H4, 0:H3])  # torch order i, f, g, o -> o, i, f, g
        scale = xp.full((H4, 1), 0.5, dtype=dt)  # sigmoid rows halved: sigmoid(a) = 0.5 tanh(a / 2) + 0.5
        scale[H3:] = 1
        w_ih_p = w_ih[perm].astype(dt, copy=False)
        w_hh_p = w_hh[perm].astype(dt, copy=False)
        wa = xp.empty((H4, KZ), dtype=dt)  # [W_hh | W_ih | b], permuted and scaled
        xp.multiply(w_hh_p, scale, out=wa[:, :H])
        xp.multiply(w_ih_p, scale, out=wa[:, H:H + I])
        has_bias = b_ih is not None or b_hh is not None
        if has_bias:
            both = (b_ih if b_ih is not None else 0) + (b_hh if b_hh is not None else 0)
            wa[:, H + I] = xp.asarray(both)[perm] * scale[:, 0]
        else:
            wa[:, H + I] = 0
        Z = _empty((T, N, KZ), dt, xp)  # Z[t] = [h_prev | x_t | 1] for step t
        Z[:, :, H:H + I] = x
        Z[:, :, H + I] = 1
        off, poff, init, steps = _slots(T, reverse)
        first, step_dir = (T - 1, -1) if reverse else (0, 1)
        Z[first, :, :H] = 0 if h0 is None else h0
        out = xp.empty((T + 2, N, H), dtype=dt)  # the packed result
        out[init] = 0 if h0 is None else h0
        c_prev = xp.zeros((H, N), dtype=dt) if c0 is None else xp.array(c0.T, dtype=dt)
        c = xp.empty((H, N), dtype=dt)
        grad = _wants_grad(ctx)
        if grad:
            G = _empty((T, H4, N), dt, xp)  # activated gates of every step
            M = _empty((T, H4, N), dt, xp)
            K = _empty((T, H, N), dt, xp)
        else:
            g = xp.empty((H4, N), dtype=dt)
        if xp is not np:  # on a GPU: one fused kernel for the cell (the same formulas as the passes below)
            from ._lstm_cuda import cell_forward

            h = xp.empty((H, N), dtype=dt)
            spare = xp.empty((H, N), dtype=dt)
            for t in steps:
                if grad:
                    g = G[t]
                xp.matmul(wa, Z[t].T, out=g)
                nxt = t + step_dir
                cell_forward(xp, g, c_prev, c, h, out[t + off].T, Z[nxt, :, :H].T if 0 <= nxt < T else spare,
                             M[t] if grad else None, K[t] if grad else None)
                c, c_prev = c_prev, c
            steps = range(0)
        fast = loops_wanted(xp, dt, N * H, LSTM_THRESHOLD)
        work = None if fast else xp.empty((H3, N), dtype=dt)
        if fast and not grad:  # the loops write backward's coefficients anyway: give them scratch
            m_t, k_t = xp.empty((H4, N), dtype=dt), xp.empty((H, N), dtype=dt)
        else:
            m_t = k_t = None
        for t in steps:  # a step: one GEMM, then the cell's elementwise work (kernels.recurrent)
            if grad:
                g, m_t, k_t = G[t], M[t], K[t]
            xp.matmul(wa, Z[t].T, out=g)
            nxt = t + step_dir
            lstm_forward_step(g, c_prev, c, out[t + off], Z[nxt, :, :H] if 0 <= nxt < T else None, m_t, k_t, work,
                              fast)
            c, c_prev = c_prev, c
        out[T + 1] = c_prev.T
        if grad:
            ctx.save_for_backward(w_ih_p, w_hh_p, Z, G, M, K)
            ctx.meta = (reverse, dt, perm, x.shape, x.dtype)
            ctx.has_bias = has_bias
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        w_ih_p, w_hh_p, Z, G, M, K = ctx.saved_tensors
        reverse, dt, perm, x_shape, x_dtype = ctx.meta
        T, H4, N = M.shape
        H = H4 // 4
        H2, H3 = 2 * H, 3 * H
        I = x_shape[2]
        off, poff, init, steps = _slots(T, reverse)
        grad = grad.astype(dt, copy=False)
        dc = xp.array(grad[T + 1].T, dtype=dt, order="C")
        inv = xp.argsort(perm)
        d2 = _empty((H4, T * N), dt, xp)  # pre-activation gradients, columns in (t, n) order
        carry = xp.zeros((H, N), dtype=dt)
        w_hhT = w_hh_p.T
        if xp is not np:  # on a GPU: one fused kernel per step, then the recurrent product
            from ._lstm_cuda import cell_backward

            for t in reversed(steps):
                da = d2[:, t * N:(t + 1) * N]
                cell_backward(xp, grad[t + off].T, carry, K[t], M[t], G[t, H2:H3], dc, da)
                xp.matmul(w_hhT, da, out=carry)
            steps = range(0)
        fast = loops_wanted(xp, dt, N * H, LSTM_THRESHOLD)
        work = None if fast else xp.empty((2 * H, N), dtype=dt)
        if fast:  # the loops read the output gradient as contiguous gate-major blocks
            gout = _empty((T + 1, H, N), dt, xp)
            gout[...] = grad[:T + 1].transpose(0, 2, 1)
        d3 = d2.reshape(H4, T, N)
        for t in reversed(steps):
            g_t = gout[t + off] if fast else grad[t + off].T
            lstm_backward_step(g_t, carry, K[t], M[t], G[t, H2:H3], dc, d3, t, work, fast)
            xp.matmul(w_hhT, d3[:, t], out=carry)
        needs = ctx.needs_input_grad
        dx = xp.matmul(d2.T, w_ih_p).reshape(x_shape).astype(x_dtype, copy=False) if needs[0] else None
        dw_ih = dw_hh = db = None
        if needs[3] or needs[4] or (ctx.has_bias and (needs[5] or needs[6])):
            dW = xp.matmul(d2, Z.reshape(T * N, -1))[inv]  # [dW_hh | dW_ih | db] in torch's gate order
            dw_hh = dW[:, :H] if needs[4] else None
            dw_ih = dW[:, H:H + I] if needs[3] else None
            db = dW[:, H + I] if ctx.has_bias else None
        dh0 = carry.T.copy() if needs[1] else None
        dc0 = dc.T.copy() if needs[2] else None
        return dx, dh0, dc0, dw_ih, dw_hh, db if needs[5] else None, db if needs[6] else None, None
