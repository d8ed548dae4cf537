"""The numba loops behind ``gradlab.kernels.recurrent``: one LSTM or GRU time step's elementwise work.

This module imports numba, so only ``recurrent.py`` imports it, and only when a numba kernel is about to run (it is
never imported by ``import gradlab``). Each loop does what its NumPy twin in ``recurrent.py`` does, element by
element, with the same formulas in the same order. The one numerical difference is tanh: float32 loops use
:func:`tanh_approx` (a rational fit within 8 ulp of ``np.tanh`` that vectorises; numba's own float32 tanh is a
scalar libm call, 20x slower) where the twin calls ``np.tanh``; float64 loops call ``np.tanh``.

Speed rules, measured: a loop vectorises only if LLVM can check at run time that its arrays do not overlap, and it
gives up past a handful of arrays, so each kernel is a few passes with few arrays each (still in cache); no
branch inside a loop (callers without a graph pass scratch arrays for backward's coefficients); C-contiguous
arrays only (a strided view, or an index computed with an offset, keeps the loop scalar: hence the (4H, T, N) view
that LSTM backward writes into). Arrays are gate-major: a gate is an (H, N) block.
"""
from __future__ import annotations

from typing import Any

import numpy as np

numba: Any
try:
    import numba
except ImportError:  # pragma: no cover - collected by the doctests without numba; the loops are never called then
    numba = None

__all__ = ["OPTIONS", "tanh_approx", "lstm_forward", "lstm_backward", "gru_forward", "gru_backward"]

OPTIONS: dict[str, Any] = {"cache": True, "error_model": "numpy", "nogil": True}  # as gradlab.kernels.njit


def _jit(func: Any) -> Any:
    return func if numba is None else numba.njit(**OPTIONS)(func)


# Eigen's float32 tanh (a [13/6] rational fit on [-7.9053, 7.9053], tanh(x) = x below 4e-4, +-1 beyond the clamp).
_A1, _A3, _A5, _A7 = 4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08
_A9, _A11, _A13 = -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16
_B0, _B2, _B4, _B6 = 4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06


def _tanh_rational(x: Any) -> Any:
    """tanh of a float32 scalar as a rational function (within 8 ulp of ``np.tanh``); vectorises in a loop."""
    f = np.float32
    clamp = f(7.90531110763549805)
    y = clamp if x > clamp else x  # written so that NaN passes through
    y = -clamp if y < -clamp else y
    y2 = y * y
    p = ((((((f(_A13) * y2 + f(_A11)) * y2 + f(_A9)) * y2 + f(_A7)) * y2 + f(_A5)) * y2 + f(_A3)) * y2 + f(_A1)) * y
    q = ((f(_B6) * y2 + f(_B4)) * y2 + f(_B2)) * y2 + f(_B0)
    return x if abs(x) < f(0.0004) else p / q


#: the rational tanh compiled on its own (for direct calls); the loops do not call this dispatcher: act_tanh's
#: overload hands numba the plain function, which compiles it into each loop (calling the dispatcher from the
#: overload cost one more numba compile, ~0.15 s CPU, on every uncached first use of the float32 loops)
tanh_approx = _jit(_tanh_rational)


def act_tanh(x: Any) -> Any:
    """The loops' tanh: :func:`tanh_approx` for float32, ``np.tanh`` for float64 (chosen when numba compiles)."""
    return np.tanh(x)


if numba is not None:

    @numba.extending.overload(act_tanh, jit_options={"error_model": "numpy"})
    def _act_tanh_overload(x: Any) -> Any:
        def exact(x: Any) -> Any:
            return np.tanh(x)

        return _tanh_rational if x == numba.types.float32 else exact


@_jit
def lstm_forward(g: Any, c_prev: Any, c: Any, m: Any, k: Any, h_out: Any, h_next: Any, has_next: bool) -> None:
    """LSTM cell forward over gate-major pre-activations ``g`` (4H, N), rows o, i, f, g (sigmoid rows halved)."""
    H = c.shape[0]
    N = c.shape[1]
    half = g.dtype.type(0.5)
    one = g.dtype.type(1)
    for j in range(H):  # three passes, each with few enough arrays for LLVM's alias checks (so they vectorise)
        for n in range(N):
            g[j, n] = act_tanh(g[j, n]) * half + half
            g[H + j, n] = act_tanh(g[H + j, n]) * half + half
            g[2 * H + j, n] = act_tanh(g[2 * H + j, n]) * half + half
            g[3 * H + j, n] = act_tanh(g[3 * H + j, n])
    for j in range(H):
        for n in range(N):
            si = g[H + j, n]
            sf = g[2 * H + j, n]
            tg = g[3 * H + j, n]
            ig = si * tg
            fc = sf * c_prev[j, n]
            c[j, n] = ig + fc
            m[H + j, n] = (one - si) * ig
            m[2 * H + j, n] = (one - sf) * fc
            m[3 * H + j, n] = si - ig * tg
    for j in range(H):
        for n in range(N):
            so = g[j, n]
            tc = act_tanh(c[j, n])
            hn = so * tc
            m[j, n] = (one - so) * hn
            k[j, n] = so - hn * tc
            c_prev[j, n] = hn  # c_prev is dead by now: it holds h
    for n in range(N):
        for j in range(H):
            h_out[n, j] = c_prev[j, n]
    if has_next:
        for n in range(N):
            for j in range(H):
                h_next[n, j] = c_prev[j, n]


@_jit
def lstm_backward(g_t: Any, carry: Any, k: Any, m: Any, f: Any, dc: Any, d3: Any, t: int) -> None:
    """LSTM cell backward into ``d3[:, t]`` (d3 (4H, T, N)): dh = g_t + carry, dc += dh K,
    [dh M_o; M_(i,f,g) dc], then dc *= f."""
    H = carry.shape[0]
    N = carry.shape[1]
    for j in range(H):
        for n in range(N):
            dh = g_t[j, n] + carry[j, n]
            d3[j, t, n] = dh * m[j, n]
            dc[j, n] += dh * k[j, n]
    for j in range(H):
        for n in range(N):
            d = dc[j, n]
            d3[H + j, t, n] = m[H + j, n] * d
            d3[2 * H + j, t, n] = m[2 * H + j, n] * d
            d3[3 * H + j, t, n] = m[3 * H + j, n] * d
            dc[j, n] = d * f[j, n]


@_jit
def gru_forward(a: Any, gh: Any, b_hn: Any, h_prev: Any, h: Any, m: Any, has_bias: bool) -> None:
    """GRU cell forward: ``a`` (3H, N) input path (r, z halved) becomes [r; z; n], ``h`` the new state."""
    H = h.shape[0]
    N = h.shape[1]
    half = a.dtype.type(0.5)
    one = a.dtype.type(1)
    zero = a.dtype.type(0)
    for j in range(H):
        bn = b_hn[j] if has_bias else zero
        for n in range(N):
            r = act_tanh(a[j, n] + gh[j, n]) * half + half
            z = act_tanh(a[H + j, n] + gh[H + j, n]) * half + half
            hn = gh[2 * H + j, n] + bn
            rhn = r * hn
            nn = act_tanh(a[2 * H + j, n] + rhn)
            zd = (h_prev[j, n] - nn) * z
            a[j, n] = r
            a[H + j, n] = z
            a[2 * H + j, n] = nn
            h[j, n] = nn + zd
            m[j, n] = (one - r) * rhn
            m[H + j, n] = (one - z) * zd
            m[2 * H + j, n] = (one - nn * nn) * (one - z)


@_jit
def gru_backward(g_t: Any, carry: Any, zdh: Any, m: Any, a: Any, dgx: Any, dgh: Any, t: int) -> None:
    """GRU cell backward: dh = g_t + carry + zdh; dgx[:, t] = [dA_r; dA_z; dA_n], dgh[:, t] = [dA_r; dA_z; r dA_n]
    (dgx, dgh (3H, T, N)); zdh = z dh."""
    H = carry.shape[0]
    N = carry.shape[1]
    for j in range(H):
        for n in range(N):
            dh = g_t[j, n] + carry[j, n]
            dh += zdh[j, n]
            dgx[H + j, t, n] = m[H + j, n] * dh
            dgx[2 * H + j, t, n] = m[2 * H + j, n] * dh
            zdh[j, n] = dh * a[H + j, n]
    for j in range(H):
        for n in range(N):
            dn = dgx[2 * H + j, t, n]
            dr = dn * m[j, n]
            dgx[j, t, n] = dr
            dgh[j, t, n] = dr
            dgh[H + j, t, n] = dgx[H + j, t, n]
            dgh[2 * H + j, t, n] = dn * a[j, n]
