"""The numba loops behind ``gradlab.kernels.recurrent``: one LSTM or GRU time step's elementwise work in one pass.

This module imports numba, so only ``recurrent.py`` imports it, and only when a numba kernel is about to run (it is
never imported by ``import gradlab``). Each loop does what its NumPy twin in ``recurrent.py`` does, element by
element, with the same formulas in the same order; the only numerical difference is ``approx``: float32 loops then
use :func:`tanh_approx` (a rational fit, within 8 ulp of ``np.tanh``, that the compiler can vectorise) where the
twin calls ``np.tanh``. Arrays are gate-major (a gate is an (H, N) block); ``h_out``/``h_next``/``g_t`` are read or
written through the (N, H) or transposed views the callers hand in.
"""
from __future__ import annotations

from typing import Any

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - collected by the doctests without numba; the loops are never called then
    numba = None

__all__ = ["OPTIONS", "tanh_approx", "lstm_forward", "lstm_backward", "gru_forward", "gru_backward"]

OPTIONS = {"cache": True, "error_model": "numpy", "nogil": True}


def _jit(func: Any) -> Any:
    return func if numba is None else numba.njit(**OPTIONS)(func)


# Eigen's float32 tanh (a [13/6] rational fit on [-7.9053, 7.9053], tanh(x) = x below 4e-4, +-1 beyond the clamp).
_A1, _A3, _A5, _A7 = 4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08
_A9, _A11, _A13 = -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16
_B0, _B2, _B4, _B6 = 4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06


@_jit
def tanh_approx(x: Any) -> Any:
    """tanh of a float32 scalar as a rational function (within 8 ulp of ``np.tanh``); vectorises in a loop."""
    f = np.float32
    clamp = f(7.90531110763549805)
    y = x if x < clamp else clamp
    y = y if y > -clamp else -clamp
    y2 = y * y
    p = ((((((f(_A13) * y2 + f(_A11)) * y2 + f(_A9)) * y2 + f(_A7)) * y2 + f(_A5)) * y2 + f(_A3)) * y2 + f(_A1)) * y
    q = ((f(_B6) * y2 + f(_B4)) * y2 + f(_B2)) * y2 + f(_B0)
    return x if abs(x) < f(0.0004) else p / q


@_jit
def _tanh(x: Any, approx: bool) -> Any:
    return tanh_approx(x) if approx else np.tanh(x)


@_jit
def lstm_forward(g: Any, c_prev: Any, c: Any, h_out: Any, h_next: Any, m: Any, k: Any, has_next: bool, grad: bool,
                 approx: bool) -> None:
    """LSTM cell forward over gate-major pre-activations ``g`` (4H, N), rows o, i, f, g (sigmoid rows halved)."""
    H = c.shape[0]
    N = c.shape[1]
    half = g.dtype.type(0.5)
    one = g.dtype.type(1)
    for j in range(H):
        for n in range(N):
            so = _tanh(g[j, n], approx) * half + half
            si = _tanh(g[H + j, n], approx) * half + half
            sf = _tanh(g[2 * H + j, n], approx) * half + half
            tg = _tanh(g[3 * H + j, n], approx)
            g[j, n] = so
            g[H + j, n] = si
            g[2 * H + j, n] = sf
            g[3 * H + j, n] = tg
            ig = si * tg
            fc = sf * c_prev[j, n]
            cn = ig + fc
            tc = _tanh(cn, approx)
            hn = so * tc
            c[j, n] = cn
            if grad:
                m[j, n] = (one - so) * hn
                m[H + j, n] = (one - si) * ig
                m[2 * H + j, n] = (one - sf) * fc
                m[3 * H + j, n] = si - ig * tg
                k[j, n] = so - hn * tc
            c_prev[j, n] = hn  # c_prev is dead after this element: keep h here, then scatter it below
    for n in range(N):
        for j in range(H):
            h_out[n, j] = c_prev[j, n]
    if has_next:
        for n in range(N):
            for j in range(H):
                h_next[n, j] = c_prev[j, n]


@_jit
def lstm_backward(g_t: Any, carry: Any, k: Any, m: Any, f: Any, dc: Any, da: Any) -> None:
    """LSTM cell backward: dh = g_t + carry, dc += dh K, da = [dh M_o; M_(i,f,g) dc], then dc *= f."""
    H = carry.shape[0]
    N = carry.shape[1]
    for j in range(H):
        for n in range(N):
            dh = g_t[j, n] + carry[j, n]
            d = dc[j, n] + dh * k[j, n]
            da[j, n] = dh * m[j, n]
            da[H + j, n] = m[H + j, n] * d
            da[2 * H + j, n] = m[2 * H + j, n] * d
            da[3 * H + j, n] = m[3 * H + j, n] * d
            dc[j, n] = d * f[j, n]


@_jit
def gru_forward(a: Any, gh: Any, b_hn: Any, h_prev: Any, h: Any, m: Any, has_bias: bool, grad: bool,
                approx: bool) -> None:
    """GRU cell forward: ``a`` (3H, N) input path (r, z halved) becomes [r; z; n], ``h`` the new state."""
    H = h.shape[0]
    N = h.shape[1]
    half = a.dtype.type(0.5)
    one = a.dtype.type(1)
    zero = a.dtype.type(0)
    for j in range(H):
        bn = b_hn[j] if has_bias else zero
        for n in range(N):
            r = _tanh(a[j, n] + gh[j, n], approx) * half + half
            z = _tanh(a[H + j, n] + gh[H + j, n], approx) * half + half
            hn = gh[2 * H + j, n] + bn
            rhn = r * hn
            nn = _tanh(a[2 * H + j, n] + rhn, approx)
            hp = h_prev[j, n]
            zd = (hp - nn) * z
            a[j, n] = r
            a[H + j, n] = z
            a[2 * H + j, n] = nn
            h[j, n] = nn + zd
            if grad:
                m[j, n] = (one - r) * rhn
                m[H + j, n] = (one - z) * zd
                m[2 * H + j, n] = (one - nn * nn) * (one - z)


@_jit
def gru_backward(g_t: Any, carry: Any, zdh: Any, m: Any, a: Any, dgx: Any, dgh: Any) -> None:
    """GRU cell backward: dh = g_t + carry + zdh; dgx = [dA_r; dA_z; dA_n], dgh = [dA_r; dA_z; r dA_n]; zdh = z dh."""
    H = carry.shape[0]
    N = carry.shape[1]
    for j in range(H):
        for n in range(N):
            dh = g_t[j, n] + carry[j, n]
            dh += zdh[j, n]
            dz = m[H + j, n] * dh
            dn = m[2 * H + j, n] * dh
            dr = dn * m[j, n]
            dgx[j, n] = dr
            dgx[H + j, n] = dz
            dgx[2 * H + j, n] = dn
            dgh[j, n] = dr
            dgh[H + j, n] = dz
            dgh[2 * H + j, n] = dn * a[j, n]
            zdh[j, n] = dh * a[H + j, n]
