"""One LSTM or GRU time step's elementwise work (everything between a step's GEMMs) in one call, both ways.

The recurrent ops (``gradlab/ops/lstm.py``, ``gradlab/ops/recurrent.py``) do a step's matrix products with NumPy
(BLAS) and hand the rest to these functions: the gate nonlinearities, the cell and hidden-state updates and the
coefficients backward needs (forward), or the pre-activation gradients of every gate (backward). Each function runs
its NumPy twin (``*_numpy``, the reference: about ten NumPy calls on (H, N) blocks) or, with ``numba=True``, one
compiled loop from ``_recurrent_loops.py`` (``gradlab[fast]``). In float32 the loops use a rational tanh within
8 ulp of ``np.tanh``; in float64 they call ``np.tanh``, so the two kernel sets agree to rounding.

Layout (the ops' gate-major blocks): a step's gates are a (G*H, N) array, gate after gate, each an (H, N) block;
LSTM gates in the order o, i, f, g and GRU gates r, z, n; the sigmoid gates' pre-activations arrive halved, since
``sigmoid(a) = 0.5 tanh(a / 2) + 0.5``. Hidden states for the packed output are written through (N, H) arrays.

>>> import numpy as np
>>> g, c_prev, c, h = np.zeros((8, 3)), np.ones((2, 3)), np.empty((2, 3)), np.empty((3, 2))
>>> lstm_forward_step(g, c_prev, c, h)           # every gate's pre-activation 0: i = f = o = 1/2, g = 0
>>> float(c[0, 0]), round(float(h[0, 0]), 6)      # c = f c_prev, h = o tanh(c)
(0.5, 0.231059)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.backend import get_array_module
from gradlab.kernels._select import wants_numba

__all__ = [
    "LSTM_THRESHOLD",
    "GRU_THRESHOLD",
    "loops_wanted",
    "lstm_forward_step",
    "lstm_forward_step_numpy",
    "lstm_backward_step",
    "lstm_backward_step_numpy",
    "gru_forward_step",
    "gru_forward_step_numpy",
    "gru_backward_step",
    "gru_backward_step_numpy",
]

# Sizes (batch * hidden) from which ``auto`` picks the loops: below them a whole fit's steps cost less than the
# loops' first compile. Above, the loops won at every size measured (benchmarks/recurrent_kernels.py; GRU backward
# included, up to batch 256 x hidden 512), so there is no upper limit.
LSTM_THRESHOLD = 2048
GRU_THRESHOLD = 2048


_LOOPS: Any = None
#: lstm_forward_step's stand-in for an absent ``h_next`` (strided as the real one, never written), one per dtype
_NO_NEXT = {np.dtype(t): np.empty((2, 2), dtype=t)[:, :1] for t in (np.float32, np.float64)}


def loops_wanted(xp: Any, dtype: Any, size: int, threshold: int) -> bool:
    """Whether a recurrent op should run the numba loops: NumPy arrays of float32 or float64 (the types the loops
    are written for) and :func:`gradlab.kernels.wants_numba` says yes for ``size`` (batch * hidden).

    >>> from gradlab import kernels
    >>> with kernels.use("numpy"):
    ...     loops_wanted(np, np.float32, 10**6, LSTM_THRESHOLD)
    False
    >>> loops_wanted(np, np.float16, 10**6, LSTM_THRESHOLD)
    False
    """
    return xp is np and np.dtype(dtype) in (np.float32, np.float64) and wants_numba(size, threshold)


def _loops() -> Any:
    global _LOOPS
    if _LOOPS is None:
        from gradlab.kernels import _recurrent_loops  # imports numba: only when a loop runs

        _LOOPS = _recurrent_loops
    return _LOOPS


def lstm_forward_step_numpy(g: Any, c_prev: Any, c: Any, h_out: Any, h_next: Any = None, m: Any = None,
                            k: Any = None, work: Any = None) -> None:
    """The NumPy twin of :func:`lstm_forward_step` (same arguments; ``work`` an optional (3H, N) scratch array).

    >>> g, c_prev, c, h = np.zeros((4, 1)), np.zeros((1, 1)), np.empty((1, 1)), np.empty((1, 1))
    >>> lstm_forward_step_numpy(g, c_prev, c, h); g.ravel().tolist()  # activated gates o, i, f, g
    [0.5, 0.5, 0.5, 0.0]
    """
    xp = get_array_module(g)
    H = c.shape[0]
    H2, H3 = 2 * H, 3 * H
    work = xp.empty((H3, c.shape[1]), dtype=g.dtype) if work is None else work
    igfc = work[:H2]  # [i * g ; f * c_prev]
    ig, fc = igfc[:H], igfc[H:]
    xp.tanh(g, out=g)
    s = g[:H3]
    s *= 0.5
    s += 0.5
    o, i, f, gg = g[:H], g[H:H2], g[H2:H3], g[H3:]
    xp.multiply(i, gg, out=ig)
    xp.multiply(f, c_prev, out=fc)
    xp.add(ig, fc, out=c)
    h = c_prev  # dead from here on: it holds h
    tc = work[H2:] if k is None else k
    xp.tanh(c, out=tc)
    xp.multiply(o, tc, out=h)
    xp.copyto(h_out.T, h)
    if h_next is not None:
        xp.copyto(h_next.T, h)
    if m is not None:
        ms = m[:H3]
        xp.subtract(1, s, out=ms)  # 1 - (o, i, f)
        m[:H] *= h  # o tanh(c) (1 - o)
        m[H:H3] *= igfc  # i g (1 - i), f c_prev (1 - f)
        mg = m[H3:]
        xp.multiply(ig, gg, out=mg)
        xp.subtract(i, mg, out=mg)  # i (1 - g^2)
    if k is not None:
        k *= h
        xp.subtract(o, k, out=k)  # o (1 - tanh(c)^2)


def lstm_forward_step(g: Any, c_prev: Any, c: Any, h_out: Any, h_next: Any = None, m: Any = None, k: Any = None,
                      work: Any = None, numba: bool = False) -> None:
    """One LSTM cell step after its GEMM, in place: activate ``g`` (4H, N), write the cell state ``c`` (H, N), the
    hidden state into ``h_out`` (N, H), ``h_next`` (N, H) if given, and ``c_prev`` (which it overwrites: it holds
    h (H, N) afterwards); with ``m`` (4H, N) and ``k`` (H, N), also backward's coefficients
    ``M = [o (1 - o) tanh(c); i (1 - i) g; f (1 - f) c_prev; i (1 - g^2)]`` and ``K = o (1 - tanh(c)^2)``.

    >>> g, c_prev, c, h = np.zeros((4, 1)), np.full((1, 1), 2.0), np.empty((1, 1)), np.empty((1, 1))
    >>> lstm_forward_step(g, c_prev, c, h); float(c[0, 0])  # f c_prev + i g = 0.5 * 2 + 0
    1.0
    """
    if not numba:
        lstm_forward_step_numpy(g, c_prev, c, h_out, h_next, m, k, work)
        return
    if m is None or k is None:  # the loop always writes them (a branch would stop it from vectorising)
        m, k = np.empty_like(g), np.empty_like(c)
    has_next = h_next is not None
    if not has_next:  # a strided stand-in (never written), so that numba compiles one version of the loop
        h_next = _NO_NEXT[g.dtype]
    _loops().lstm_forward(g, c_prev, c, m, k, h_out, h_next, has_next)


def lstm_backward_step_numpy(g_t: Any, carry: Any, k: Any, m: Any, f: Any, dc: Any, d3: Any, t: int,
                             work: Any = None) -> None:
    """The NumPy twin of :func:`lstm_backward_step` (same arguments; ``work`` an optional (2H, N) scratch array).

    >>> one = np.ones((1, 1))
    >>> dc, d3 = np.zeros((1, 1)), np.zeros((4, 2, 1))
    >>> lstm_backward_step_numpy(one, one, one, np.ones((4, 1)), one, dc, d3, 1); d3[:, 1].ravel().tolist()
    [2.0, 2.0, 2.0, 2.0]
    """
    xp = get_array_module(carry)
    H, N = carry.shape
    da = d3[:, t]
    work = xp.empty((2 * H, N), dtype=carry.dtype) if work is None else work
    dh, tmp = work[:H], work[H:]
    xp.add(g_t, carry, out=dh)
    xp.multiply(dh, k, out=tmp)
    dc += tmp
    xp.multiply(dh, m[:H], out=da[:H])
    xp.multiply(m[H:].reshape(3, H, N), dc, out=da[H:].reshape(3, H, N))
    dc *= f


def lstm_backward_step(g_t: Any, carry: Any, k: Any, m: Any, f: Any, dc: Any, d3: Any, t: int, work: Any = None,
                       numba: bool = False) -> None:
    """One LSTM cell step of backward: with ``dh = g_t + carry`` (the output's gradient (H, N) plus the recurrent
    one), ``dc += dh K``, the pre-activation gradients ``d3[:, t]`` (of a (4H, T, N) array)
    ``= [dh M_o; M_(i,f,g) dc]``, then ``dc *= f`` (the cell gradient handed to the previous step). The loops want
    C-contiguous ``g_t`` and ``d3`` (a strided block would stop them from vectorising).

    >>> one = np.ones((1, 1))
    >>> dc, d3 = np.zeros((1, 1)), np.empty((4, 1, 1))
    >>> lstm_backward_step(one, one, one, np.ones((4, 1)), np.full((1, 1), 0.5), dc, d3, 0); float(dc[0, 0])
    1.0
    """
    if not numba:
        lstm_backward_step_numpy(g_t, carry, k, m, f, dc, d3, t, work)
        return
    _loops().lstm_backward(g_t, carry, k, m, f, dc, d3, t)


def gru_forward_step_numpy(a: Any, gh: Any, b_hn: Any, h_prev: Any, h: Any, m: Any = None, work: Any = None) -> None:
    """The NumPy twin of :func:`gru_forward_step` (same arguments; ``work`` an optional (2H, N) scratch array).

    >>> a, gh, hp, h = np.zeros((3, 1)), np.zeros((3, 1)), np.ones((1, 1)), np.empty((1, 1))
    >>> gru_forward_step_numpy(a, gh, None, hp, h); float(h[0, 0])  # n + z (h_prev - n) = 0 + 0.5
    0.5
    """
    xp = get_array_module(a)
    H, N = h.shape
    H2 = 2 * H
    rz_prod = xp.empty((H2, N), dtype=a.dtype) if work is None else work  # [r * hn ; z * (h_prev - n)]
    rhn, zd = rz_prod[:H], rz_prod[H:]
    hn = gh[H2:]
    if b_hn is not None:
        hn += b_hn[:, None]
    rz = a[:H2]
    rz += gh[:H2]
    xp.tanh(rz, out=rz)
    rz *= 0.5
    rz += 0.5
    r, z, n = a[:H], a[H:H2], a[H2:]
    xp.multiply(r, hn, out=rhn)
    n += rhn
    xp.tanh(n, out=n)
    xp.subtract(h_prev, n, out=zd)
    zd *= z
    xp.add(n, zd, out=h)
    if m is not None:
        xp.subtract(1, rz, out=m[:H2])  # 1 - r, 1 - z
        mn = m[H2:]
        xp.multiply(n, n, out=mn)
        xp.subtract(1, mn, out=mn)
        mn *= m[H:H2]  # (1 - n^2)(1 - z)
        m[:H2] *= rz_prod  # r hn (1 - r), z (h_prev - n)(1 - z)


def gru_forward_step(a: Any, gh: Any, b_hn: Any, h_prev: Any, h: Any, m: Any = None, work: Any = None,
                     numba: bool = False) -> None:
    """One GRU cell step after its GEMMs (PyTorch's ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``): ``a`` (3H, N)
    holds the input path (r and z rows halved, their biases folded in) and becomes the activated ``[r; z; n]``;
    ``gh`` (3H, N) is the hidden path (r and z rows halved; its n rows get ``b_hn`` (H,) added when given); writes
    the new state ``h`` (H, N) and, with ``m`` (3H, N), backward's ``[r (1 - r) hn; z (1 - z)(h_prev - n);
    (1 - z)(1 - n^2)]``.

    >>> a, gh, hp, h = np.zeros((3, 1)), np.zeros((3, 1)), np.full((1, 1), 4.0), np.empty((1, 1))
    >>> gru_forward_step(a, gh, None, hp, h); float(h[0, 0])
    2.0
    """
    if not numba:
        gru_forward_step_numpy(a, gh, b_hn, h_prev, h, m, work)
        return
    bias = b_hn is not None
    _loops().gru_forward(a, gh, b_hn if bias else gh[0], h_prev, h, np.empty_like(a) if m is None else m, bias)


def gru_backward_step_numpy(g_t: Any, carry: Any, zdh: Any, m: Any, a: Any, dgx: Any, dgh: Any, t: int,
                            work: Any = None) -> None:
    """The NumPy twin of :func:`gru_backward_step` (same arguments; ``work`` an optional (H, N) scratch array).

    >>> one = np.ones((1, 1))
    >>> zdh, dgx, dgh = np.zeros((1, 1)), np.empty((3, 1, 1)), np.empty((3, 1, 1))
    >>> gru_backward_step_numpy(one, one, zdh, np.ones((3, 1)), np.full((3, 1), 0.5), dgx, dgh, 0)
    >>> dgx.ravel().tolist(), dgh.ravel().tolist(), float(zdh[0, 0])
    ([2.0, 2.0, 2.0], [2.0, 2.0, 1.0], 1.0)
    """
    xp = get_array_module(carry)
    H, N = carry.shape
    H2 = 2 * H
    dx_t, dh_t = dgx[:, t], dgh[:, t]
    dh = xp.empty((H, N), dtype=carry.dtype) if work is None else work
    xp.add(g_t, carry, out=dh)
    dh += zdh
    xp.multiply(m[H:].reshape(2, H, N), dh, out=dx_t[H:].reshape(2, H, N))  # dA_z, dA_n (the reshape is a view)
    xp.multiply(dx_t[H2:], m[:H], out=dx_t[:H])  # dA_r
    dh_t[:H2] = dx_t[:H2]
    xp.multiply(dx_t[H2:], a[:H], out=dh_t[H2:])
    xp.multiply(dh, a[H:H2], out=zdh)


def gru_backward_step(g_t: Any, carry: Any, zdh: Any, m: Any, a: Any, dgx: Any, dgh: Any, t: int, work: Any = None,
                      numba: bool = False) -> None:
    """One GRU cell step of backward: ``dh = g_t + carry + zdh`` (the output's gradient (H, N), the hidden GEMM's
    share and the previous step's ``z dh``), then the pre-activation gradients of the input path
    ``dgx[:, t] = [dA_r; dA_z; dA_n]`` and of the hidden path ``dgh[:, t] = [dA_r; dA_z; r dA_n]`` (``dgx`` and
    ``dgh`` are (3H, T, N)), and ``zdh = z dh`` for the next step back. ``a`` is forward's activated ``[r; z; n]``,
    ``m`` its coefficients. The loops want C-contiguous arrays (a strided one would stop them from vectorising).

    >>> one = np.ones((1, 1))
    >>> zdh, dgx, dgh = np.zeros((1, 1)), np.empty((3, 1, 1)), np.empty((3, 1, 1))
    >>> gru_backward_step(one, one, zdh, np.ones((3, 1)), np.full((3, 1), 0.5), dgx, dgh, 0); float(zdh[0, 0])
    1.0
    """
    if not numba:
        gru_backward_step_numpy(g_t, carry, zdh, m, a, dgx, dgh, t, work)
        return
    _loops().gru_backward(g_t, carry, zdh, m, a, dgx, dgh, t)
