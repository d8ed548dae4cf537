"""Fused kernels for the convolution side: 2x2 max-pool forward/backward and col2im, each beside its NumPy twin.

The NumPy twins (``*_numpy``) are the reference the tests compare the compiled loops with, and what runs when the
kernel set is ``numpy`` or the problem is small (below ``POOL_THRESHOLD`` / ``COL2IM_THRESHOLD`` elements under
``auto``). ``gradlab.ops.pooling`` and ``gradlab.ops._im2col`` call the public functions only on CPU arrays and
only when :func:`gradlab.kernels.wants_numba` says so; their own strided NumPy code stays the default path.

Measured on the 2-core machines (``benchmarks/kernels_conv.py``): see the figures above the thresholds.
Measured and not adopted (no faster than NumPy): im2col, both the wide (padded-row) layout and the flat-grid column
tiles as one vectorised copy loop per contiguous run (1.00x on the 75 MB columns of the 64-channel 3x3 layer, on
its cache-sized tiles and on LeNet-5's first layer: ``np.copyto`` out of the ``as_strided`` view is already a
memory-bound copy; the standard strided layout, short rows, ran 4x slower in numba), and the stride-1 col2im over
the flat padded grid (``gradlab.ops.conv._col2im_flat``, 25 contiguous adds: 0.89 ms NumPy, 0.90 ms numba).

>>> import numpy as np
>>> from gradlab import kernels
>>> with kernels.use("numpy"):
...     out, arg = max_pool2x2(np.arange(16.0).reshape(1, 1, 4, 4))
>>> out[0, 0].tolist(), arg[0, 0].tolist()
([[5.0, 7.0], [13.0, 15.0]], [[3, 3], [3, 3]])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.kernels import _conv_loops as loops
from gradlab.kernels._select import wants_numba

__all__ = [
    "POOL_THRESHOLD",
    "COL2IM_THRESHOLD",
    "compiled_dtype",
    "max_pool2x2",
    "max_pool2x2_numpy",
    "max_pool2x2_backward",
    "max_pool2x2_backward_numpy",
    "col2im",
    "col2im_numpy",
]

# Below these sizes (input elements; column elements for col2im) ``auto`` stays on NumPy: the per-call cost of a few
# strided NumPy passes is small there, and a small model never pays the JIT start-up. Measured 2026-12-05, float32,
# forward + backward, numba against the op's NumPy path, load average 4-5 on 2 cores: max-pool 1.16x on
# (128, 6, 28, 28), 1.7x on (128, 16, 10, 10), 1.8x on (32, 64, 32, 32); col2im 1.06-1.18x on the 64-channel 3x3
# stride-2 layer (32, 64, 32, 32). First use compiles each loop once per dtype (about 0.3 s CPU each, cached).
POOL_THRESHOLD = 16384
COL2IM_THRESHOLD = 65536


def compiled_dtype(*arrays: Any) -> bool:
    """Whether the compiled loops take these arrays: plain NumPy arrays (not a subclass: a device array type built
    on ndarray must keep its own path), all float32 or all float64.

    >>> compiled_dtype(np.zeros(2, np.float32)), compiled_dtype(np.zeros(2, np.int64))
    (True, False)
    """
    if not all(type(a) is np.ndarray for a in arrays):
        return False
    dt = arrays[0].dtype
    return dt in (np.float32, np.float64) and all(a.dtype == dt for a in arrays)


def _use_loops(size: int, threshold: int, *arrays: Any) -> bool:
    return compiled_dtype(*arrays) and wants_numba(size, threshold)


# ---------------------------------------------------------------------------------------------------------------
# max-pool 2x2, stride 2, no padding (floor mode: an odd last row/column is in no window)
# ---------------------------------------------------------------------------------------------------------------


def max_pool2x2_numpy(x: Any) -> tuple[Any, Any]:
    """``(out, arg)`` of a 2x2 stride-2 max-pool of NCHW ``x``: ``arg`` (uint8) is the window offset 0..3
    (row-major) of each max, the first one on ties, the last NaN where a window has NaNs (torch's rules).

    >>> out, arg = max_pool2x2_numpy(np.array([[[[1.0, 3.0, 9.0], [3.0, 0.0, 9.0]]]]))
    >>> out.tolist(), arg.tolist()
    ([[[[3.0]]]], [[[[1]]]])
    """
    n, c, h, w = x.shape
    ho, wo = h // 2, w // 2
    v = x[:, :, : 2 * ho, : 2 * wo].reshape(n, c, ho, 2, wo, 2)
    best = v[:, :, :, 0, :, 0].copy()
    arg = np.zeros(best.shape, dtype=np.uint8)
    for k in (1, 2, 3):
        vk = v[:, :, :, k // 2, :, k % 2]
        better = (vk > best) | (vk != vk)
        np.copyto(best, vk, where=better)
        arg[better] = k
    return best, arg


def max_pool2x2(x: Any) -> tuple[Any, Any]:
    """:func:`max_pool2x2_numpy`, compiled when the kernel set and size say so (float32/float64 CPU arrays).

    >>> from gradlab import kernels
    >>> with kernels.use("numpy"):
    ...     max_pool2x2(np.ones((1, 1, 2, 2)))[0].shape
    (1, 1, 1, 1)
    """
    if not _use_loops(x.size, POOL_THRESHOLD, x):
        return max_pool2x2_numpy(x)
    n, c, h, w = x.shape
    ho, wo = h // 2, w // 2
    out = np.empty((n, c, ho, wo), dtype=x.dtype)
    arg = np.empty((n, c, ho, wo), dtype=np.uint8)
    loops.max_pool2x2_loop(np.ascontiguousarray(x).reshape(n * c, h, w), out.reshape(n * c, ho, wo),
                           arg.reshape(n * c, ho, wo))
    return out, arg


def max_pool2x2_backward_numpy(grad: Any, arg: Any, x_shape: tuple) -> Any:
    """The input gradient of :func:`max_pool2x2_numpy`: each output gradient sent to its window offset ``arg``.

    >>> max_pool2x2_backward_numpy(np.array([[[[5.0]]]]), np.array([[[[1]]]], np.uint8), (1, 1, 2, 2)).tolist()
    [[[[0.0, 5.0], [0.0, 0.0]]]]
    """
    n, c, h, w = x_shape
    ho, wo = grad.shape[2:]
    gx = np.zeros(x_shape, dtype=grad.dtype)
    g6 = gx[:, :, : 2 * ho, : 2 * wo].reshape(n, c, ho, 2, wo, 2) if (h, w) == (2 * ho, 2 * wo) else None
    for k in range(4):
        sel = np.where(arg == k, grad, 0)
        if g6 is not None:
            g6[:, :, :, k // 2, :, k % 2] = sel
        else:
            gx[:, :, k // 2 : 2 * ho : 2, k % 2 : 2 * wo : 2] = sel
    return gx


def max_pool2x2_backward(grad: Any, arg: Any, x_shape: tuple) -> Any:
    """:func:`max_pool2x2_backward_numpy`, compiled when the kernel set and size say so.

    >>> from gradlab import kernels
    >>> with kernels.use("numpy"):
    ...     max_pool2x2_backward(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 1, 1), np.uint8), (1, 1, 2, 3)).shape
    (1, 1, 2, 3)
    """
    if not _use_loops(int(np.prod(x_shape)), POOL_THRESHOLD, grad):
        return max_pool2x2_backward_numpy(grad, arg, x_shape)
    n, c, h, w = x_shape
    ho, wo = grad.shape[2:]
    gx = np.empty(x_shape, dtype=grad.dtype)
    loops.max_pool2x2_backward_loop(np.ascontiguousarray(grad).reshape(n * c, ho, wo),
                                    np.ascontiguousarray(arg).reshape(n * c, ho, wo), gx.reshape(n * c, h, w))
    return gx


# ---------------------------------------------------------------------------------------------------------------
# col2im: the adjoint of im2col (standard layout, any stride)
# ---------------------------------------------------------------------------------------------------------------


def col2im_numpy(cols: Any, x_shape: tuple, kernel: tuple, stride: tuple, pad4: tuple, dilation: tuple,
                 out_hw: tuple) -> Any:
    """Sum columns ``(C*kh*kw, N*ho*wo)`` (rows: channel, ky, kx) back onto an NCHW array of ``x_shape``: one
    strided slice add per kernel offset; windows in the padding (``pad4`` = top, bottom, left, right) are dropped.

    >>> col2im_numpy(np.ones((4, 2)), (1, 1, 2, 3), (2, 2), (1, 1), (0, 0, 0, 0), (1, 1), (1, 2)).tolist()
    [[[[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]]]
    """
    n, c, h, w = x_shape
    kh, kw = kernel
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_hw
    pt, pb, pl, pr = pad4
    c6 = cols.reshape(c, kh, kw, n, ho, wo)
    hp, wp = max(h + pt + pb, (ho - 1) * sh + dh * (kh - 1) + 1), max(w + pl + pr, (wo - 1) * sw + dw * (kw - 1) + 1)
    gt = np.zeros((c, n, hp, wp), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            gt[:, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw] += c6[:, i, j]
    return np.ascontiguousarray(gt[:, :, pt : pt + h, pl : pl + w].transpose(1, 0, 2, 3))


def col2im(cols: Any, x_shape: tuple, kernel: tuple, stride: tuple, pad4: tuple, dilation: tuple,
           out_hw: tuple) -> Any:
    """:func:`col2im_numpy`, compiled (one scatter-add pass straight into NCHW) when the kernel set and size say so.

    >>> from gradlab import kernels
    >>> with kernels.use("numpy"):
    ...     col2im(np.ones((4, 2)), (1, 1, 2, 3), (2, 2), (1, 1), (0, 0, 0, 0), (1, 1), (1, 2))[0, 0, 0].tolist()
    [1.0, 2.0, 1.0]
    """
    if not _use_loops(cols.size, COL2IM_THRESHOLD, cols):
        return col2im_numpy(cols, x_shape, kernel, stride, pad4, dilation, out_hw)
    n, c, h, w = x_shape
    kh, kw = kernel
    ho, wo = out_hw
    gx = np.zeros(x_shape, dtype=cols.dtype)
    loops.col2im_loop(np.ascontiguousarray(cols).reshape(c, kh, kw, n, ho, wo), gx, stride[0], stride[1],
                      dilation[0], dilation[1], pad4[0], pad4[2])
    return gx


