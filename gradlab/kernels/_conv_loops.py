"""The numba loops behind :mod:`gradlab.kernels.conv` (compiled lazily on first call, cached on disk).

Plain Python over NumPy arrays: each function is also runnable uncompiled through ``.py_func`` (slowly), which is
how the doctests check them without numba. Callers pass contiguous arrays of one float dtype; every loop has one
signature per dtype, so a float32 model compiles each loop once.
"""
from __future__ import annotations

from typing import Any

from gradlab.kernels._select import njit

__all__ = ["max_pool2x2_loop", "max_pool2x2_backward_loop", "col2im_loop"]


@njit()
def max_pool2x2_loop(x: Any, out: Any, arg: Any) -> None:
    """2x2 stride-2 max over (P, H, W) planes into ``out`` (P, H//2, W//2) and its window offset into ``arg``.

    Ties keep the first offset in row-major order (as NumPy's strict ``>`` scan and torch); a NaN wins and the
    last NaN of a window is kept (torch's rule).

    >>> import numpy as np
    >>> x = np.array([[[1.0, 3.0], [3.0, 0.0]]]); out = np.empty((1, 1, 1)); arg = np.empty((1, 1, 1), np.uint8)
    >>> max_pool2x2_loop.py_func(x, out, arg); out.ravel().tolist(), arg.ravel().tolist()
    ([3.0], [1])
    """
    p_, ho, wo = out.shape
    for p in range(p_):
        for oy in range(ho):
            r0 = x[p, 2 * oy]
            r1 = x[p, 2 * oy + 1]
            for ox in range(wo):
                best = r0[2 * ox]
                a = 0
                v = r0[2 * ox + 1]
                if v > best or v != v:
                    best = v
                    a = 1
                v = r1[2 * ox]
                if v > best or v != v:
                    best = v
                    a = 2
                v = r1[2 * ox + 1]
                if v > best or v != v:
                    best = v
                    a = 3
                out[p, oy, ox] = best
                arg[p, oy, ox] = a


@njit()
def max_pool2x2_backward_loop(grad: Any, arg: Any, gx: Any) -> None:
    """Route each gradient of ``grad`` (P, ho, wo) to its window offset ``arg`` in ``gx`` (P, H, W); every other
    position of ``gx`` is written with zero (so ``gx`` may come uninitialised).

    >>> import numpy as np
    >>> gx = np.empty((1, 2, 3)); g = np.array([[[5.0]]]); arg = np.array([[[2]]], np.uint8)
    >>> max_pool2x2_backward_loop.py_func(g, arg, gx); gx.tolist()
    [[[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]]]
    """
    p_, ho, wo = grad.shape
    h, w = gx.shape[1], gx.shape[2]
    zero = gx.dtype.type(0)
    for p in range(p_):
        for oy in range(ho):
            r0 = gx[p, 2 * oy]
            r1 = gx[p, 2 * oy + 1]
            for ox in range(wo):
                g = grad[p, oy, ox]
                a = arg[p, oy, ox]
                r0[2 * ox] = g if a == 0 else zero
                r0[2 * ox + 1] = g if a == 1 else zero
                r1[2 * ox] = g if a == 2 else zero
                r1[2 * ox + 1] = g if a == 3 else zero
            for xx in range(2 * wo, w):  # an odd width: the last column is in no window
                r0[xx] = zero
                r1[xx] = zero
        for yy in range(2 * ho, h):
            for xx in range(w):
                gx[p, yy, xx] = zero


@njit()
def col2im_loop(cols: Any, gx: Any, sh: int, sw: int, dh: int, dw: int, pt: int, pl: int) -> None:
    """Sum columns ``cols`` (C, kh, kw, N, ho, wo) back onto ``gx`` (N, C, H, W), which must start at zero.

    Window positions in the padding are skipped; kernel offsets are added in row-major order (as the NumPy twin).

    >>> import numpy as np
    >>> cols = np.ones((1, 2, 2, 1, 1, 2)); gx = np.zeros((1, 1, 2, 3))
    >>> col2im_loop.py_func(cols, gx, 1, 1, 1, 1, 0, 0); gx.tolist()
    [[[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]]
    """
    c_, kh, kw, n_, ho, wo = cols.shape
    h, w = gx.shape[2], gx.shape[3]
    for n in range(n_):
        for c in range(c_):
            plane = gx[n, c]
            for i in range(kh):
                for j in range(kw):
                    src = cols[c, i, j, n]
                    x0 = j * dw - pl
                    lo = 0
                    while lo < wo and x0 + lo * sw < 0:
                        lo += 1
                    hi = wo
                    while hi > lo and x0 + (hi - 1) * sw >= w:
                        hi -= 1
                    for oy in range(ho):
                        y = oy * sh + i * dh - pt
                        if y < 0 or y >= h:
                            continue
                        row = plane[y]
                        s = src[oy]
                        for ox in range(lo, hi):
                            row[x0 + ox * sw] += s[ox]

