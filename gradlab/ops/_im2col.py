"""im2col / col2im, the column products and the scratch-array ``workspace`` behind the convolution ops.

Split out of ``gradlab/ops/conv.py`` (see its docstring for the design); ``gradlab.ops.conv`` re-exports these names.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from gradlab.backend import get_array_module
from gradlab.kernels import conv as kconv
from gradlab.kernels._select import wants_numba

# Stride-1 convolutions use the padded-row ("wide") column layout when its junk columns add at most this fraction
# of work (dilation * (kW - 1) / output width).
WIDE_MAX_WASTE = 0.25
# im2col buffers are recycled through a pool once their product is done: a fresh 100 MB array costs its page faults
# on every step (measured: a 124 MB im2col takes 34 ms into a fresh buffer, 21 ms into a reused one). The pool keeps
# at most WORKSPACE_BYTES (least recently returned buffers go first) and no single buffer above WORKSPACE_MAX_ARRAY.
WORKSPACE_BYTES = 768 * 2**20
WORKSPACE_MAX_ARRAY = 256 * 2**20


class _Workspace:
    """Free scratch arrays, found again by (shape, dtype); ``workspace.clear()`` releases them all."""

    def __init__(self) -> None:
        self._free: list = []  # oldest first
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, shape: tuple, dtype: Any, xp: Any = np) -> Any:
        """A scratch array of ``shape`` and ``dtype`` (recycled on the CPU; fresh from CuPy's own pool on a GPU)."""
        if xp is not np:
            return xp.empty(shape, dtype=dtype)
        shape, dtype = tuple(shape), np.dtype(dtype)
        with self._lock:
            for i in range(len(self._free) - 1, -1, -1):
                a = self._free[i]
                if a.shape == shape and a.dtype == dtype:
                    del self._free[i]
                    self._bytes -= a.nbytes
                    return a
        return np.empty(shape, dtype=dtype)

    def put(self, a: Any) -> None:
        """Give back an array from :meth:`get` (or a view of one) that nothing uses any more."""
        if not isinstance(a, np.ndarray):
            return  # a GPU array: CuPy's memory pool recycles it
        while isinstance(a.base, np.ndarray):
            a = a.base
        if a.nbytes > min(WORKSPACE_MAX_ARRAY, WORKSPACE_BYTES):
            return
        with self._lock:
            self._free.append(a)
            self._bytes += a.nbytes
            while self._bytes > WORKSPACE_BYTES:
                self._bytes -= self._free.pop(0).nbytes

    @property
    def nbytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._free.clear()
            self._bytes = 0


workspace = _Workspace()


def _copyto(dst: Any, src: Any) -> Any:
    """``np.copyto(dst, src)``, returning ``dst``.

    (Splitting big copies over two threads halves them in isolation -- 75 MB of columns in 5.8 ms instead of 8.5 --
    but inside a training step OpenBLAS's threads still spin after each product and the step came out slower:
    84.8 ms split against 81.6 ms unsplit for the 64-channel 3x3 layer, 2 cores. Measured, not adopted.)
    """
    xp = get_array_module(dst)
    xp.copyto(dst, src)
    return dst


# ---------------------------------------------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------------------------------------------


def conv_output_size(size: int, k: int, stride: int, pad_total: int, dilation: int) -> int:
    """Output length of a convolution (or pooling) along one axis, floor mode."""
    return (size + pad_total - dilation * (k - 1) - 1) // stride + 1


def conv_transpose_output_size(size: int, k: int, stride: int, pad: int, output_padding: int, dilation: int) -> int:
    return (size - 1) * stride - 2 * pad + dilation * (k - 1) + output_padding + 1


def pool_output_size(size: int, k: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling output length: floor or ceil mode, a last window must start inside input + left padding."""
    span = size + 2 * pad - dilation * (k - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _fmt(shape: tuple) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _rng(start: int, stride: int, count: int) -> slice:
    """The slice of ``count`` positions from ``start`` every ``stride``."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def _pad_nchw(x: Any, pad4: tuple, value: float = 0.0) -> Any:
    """x padded on H (top, bottom) and W (left, right): one allocation and one copy (no copy without padding)."""
    xp = get_array_module(x)
    pt, pb, pl, pr = pad4
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = xp.full((n, c, h + pt + pb, w + pl + pr), value, dtype=x.dtype)
    out[:, :, pt : pt + h, pl : pl + w] = x
    return out


# ---------------------------------------------------------------------------------------------------------------
# convolution kernels on arrays
# ---------------------------------------------------------------------------------------------------------------


def _wide(stride: tuple, kw: int, dw: int, wo: int) -> bool:
    """Use the padded-row layout (see ``_im2col``) for this geometry?"""
    return stride == (1, 1) and dw * (kw - 1) <= WIDE_MAX_WASTE * wo


def _im2col(x: Any, kh: int, kw: int, stride: tuple, pad4: tuple, dilation: tuple, ho: int, wo: int
            ) -> tuple[Any, int]:
    """``(cols, row_w)``: the columns ``(C*kh*kw, N*ho*row_w)`` of the NCHW input, rows ordered (channel, ky, kx).

    ``row_w`` is ``wo``, or (stride 1, the "wide" layout) the padded row width: each output row then carries
    ``row_w - wo`` junk columns, and in exchange every kernel offset reads whole padded rows, i.e. one contiguous
    run of ``ho * row_w`` values per (channel, sample) instead of ``ho`` runs of ``wo``.
    Either way the columns are one copy out of an ``as_strided`` view of the padded input.
    """
    xp = get_array_module(x)
    n, c, h, w = x.shape
    pt, pb, pl, pr = pad4
    (sh, sw), (dh, dw) = stride, dilation
    if kh == kw == 1 and sh == sw == 1 and not any(pad4) and (h, w) == (ho, wo):  # 1x1: the input is its columns
        cols = _copyto(workspace.get((c, n, h, w), x.dtype, xp), x.transpose(1, 0, 2, 3))
        return cols.reshape(c, n * ho * wo), wo
    wp = w + pl + pr
    if _wide(stride, kw, dw, wo):
        # the last offset reads (dw*(kw-1)) values past its rows: give the buffer enough extra zero rows
        rows = max(h + pt + pb, ho + dh * (kh - 1) + -(-(dw * (kw - 1)) // wp))
        if rows == h and wp == w and x.flags.c_contiguous:
            buf = x
        else:
            buf = workspace.get((n, c, rows, wp), x.dtype, xp)  # a recycled buffer: no page faults
            buf.fill(0)
            buf[:, :, pt : pt + h, pl : pl + w] = x
        flat = buf.reshape(n, c, rows * wp)
        sn, sc, it = flat.strides
        view = xp.lib.stride_tricks.as_strided(flat, (c, kh, kw, n, ho * wp), (sc, dh * wp * it, dw * it, sn, it))
        cols = _copyto(workspace.get(view.shape, x.dtype, xp), view)
        if buf is not x:
            workspace.put(buf)
        return cols.reshape(c * kh * kw, n * ho * wp), wp
    buf = _pad_nchw(x, pad4)
    sn, sc, s2, s3 = buf.strides
    view = xp.lib.stride_tricks.as_strided(
        buf, (c, kh, kw, n, ho, wo), (sc, dh * s2, dw * s3, sn, sh * s2, sw * s3))
    cols = _copyto(workspace.get(view.shape, x.dtype, xp), view)
    return cols.reshape(c * kh * kw, n * ho * wo), wo


def _col2im(cols: Any, x_shape: tuple, kh: int, kw: int, stride: tuple, pad4: tuple, dilation: tuple,
            ho: int, wo: int) -> Any:
    """The adjoint of ``_im2col`` (standard layout): sum the columns back onto an NCHW array of ``x_shape``,
    one strided slice add per kernel offset (``np.add.at`` is far slower)."""
    xp = get_array_module(cols)
    n, c, h, w = x_shape
    pt, pb, pl, pr = pad4
    (sh, sw), (dh, dw) = stride, dilation
    cols = cols.reshape(c, kh, kw, n, ho, wo)
    if kh == kw == 1 and sh == sw == 1 and not any(pad4) and (h, w) == (ho, wo):
        return xp.ascontiguousarray(cols[:, 0, 0].transpose(1, 0, 2, 3))
    if kconv.compiled_dtype(cols) and wants_numba(cols.size, kconv.COL2IM_THRESHOLD):  # one fused scatter pass
        return kconv.col2im(cols, x_shape, (kh, kw), stride, pad4, dilation, (ho, wo))
    # rows/columns past the last window (stride leftovers) get no gradient: size the buffer to cover both
    hp, wp = max(h + pt + pb, (ho - 1) * sh + dh * (kh - 1) + 1), max(w + pl + pr, (wo - 1) * sw + dw * (kw - 1) + 1)
    gt = xp.zeros((c, n, hp, wp), dtype=cols.dtype)
    non_overlapping = sh >= (kh - 1) * dh + 1 and sw >= (kw - 1) * dw + 1
    for i in range(kh):
        rows = _rng(i * dh, sh, ho)
        for j in range(kw):
            if non_overlapping:  # every input position is written at most once: assign, don't accumulate
                gt[:, :, rows, _rng(j * dw, sw, wo)] = cols[:, i, j]
            else:
                gt[:, :, rows, _rng(j * dw, sw, wo)] += cols[:, i, j]
    return xp.ascontiguousarray(gt[:, :, pt : pt + h, pl : pl + w].transpose(1, 0, 2, 3))


def _grouped(a: Any, groups: int) -> Any:
    """(G*r, k) -> (G, r, k) (a view)."""
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


def _gemm(a: Any, b: Any, groups: int) -> Any:
    """a (G*m, k) @ b (G*k, n) blockwise per group -> (G*m, n); a plain 2-D product when groups == 1."""
    if groups == 1:
        return a @ b
    out = _grouped(a, groups) @ _grouped(b, groups)
    return out.reshape(-1, out.shape[-1])


def _gemm_nt(a: Any, b: Any, groups: int) -> Any:
    """a (G*m, n) @ b (G*k, n).T blockwise per group -> (G*m, k).

    Computed as ``(b @ a.T).T``: with the long inner dimension n, OpenBLAS runs this orientation ~25% faster
    (measured for the weight-gradient shapes of LeNet-5 and a 64-channel 3x3 layer)."""
    if groups == 1:
        return (b @ a.T).T
    out = _grouped(a, groups) @ _grouped(b, groups).transpose(0, 2, 1)
    return out.reshape(-1, out.shape[-1])


def _gemm_tn(a: Any, b: Any, groups: int) -> Any:
    """a (G*k, m).T @ b (G*k, n) blockwise per group -> (G*m, n)."""
    if groups == 1:
        return a.T @ b
    out = _grouped(a, groups).transpose(0, 2, 1) @ _grouped(b, groups)
    return out.reshape(-1, out.shape[-1])


def _to_rows(g: Any, row_w: int) -> Any:
    """NCHW gradient -> (C, N*H*row_w) in the columns' layout (zeros in the junk columns of the wide layout)."""
    xp = get_array_module(g)
    n, c, h, w = g.shape
    if row_w == w:
        return _copyto(workspace.get((c, n, h, w), g.dtype, xp), g.transpose(1, 0, 2, 3)).reshape(c, -1)
    rows = workspace.get((c, n, h, row_w), g.dtype, xp)  # recycled (give it back with workspace.put when done)
    rows[:, :, :, w:] = 0
    _copyto(rows[:, :, :, :w], g.transpose(1, 0, 2, 3))
    return rows.reshape(c, -1)


def _from_rows(out: Any, n: int, ho: int, wo: int, row_w: int) -> Any:
    """(C, N*ho*row_w) -> contiguous NCHW (dropping the junk columns)."""
    xp = get_array_module(out)
    o = out.reshape(out.shape[0], n, ho, row_w)
    if row_w != wo:
        o = o[:, :, :, :wo]
    return _copyto(xp.empty((n, out.shape[0], ho, wo), dtype=out.dtype), o.transpose(1, 0, 2, 3))


# ---------------------------------------------------------------------------------------------------------------
# tiled convolution (stride 1, one group): no full column buffer
# ---------------------------------------------------------------------------------------------------------------

# Columns are built and multiplied a tile at a time when the whole buffer would be bigger than TILED_MIN_BYTES; a
# tile of TILE_BYTES of columns stays in cache between its copy and its product. Measured on the 64->64 3x3 layer,
# 32x32 maps, batch 32, 2 threads, inside a training step with tile sizes alternating: 4 MB was best or second best
# both on a quiet machine (81 ms a step; 2 MB 82, 8 MB 87) and on a loaded one (101 ms; 2 MB 110, 8 MB 97), and
# the tiled input gradient alone takes 23 ms against 29 ms through the full 80 MB column buffer.
TILE_BYTES = 4 * 2**20
TILED_MIN_BYTES = 4 * TILE_BYTES


def tiled_ok(x_shape: tuple, w_shape: tuple, stride: tuple, groups: int, itemsize: int) -> bool:
    """Use :func:`conv2d_tiled` (stride 1, one group, columns bigger than TILED_MIN_BYTES)?"""
    if tuple(stride) != (1, 1) or groups != 1:
        return False
    n, c, h, w = x_shape
    return c * w_shape[2] * w_shape[3] * n * h * w * itemsize > TILED_MIN_BYTES


def flat_padded(x: Any, pad4: tuple, dilation: tuple, kh: int, kw: int) -> tuple[Any, int, int, int]:
    """``(P, rows, wp, L)``: the padded input laid out channel-major and flat, ``P`` (C, N*rows*wp + tail), a
    workspace array (give it back with ``workspace.put``). Output position ``q`` of the padded grid reads
    ``P[:, q + dh*ky*wp + dw*kx]`` for kernel offset (ky, kx); the tail keeps the last offsets inside."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    pt, pb, pl, pr = pad4
    dh, dw = dilation
    rows, wp = h + pt + pb, w + pl + pr
    L = n * rows * wp
    tail = dh * (kh - 1) * wp + dw * (kw - 1)
    P = workspace.get((c, L + tail), x.dtype, xp)
    P.fill(0)
    P[:, :L].reshape(c, n, rows, wp)[:, :, pt:pt + h, pl:pl + w] = x.transpose(1, 0, 2, 3)
    return P, rows, wp, L


def _column_tiles(P: Any, kh: int, kw: int, wp: int, L: int, dilation: tuple) -> Any:
    """Yield ``(q0, t, cols)``: the (C*kh*kw, t) columns of positions ``[q0, q0 + t)``, TILE_BYTES at a time,
    copied into one reused buffer (each tile is only valid until the next one)."""
    xp = get_array_module(P)
    c = P.shape[0]
    K = c * kh * kw
    dh, dw = dilation
    T = max(64, TILE_BYTES // (K * P.dtype.itemsize))
    buf = workspace.get((K * min(T, L),), P.dtype, xp)
    sc, it = P.strides
    try:
        for q0 in range(0, L, T):
            t = min(T, L - q0)
            cols = buf[:K * t].reshape(c, kh, kw, t)
            xp.copyto(cols, xp.lib.stride_tricks.as_strided(P[:, q0:], (c, kh, kw, t),
                                                             (sc, dh * wp * it, dw * it, it)))
            yield q0, t, cols.reshape(K, t)
    finally:
        workspace.put(buf)


def conv2d_tiled(x: Any, weight: Any, bias: Any, pad4: tuple, dilation: tuple, out_hw: tuple | None = None,
                 keep: bool = False) -> tuple[Any, Any]:
    """A stride-1, one-group convolution whose columns are never all in memory at once -> ``(output, P)``.

    Over the flat padded grid of :func:`flat_padded`, a tile of positions ``[q0, q1)`` is one ``as_strided`` view,
    copied into a small buffer and multiplied at once. Positions in the padding rows and columns are computed
    and dropped (a few percent more products). ``P`` is returned (for :func:`conv2d_tiled_weight_grad`) when
    ``keep``, else given back and None.
    """
    xp = get_array_module(x)
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    P, rows, wp, L = flat_padded(x, pad4, dilation, kh, kw)
    ho, wo = rows - dilation[0] * (kh - 1), wp - dilation[1] * (kw - 1)
    if out_hw is not None:
        ho, wo = min(ho, out_hw[0]), min(wo, out_hw[1])
    wm = weight.reshape(o, -1)
    out = workspace.get((o, L), x.dtype, xp)
    for q0, t, cols in _column_tiles(P, kh, kw, wp, L, dilation):
        xp.matmul(wm, cols, out=out[:, q0:q0 + t])
    if not keep:
        workspace.put(P)
        P = None
    res = xp.empty((n, o, ho, wo), dtype=x.dtype)
    xp.copyto(res, out.reshape(o, n, rows, wp)[:, :, :ho, :wo].transpose(1, 0, 2, 3))
    workspace.put(out)
    if bias is not None:
        res += bias[:, None, None]
    return res, P


def conv2d_tiled_weight_grad(grad: Any, P: Any, x_shape: tuple, w_shape: tuple, pad4: tuple, dilation: tuple,
                             need_bias: bool) -> tuple[Any, Any]:
    """``(dW, db)`` of a stride-1, one-group convolution from the output gradient and the forward's ``P``.

    The gradient is spread over the flat padded grid (zeros off the outputs) and each tile of columns is rebuilt
    from ``P`` while in cache: ``dW.T += cols @ g_tile.T`` (that orientation runs ~20% faster in OpenBLAS).
    """
    xp = get_array_module(grad)
    n, c, h, w = x_shape
    o, _, kh, kw = w_shape
    rows, wp = h + pad4[0] + pad4[1], w + pad4[2] + pad4[3]
    ho, wo = grad.shape[2:]
    L = n * rows * wp
    G = workspace.get((o, n, rows, wp), grad.dtype, xp)
    G[:, :, ho:] = 0
    G[:, :, :ho, wo:] = 0
    G[:, :, :ho, :wo] = grad.transpose(1, 0, 2, 3)
    g2 = G.reshape(o, L)
    gwT = xp.zeros((c * kh * kw, o), dtype=grad.dtype)
    part = xp.empty_like(gwT)
    for q0, t, cols in _column_tiles(P, kh, kw, wp, L, dilation):
        xp.matmul(cols, g2[:, q0:q0 + t].T, out=part)
        gwT += part
    gb = g2.sum(axis=1) if need_bias else None
    workspace.put(G)
    return xp.ascontiguousarray(gwT.T).reshape(w_shape), gb
