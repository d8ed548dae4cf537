"""The LSTM step's elementwise work as one CuPy kernel each way (the GPU twin of the NumPy passes in ``lstm.py``).

On a GPU every NumPy-style pass is a kernel launch: the forward cell (4 activations, the new cell and hidden state,
the stash for backward) takes 13 of them per time step and the backward one 6. These kernels do each in one,
with exactly the formulas of the NumPy path (``lstm.py``): gates are ``[o, i, f, g]`` rows, the sigmoid rows
pre-scaled by 1/2 so that ``sigmoid(a) = 0.5 tanh(a/2) + 0.5``. Compiled on first use. Parameter names avoid
CuPy's reserved ``i`` (the loop index) and ``_``-prefixed names.
"""
from __future__ import annotations

from typing import Any

__all__ = ["cell_forward", "cell_backward"]

_KERNELS: dict[str, Any] = {}

_FORWARD = """
    T so = (T)0.5 * tanh(gate_o) + (T)0.5;
    T si = (T)0.5 * tanh(gate_i) + (T)0.5;
    T sf = (T)0.5 * tanh(gate_f) + (T)0.5;
    T tg = tanh(gate_g);
    T cn = si * tg + sf * c_prev;
    T tc = tanh(cn);
    T hn = so * tc;
    gate_o = so; gate_i = si; gate_f = sf; gate_g = tg;
    c_new = cn; h_new = hn; h_out = hn; h_next = hn;
"""

_STASH = """
    m_o = hn * ((T)1 - so);
    m_i = si * tg * ((T)1 - si);
    m_f = sf * c_prev * ((T)1 - sf);
    m_g = si * ((T)1 - tg * tg);
    k_c = so * ((T)1 - tc * tc);
"""

_BACKWARD = """
    T dh = g_out + carry;
    T dcn = dc + dh * k_c;
    d_o = dh * m_o;
    d_i = m_i * dcn;
    d_f = m_f * dcn;
    d_g = m_g * dcn;
    dc = dcn * gate_f;
"""


def _kernel(cp: Any, name: str) -> Any:
    k = _KERNELS.get(name)
    if k is None:
        if name == "forward":
            k = cp.ElementwiseKernel("T c_prev", "T gate_o, T gate_i, T gate_f, T gate_g, T c_new, T h_new, T h_out, "
                                     "T h_next", _FORWARD, "gradlab_lstm_cell_forward")
        elif name == "forward_stash":
            k = cp.ElementwiseKernel(
                "T c_prev", "T gate_o, T gate_i, T gate_f, T gate_g, T c_new, T h_new, T h_out, T h_next, T m_o, "
                "T m_i, T m_f, T m_g, T k_c",
                _FORWARD + _STASH, "gradlab_lstm_cell_forward_stash")
        else:
            k = cp.ElementwiseKernel("T g_out, T carry, T k_c, T m_o, T m_i, T m_f, T m_g, T gate_f",
                                     "T dc, T d_o, T d_i, T d_f, T d_g", _BACKWARD, "gradlab_lstm_cell_backward")
        _KERNELS[name] = k
    return k


def cell_forward(cp: Any, gates: Any, c_prev: Any, c: Any, h: Any, h_out: Any, h_next: Any, m: Any = None,
                 k: Any = None) -> None:
    """One step in place: ``gates`` (4H, N) pre-activations -> activated ``[o, i, f, g]``; ``c``, ``h`` (H, N)
    written, ``h`` also into ``h_out`` and ``h_next`` (views); with ``m`` (4H, N) and ``k`` (H, N), the stash.

    >>> import pytest
    >>> cp = pytest.importorskip("cupy")  # runs where CuPy (a GPU) is present, skipped elsewhere
    >>> H, N = 2, 3
    >>> gates, c_prev = cp.zeros((4 * H, N), cp.float32), cp.ones((H, N), cp.float32)
    >>> c, h, h_out, h_next = (cp.empty((H, N), cp.float32) for _ in range(4))
    >>> cell_forward(cp, gates, c_prev, c, h, h_out, h_next)
    >>> float(gates[H, 0]), float(c[0, 0]), round(float(h[0, 0]), 4)  # i = f = o = 0.5, g = 0
    (0.5, 0.5, 0.2311)
    """
    H = c.shape[0]
    o, i, f, g = gates[:H], gates[H:2 * H], gates[2 * H:3 * H], gates[3 * H:]
    if m is None:
        _kernel(cp, "forward")(c_prev, o, i, f, g, c, h, h_out, h_next)
    else:
        _kernel(cp, "forward_stash")(c_prev, o, i, f, g, c, h, h_out, h_next, m[:H], m[H:2 * H], m[2 * H:3 * H],
                                     m[3 * H:], k)


def cell_backward(cp: Any, g_out: Any, carry: Any, k: Any, m: Any, f: Any, dc: Any, da: Any) -> None:
    """One step back: ``dc`` (H, N) updated in place, ``da`` (4H, N) receives the pre-activation gradients.

    >>> import pytest
    >>> cp = pytest.importorskip("cupy")  # runs where CuPy (a GPU) is present, skipped elsewhere
    >>> H, N = 2, 3
    >>> gates, c_prev = cp.zeros((4 * H, N), cp.float32), cp.ones((H, N), cp.float32)
    >>> c, h, h_out, h_next = (cp.empty((H, N), cp.float32) for _ in range(4))
    >>> m, k = cp.empty((4 * H, N), cp.float32), cp.empty((H, N), cp.float32)
    >>> cell_forward(cp, gates, c_prev, c, h, h_out, h_next, m, k)
    >>> dc, da = cp.zeros((H, N), cp.float32), cp.empty((4 * H, N), cp.float32)
    >>> g_out, carry = cp.ones((H, N), cp.float32), cp.zeros((H, N), cp.float32)
    >>> cell_backward(cp, g_out, carry, k, m, gates[2 * H:3 * H], dc, da)
    >>> bool(cp.allclose(da[:H], 0.5 * h))  # d_o = dh * h * (1 - o) with o = 0.5
    True
    """
    H = dc.shape[0]
    _kernel(cp, "backward")(g_out, carry, k, m[:H], m[H:2 * H], m[2 * H:3 * H], m[3 * H:], f, dc, da[:H],
                            da[H:2 * H], da[2 * H:3 * H], da[3 * H:])
