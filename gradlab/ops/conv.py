"""Convolution, pooling and upsampling ops (NCHW, PyTorch semantics).

Convolution is im2col + one BLAS matrix product per direction:

* the columns are laid out as ``(C*kH*kW, N*Ho*Wo)`` (rows: input channel and kernel offset; columns: batch and
  output pixel): one copy out of an ``as_strided`` view of the padded input (measured: 15 ms for the 75 MB of
  columns of a 64-channel 3x3 layer on 32x32 maps, batch 32, against 22 ms for a loop over kernel offsets);
* stride-1 convolutions use padded-row ("wide") columns: each output row is computed over the padded width, the
  few junk columns are dropped, and every kernel offset then copies whole contiguous padded rows;
* forward: ``W (O, C*kH*kW) @ cols`` -> ``(O, N*Ho*Wo)``, then one transpose to NCHW;
* grad weight: ``g (O, N*Ho*Wo) @ cols.T`` with the columns kept from forward (recycled afterwards);
* grad input: at stride 1, itself a convolution of the output gradient with the flipped, transposed kernel (im2col
  of ``g`` + one product) when that is the smaller job; otherwise ``W.T @ g`` -> columns -> col2im by strided
  accumulation, one slice add per kernel offset (measured 10 ms against 19 ms for ``np.add.at``, 22 ms for
  ``np.bincount``);
* groups: the same products batched over the group axis (``np.matmul`` on ``(G, ., .)`` stacks);
* a 1x1 convolution with stride 1 and no padding skips im2col (the input is its own columns, after a transpose).

The column buffers come from, and go back to, a small ``workspace`` pool: fresh 100 MB arrays pay their page faults
on every step.

1-D convolution is the 2-D one with a height of 1. The transposed convolution is the adjoint of ``conv2d``: its
forward is conv2d's input gradient, its backward uses conv2d's forward (for the input) and conv2d's weight gradient.

Padding is carried internally as ``(top, bottom, left, right)`` so that ``padding='same'`` with an even kernel
pads like torch (the extra row/column at the bottom/right).
"""
from __future__ import annotations

import threading
from typing import Any

from gradlab.autograd.function import Context, Function
from gradlab.autograd.grad_mode import is_grad_enabled as grad_mode_enabled
from gradlab.backend import xp

__all__ = [
    "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "UpsampleNearest2d",
    "conv_output_size", "conv_transpose_output_size", "pool_output_size", "COLS_CACHE_BYTES",
]

# Forward keeps the im2col buffer for the weight gradient when it is at most this big; above it, backward
# rebuilds it from the input to bound the memory a training step holds.
COLS_CACHE_BYTES = 512 * 2**20
# Stride-1 convolutions use the padded-row ("wide") column layout when its junk columns add at most this fraction
# of work (dilation * (kW - 1) / output width).
WIDE_MAX_WASTE = 0.25
# A stride-1 input gradient is computed as a convolution of the output gradient when that convolution's columns are
# at most this many times the size of col2im's columns (measured: 64->64 3x3 on 32x32, 49 ms vs 65 ms, 1 thread).
GX_CONV_MAX_RATIO = 1.25
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

    def get(self, shape: tuple, dtype: Any) -> Any:
        shape, dtype = tuple(shape), xp.dtype(dtype)
        with self._lock:
            for i in range(len(self._free) - 1, -1, -1):
                a = self._free[i]
                if a.shape == shape and a.dtype == dtype:
                    del self._free[i]
                    self._bytes -= a.nbytes
                    return a
        return xp.empty(shape, dtype=dtype)

    def put(self, a: Any) -> None:
        """Give back an array from :meth:`get` (or a view of one) that nothing uses any more."""
        while isinstance(a.base, xp.ndarray):
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
    n, c, h, w = x.shape
    pt, pb, pl, pr = pad4
    (sh, sw), (dh, dw) = stride, dilation
    if kh == kw == 1 and sh == sw == 1 and not any(pad4) and (h, w) == (ho, wo):  # 1x1: the input is its columns
        cols = _copyto(workspace.get((c, n, h, w), x.dtype), x.transpose(1, 0, 2, 3))
        return cols.reshape(c, n * ho * wo), wo
    wp = w + pl + pr
    if _wide(stride, kw, dw, wo):
        # the last offset reads (dw*(kw-1)) values past its rows: give the buffer enough extra zero rows
        rows = max(h + pt + pb, ho + dh * (kh - 1) + -(-(dw * (kw - 1)) // wp))
        if rows == h and wp == w and x.flags.c_contiguous:
            buf = x
        else:
            buf = xp.zeros((n, c, rows, wp), dtype=x.dtype)
            buf[:, :, pt : pt + h, pl : pl + w] = x
        flat = buf.reshape(n, c, rows * wp)
        sn, sc, it = flat.strides
        view = xp.lib.stride_tricks.as_strided(flat, (c, kh, kw, n, ho * wp), (sc, dh * wp * it, dw * it, sn, it))
        cols = _copyto(workspace.get(view.shape, x.dtype), view)
        return cols.reshape(c * kh * kw, n * ho * wp), wp
    buf = _pad_nchw(x, pad4)
    sn, sc, s2, s3 = buf.strides
    view = xp.lib.stride_tricks.as_strided(
        buf, (c, kh, kw, n, ho, wo), (sc, dh * s2, dw * s3, sn, sh * s2, sw * s3))
    cols = _copyto(workspace.get(view.shape, x.dtype), view)
    return cols.reshape(c * kh * kw, n * ho * wo), wo


def _col2im(cols: Any, x_shape: tuple, kh: int, kw: int, stride: tuple, pad4: tuple, dilation: tuple,
            ho: int, wo: int) -> Any:
    """The adjoint of ``_im2col`` (standard layout): sum the columns back onto an NCHW array of ``x_shape``,
    one strided slice add per kernel offset (``np.add.at`` is far slower)."""
    n, c, h, w = x_shape
    pt, pb, pl, pr = pad4
    (sh, sw), (dh, dw) = stride, dilation
    cols = cols.reshape(c, kh, kw, n, ho, wo)
    if kh == kw == 1 and sh == sw == 1 and not any(pad4) and (h, w) == (ho, wo):
        return xp.ascontiguousarray(cols[:, 0, 0].transpose(1, 0, 2, 3))
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
    n, c, h, w = g.shape
    if row_w == w:
        return _copyto(xp.empty((c, n, h, w), dtype=g.dtype), g.transpose(1, 0, 2, 3)).reshape(c, -1)
    rows = xp.zeros((c, n, h, row_w), dtype=g.dtype)
    _copyto(rows[:, :, :, :w], g.transpose(1, 0, 2, 3))
    return rows.reshape(c, -1)


def _from_rows(out: Any, n: int, ho: int, wo: int, row_w: int) -> Any:
    """(C, N*ho*row_w) -> contiguous NCHW (dropping the junk columns)."""
    o = out.reshape(out.shape[0], n, ho, row_w)
    if row_w != wo:
        o = o[:, :, :, :wo]
    return _copyto(xp.empty((n, out.shape[0], ho, wo), dtype=out.dtype), o.transpose(1, 0, 2, 3))


def conv2d_forward(x: Any, weight: Any, bias: Any, stride: tuple, pad4: tuple, dilation: tuple, groups: int,
                   out_hw: tuple | None = None, keep_cols: bool = True) -> tuple[Any, Any, int]:
    """``(output NCHW, cols, row_w)`` of a 2-D convolution; ``out_hw`` crops the output size.

    ``cols`` is a workspace buffer: give it back with ``workspace.put`` when done; ``keep_cols=False`` does that
    at once (and returns None for it)."""
    n = x.shape[0]
    o, _, kh, kw = weight.shape
    ho = conv_output_size(x.shape[2], kh, stride[0], pad4[0] + pad4[1], dilation[0])
    wo = conv_output_size(x.shape[3], kw, stride[1], pad4[2] + pad4[3], dilation[1])
    if out_hw is not None:
        ho, wo = min(ho, out_hw[0]), min(wo, out_hw[1])
    cols, row_w = _im2col(x, kh, kw, stride, pad4, dilation, ho, wo)
    out = _gemm(weight.reshape(o, -1), cols, groups)
    if not keep_cols:
        workspace.put(cols)
        cols = None
    if bias is not None:
        out += bias[:, None]
    return _from_rows(out, n, ho, wo, row_w), cols, row_w


def _flipped_transposed(weight: Any, groups: int) -> Any:
    """The weight of the convolution that computes conv2d's input gradient at stride 1: per group, in/out
    channels swapped and the kernel rotated by 180 degrees -> (C, O/groups, kH, kW)."""
    o, cg, kh, kw = weight.shape
    w = weight.reshape(groups, o // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    return xp.ascontiguousarray(w).reshape(groups * cg, o // groups, kh, kw)


def conv2d_input_grad(g: Any, weight: Any, x_shape: tuple, stride: tuple, pad4: tuple, dilation: tuple,
                      groups: int) -> Any:
    """Gradient of conv2d w.r.t. its input (of ``x_shape``) from the NCHW output gradient ``g``.

    Stride 1: itself a convolution, of ``g`` padded by ``dilation*(k-1) - padding`` with the flipped, transposed
    kernel (im2col of ``g`` + one product with a long inner dimension). Otherwise ``W.T @ g`` -> columns -> col2im.
    """
    n, c, h, w = x_shape
    ho, wo = g.shape[2:]
    o, _, kh, kw = weight.shape
    (dh, dw), (pt, pl) = dilation, (pad4[0], pad4[2])
    if stride == (1, 1):
        pad = (dh * (kh - 1) - pt, h - ho + pt, dw * (kw - 1) - pl, w - wo + pl)
        # the convolution's columns hold O*h*w*kk values, col2im's C*ho*wo*kk: take the smaller job
        if min(pad) >= 0 and o * h * w <= GX_CONV_MAX_RATIO * c * ho * wo:
            return conv2d_forward(g, _flipped_transposed(weight, groups), None, (1, 1), pad, dilation, groups,
                                  keep_cols=False)[0]
    gcols = _gemm_tn(weight.reshape(o, -1), _to_rows(g, wo), groups)
    return _col2im(gcols, x_shape, kh, kw, stride, pad4, dilation, ho, wo)


def conv2d_weight_grad(g: Any, cols: Any, row_w: int, w_shape: tuple, groups: int) -> Any:
    """Gradient of conv2d w.r.t. its weight, from the NCHW output gradient and the input's columns."""
    return _gemm_nt(_to_rows(g, row_w), cols, groups).reshape(w_shape)


def _check_conv(x: Any, weight: Any, bias: Any, pad4: tuple, dilation: tuple, stride: tuple, groups: int,
                name: str = "conv2d") -> None:
    if x.ndim != 4:
        raise RuntimeError(f"{name}: expected a 4-D (N, C, H, W) input, got input of size {_fmt(x.shape)}")
    if weight.ndim != 4:
        raise RuntimeError(f"{name}: expected a 4-D weight (out, in/groups, kH, kW), got size {_fmt(weight.shape)}")
    if groups < 1:
        raise RuntimeError(f"{name}: non-positive groups is not supported (groups={groups})")
    if min(stride) < 1 or min(dilation) < 1 or min(pad4) < 0:
        raise RuntimeError(f"{name}: stride {stride} and dilation {dilation} must be positive, padding non-negative")
    o, cg, kh, kw = weight.shape
    if o % groups:
        raise RuntimeError(
            f"{name}: out_channels ({o}, weight of size {_fmt(weight.shape)}) must be divisible by groups ({groups})"
        )
    if x.shape[1] != cg * groups:
        raise RuntimeError(
            f"{name}: given groups={groups}, weight of size {_fmt(weight.shape)}, expected input{_fmt(x.shape)} to "
            f"have {cg * groups} channels, but got {x.shape[1]} channels instead"
        )
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"{name}: bias of size {_fmt(bias.shape)} does not match out_channels {o} (expected [{o}])")
    ph, pw = x.shape[2] + pad4[0] + pad4[1], x.shape[3] + pad4[2] + pad4[3]
    eh, ew = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    if eh > ph or ew > pw:
        raise RuntimeError(
            f"{name}: calculated padded input size per channel: ({ph} x {pw}) from input of size {_fmt(x.shape)}; "
            f"kernel size: ({eh} x {ew}) (weight {_fmt(weight.shape)}, dilation {tuple(dilation)}). "
            f"Kernel size can't be greater than actual input size"
        )
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(
            f"{name}: input type ({x.dtype}), weight type ({weight.dtype})"
            + (f" and bias type ({bias.dtype})" if bias is not None else "")
            + " should be the same"
        )


class Conv2d(Function):
    """``conv2d(x, weight, bias)`` on NCHW arrays; ``pad4`` is (top, bottom, left, right)."""

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, stride: tuple, pad4: tuple, dilation: tuple,
                groups: int) -> Any:
        _check_conv(x, weight, bias, pad4, dilation, stride, groups)
        keep = ctx.needs_input_grad[1] and grad_mode_enabled()
        out, cols, row_w = conv2d_forward(x, weight, bias, stride, pad4, dilation, groups, keep_cols=keep)
        if keep and cols.nbytes > COLS_CACHE_BYTES:
            workspace.put(cols)
            cols = None
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, pad4, dilation, groups, out.shape[2], out.shape[3])
        ctx.has_bias = bias is not None
        ctx.cols = (cols, row_w) if cols is not None else None
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, weight = ctx.saved_tensors
        stride, pad4, dilation, groups, ho, wo = ctx.args
        nx, nw, nb = ctx.needs_input_grad[:3]
        gx = gw = gb = g_rows = None
        if nw:
            cached = ctx.cols
            ctx.cols = None
            if cached is None:
                cached = _im2col(x, weight.shape[2], weight.shape[3], stride, pad4, dilation, ho, wo)
            cols, row_w = cached
            g_rows = _to_rows(grad, row_w)
            gw = _gemm_nt(g_rows, cols, groups).reshape(weight.shape)
            workspace.put(cols)  # a second backward (retain_graph=True) rebuilds the columns from x
            del cached, cols
        if nx:
            gx = conv2d_input_grad(grad, weight, x.shape, stride, pad4, dilation, groups)
        if nb and ctx.has_bias:  # the rows are contiguous (and zero in the junk columns): a fast sum
            gb = g_rows.sum(axis=1) if g_rows is not None else grad.sum(axis=(0, 2, 3))
        return gx, gw, gb, None, None, None, None


class ConvTranspose2d(Function):
    """``conv_transpose2d(x, weight, bias)``: the adjoint of conv2d; weight is (in, out/groups, kH, kW)."""

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, stride: tuple, padding: tuple,
                output_padding: tuple, dilation: tuple, groups: int) -> Any:
        name = "conv_transpose2d"
        if x.ndim != 4 or weight.ndim != 4:
            raise RuntimeError(
                f"{name}: expected a 4-D input and weight, got input of size {_fmt(x.shape)} and weight of size "
                f"{_fmt(weight.shape)}"
            )
        cin, og, kh, kw = weight.shape
        if groups < 1 or cin % groups:
            raise RuntimeError(
                f"{name}: in_channels ({cin}, weight of size {_fmt(weight.shape)}) must be divisible by groups "
                f"({groups})"
            )
        if x.shape[1] != cin:
            raise RuntimeError(
                f"{name}: given groups={groups}, weight of size {_fmt(weight.shape)}, expected input{_fmt(x.shape)} "
                f"to have {cin} channels, but got {x.shape[1]} channels instead"
            )
        if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or min(output_padding) < 0:
            raise RuntimeError(f"{name}: stride/dilation must be positive, padding/output_padding non-negative")
        for op, s, d in zip(output_padding, stride, dilation):
            if op >= s and op >= d:
                raise RuntimeError(
                    f"{name}: output padding must be smaller than either stride or dilation, but got "
                    f"output_padding={tuple(output_padding)}, stride={tuple(stride)}, dilation={tuple(dilation)}"
                )
        if bias is not None and tuple(bias.shape) != (og * groups,):
            raise RuntimeError(f"{name}: bias of size {_fmt(bias.shape)}, expected [{og * groups}]")
        if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
            raise RuntimeError(f"{name}: input type ({x.dtype}) and weight type ({weight.dtype}) should be the same")
        n, _, h, w = x.shape
        hout = conv_transpose_output_size(h, kh, stride[0], padding[0], output_padding[0], dilation[0])
        wout = conv_transpose_output_size(w, kw, stride[1], padding[1], output_padding[1], dilation[1])
        if hout < 1 or wout < 1:
            raise RuntimeError(
                f"{name}: given input size {_fmt(x.shape)} and weight {_fmt(weight.shape)}, the calculated output "
                f"size ({hout} x {wout}) is too small"
            )
        pad4 = (padding[0], padding[0], padding[1], padding[1])
        out = conv2d_input_grad(x, weight, (n, og * groups, hout, wout), stride, pad4, dilation, groups)
        if bias is not None:
            out += bias[:, None, None]
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, pad4, dilation, groups)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, weight = ctx.saved_tensors
        stride, pad4, dilation, groups = ctx.args
        nx, nw, nb = ctx.needs_input_grad[:3]
        h, w = x.shape[2:]
        gx = gw = gb = None
        if nx or nw:
            # the input gradient is conv2d(grad, weight); its columns also give the weight gradient
            out, cols, row_w = conv2d_forward(grad, weight, None, stride, pad4, dilation, groups, out_hw=(h, w),
                                              keep_cols=nw)
            if nx:
                gx = out
            if nw:
                gw = conv2d_weight_grad(x, cols, row_w, weight.shape, groups)
                workspace.put(cols)
        if nb and ctx.has_bias:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb, None, None, None, None, None


# ---------------------------------------------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------------------------------------------


def _check_pool(x: Any, k: tuple, s: tuple, p: tuple, d: tuple, name: str) -> None:
    if x.ndim != 4:
        raise RuntimeError(f"{name}: expected a 4-D (N, C, H, W) input, got input of size {_fmt(x.shape)}")
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise RuntimeError(f"{name}: kernel_size {k}, stride {s} and dilation {d} must be positive, padding {p} >= 0")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise RuntimeError(
            f"{name}: pad should be smaller than or equal to half of kernel size, but got padding={tuple(p)} and "
            f"kernel_size={tuple(k)} (input of size {_fmt(x.shape)})"
        )


def _pool_geometry(x: Any, k: tuple, s: tuple, p: tuple, d: tuple, ceil_mode: bool, name: str) -> tuple:
    _check_pool(x, k, s, p, d, name)
    h, w = x.shape[2:]
    ho = pool_output_size(h, k[0], s[0], p[0], d[0], ceil_mode)
    wo = pool_output_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    if ho < 1 or wo < 1:
        raise RuntimeError(
            f"{name}: given input size {_fmt(x.shape)}, kernel_size {k}, stride {s}, padding {p}, dilation {d}, "
            f"the calculated output size ({ho} x {wo}) is too small"
        )
    # padding actually needed at the bottom/right so every window lies inside the buffer (ceil mode may need more)
    pb = max(p[0], (ho - 1) * s[0] + d[0] * (k[0] - 1) + 1 - h - p[0])
    pr = max(p[1], (wo - 1) * s[1] + d[1] * (k[1] - 1) + 1 - w - p[1])
    return ho, wo, (p[0], pb, p[1], pr)


class MaxPool2d(Function):
    """Max over windows; backward routes each gradient to the window's first arg-max (as torch).

    Everything is a loop over the kH*kW kernel offsets, each step vectorised over the whole batch: forward is a
    running ``np.maximum`` (NaN propagates, as in torch); backward finds, offset by offset, the first position
    equal to the window's max and sends the gradient there. No arg-max array is kept unless asked for.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, k: tuple, s: tuple, p: tuple, d: tuple, ceil_mode: bool,
                indices_sink: list | None = None) -> Any:
        """``indices_sink``: a list to append the arg-max kernel offsets to (for ``return_indices``)."""
        ho, wo, pad4 = _pool_geometry(x, k, s, p, d, ceil_mode, "max_pool2d")
        xpad = _pad_nchw(x, pad4, -xp.inf)
        out = None
        for v in _windows(xpad, k, s, d, ho, wo):
            if out is None:
                out = v.copy()
            else:
                xp.maximum(out, v, out=out)
        if indices_sink is not None:
            indices_sink.append(_argmax_offsets(xpad, out, k, s, d))
        ctx.save_for_backward(x, out)
        ctx.xpad = xpad if xpad is not x else None
        ctx.geom = (x.shape, k, s, pad4, d, ho, wo)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, out = ctx.saved_tensors
        x_shape, k, s, pad4, d, ho, wo = ctx.geom
        xpad = x if ctx.xpad is None else ctx.xpad
        if out.dtype.kind == "f" and xp.isnan(out).any():  # NaN windows: torch's exact (last NaN) rule
            gx = _route(grad, _argmax_offsets(xpad, out, k, s, d), x_shape, k, s, pad4, d, ho, wo)
            return gx, None, None, None, None, None, None
        n, c, h, w = x_shape
        pt, pb, pl, pr = pad4
        gx = xp.zeros(xpad.shape, dtype=grad.dtype)
        non_overlapping = s[0] >= (k[0] - 1) * d[0] + 1 and s[1] >= (k[1] - 1) * d[1] + 1
        taken = None
        last = k[0] * k[1] - 1
        for idx, (v, dst) in enumerate(zip(_windows(xpad, k, s, d, ho, wo), _windows(gx, k, s, d, ho, wo))):
            sel = v == out
            if taken is None:
                taken = sel
            else:
                sel &= ~taken
                if idx < last:
                    taken |= sel
            if non_overlapping:
                xp.multiply(grad, sel, out=dst)
            else:
                dst += grad * sel
        if pt or pb or pl or pr:
            gx = gx[:, :, pt : pt + h, pl : pl + w]
        return gx, None, None, None, None, None, None


def _windows(a: Any, k: tuple, s: tuple, d: tuple, ho: int, wo: int) -> Any:
    """The (N, C, ho, wo) strided views of ``a`` at each kernel offset, in row-major offset order."""
    for i in range(k[0]):
        rows = _rng(i * d[0], s[0], ho)
        for j in range(k[1]):
            yield a[:, :, rows, _rng(j * d[1], s[1], wo)]


def _argmax_offsets(xpad: Any, out: Any, k: tuple, s: tuple, d: tuple) -> Any:
    """The kernel offset (row-major, uint8/int32) of each window's max: the first one, or the last NaN (torch)."""
    ho, wo = out.shape[2:]
    arg = xp.zeros(out.shape, dtype=xp.uint8 if k[0] * k[1] <= 255 else xp.int32)
    nan = out.dtype.kind == "f" and bool(xp.isnan(out).any())
    best = None
    for idx, v in enumerate(_windows(xpad, k, s, d, ho, wo)):
        if best is None:
            best = v.copy()
            continue
        better = v > best
        if nan:
            better |= xp.isnan(v)
        xp.copyto(best, v, where=better)
        xp.copyto(arg, idx, where=better, casting="unsafe")
    return arg


def _route(grad: Any, arg: Any, x_shape: tuple, k: tuple, s: tuple, pad4: tuple, d: tuple, ho: int, wo: int) -> Any:
    """Send each output gradient to the window position ``arg`` (the kernel offset) it came from."""
    n, c, h, w = x_shape
    pt, pb, pl, pr = pad4
    gx = xp.zeros((n, c, h + pt + pb, w + pl + pr), dtype=grad.dtype)
    non_overlapping = s[0] >= (k[0] - 1) * d[0] + 1 and s[1] >= (k[1] - 1) * d[1] + 1
    for i in range(k[0]):
        rows = _rng(i * d[0], s[0], ho)
        for j in range(k[1]):
            sel = arg == i * k[1] + j
            if non_overlapping:
                gx[:, :, rows, _rng(j * d[1], s[1], wo)] = xp.where(sel, grad, 0)
            else:
                gx[:, :, rows, _rng(j * d[1], s[1], wo)] += xp.where(sel, grad, 0)
    if pt or pb or pl or pr:
        gx = gx[:, :, pt : pt + h, pl : pl + w]
    return gx


def max_pool_indices(arg: Any, x_shape: tuple, k: tuple, s: tuple, p: tuple, d: tuple) -> Any:
    """torch's ``return_indices``: the flat ``h * W + w`` index of each max in its (unpadded) input plane."""
    ho, wo = arg.shape[2:]
    ky, kx = arg.astype(xp.int64) // k[1], arg.astype(xp.int64) % k[1]
    hh = xp.arange(ho)[:, None] * s[0] - p[0] + ky * d[0]
    ww = xp.arange(wo)[None, :] * s[1] - p[1] + kx * d[1]
    return hh * x_shape[3] + ww


class AvgPool2d(Function):
    """Mean over windows, with torch's divisor rules (count_include_pad, ceil_mode, divisor_override)."""

    @staticmethod
    def forward(ctx: Context, x: Any, k: tuple, s: tuple, p: tuple, ceil_mode: bool, count_include_pad: bool,
                divisor_override: Any) -> Any:
        d = (1, 1)
        ho, wo, pad4 = _pool_geometry(x, k, s, p, d, ceil_mode, "avg_pool2d")
        h, w = x.shape[2:]
        if divisor_override:
            div: Any = float(divisor_override)
        else:
            div = _avg_divisor(h, w, k, s, p, ho, wo, count_include_pad).astype(x.dtype)
        xpad = _pad_nchw(x, pad4)
        out = None
        for i in range(k[0]):
            rows = _rng(i, s[0], ho)
            for j in range(k[1]):
                v = xpad[:, :, rows, _rng(j, s[1], wo)]
                if out is None:
                    out = v.copy()
                else:
                    out += v
        out /= div
        ctx.geom = (x.shape, k, s, pad4, d, ho, wo)
        ctx.div = div
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (n, c, h, w), k, s, pad4, d, ho, wo = ctx.geom
        g = grad / ctx.div
        pt, pb, pl, pr = pad4
        gx = xp.zeros((n, c, h + pt + pb, w + pl + pr), dtype=grad.dtype)
        for i in range(k[0]):
            rows = _rng(i, s[0], ho)
            for j in range(k[1]):
                gx[:, :, rows, _rng(j, s[1], wo)] += g
        if pt or pb or pl or pr:
            gx = gx[:, :, pt : pt + h, pl : pl + w]
        return gx, None, None, None, None, None, None


def _avg_divisor(h: int, w: int, k: tuple, s: tuple, p: tuple, ho: int, wo: int, count_include_pad: bool) -> Any:
    """(ho, wo) divisors as torch computes them (windows clipped to input + padding, or to the input alone)."""
    def axis(size: int, kk: int, ss: int, pp: int, n_out: int) -> tuple:
        start = xp.arange(n_out) * ss - pp
        end = xp.minimum(start + kk, size + pp)
        padded = end - start
        valid = xp.minimum(end, size) - xp.maximum(start, 0)
        return padded, valid

    ph, vh = axis(h, k[0], s[0], p[0], ho)
    pw, vw = axis(w, k[1], s[1], p[1], wo)
    if count_include_pad:
        return (ph[:, None] * pw[None, :]).astype(xp.float64)
    return (vh[:, None] * vw[None, :]).astype(xp.float64)


def _adaptive_matrix(size: int, out: int, dtype: Any) -> Any:
    """(out, size) averaging matrix with torch's windows [floor(i*size/out), ceil((i+1)*size/out))."""
    m = xp.zeros((out, size), dtype=dtype)
    for i in range(out):
        a = (i * size) // out
        b = -(-((i + 1) * size) // out)
        m[i, a:b] = 1.0 / (b - a)
    return m


class AdaptiveAvgPool2d(Function):
    """Average pooling to a fixed output size: a reshape-mean when the sizes divide, else two small products
    with averaging matrices (the windows of torch's start/end formula, which may overlap)."""

    @staticmethod
    def forward(ctx: Context, x: Any, output_size: tuple) -> Any:
        if x.ndim != 4:
            raise RuntimeError(f"adaptive_avg_pool2d: expected a 4-D (N, C, H, W) input, got size {_fmt(x.shape)}")
        n, c, h, w = x.shape
        oh, ow = output_size
        if oh < 1 or ow < 1 or h < 1 or w < 1:
            raise RuntimeError(
                f"adaptive_avg_pool2d: output size {output_size} and input size {_fmt(x.shape)} must be positive"
            )
        ctx.shape = x.shape
        if h % oh == 0 and w % ow == 0:
            ctx.mats = None
            return x.reshape(n, c, oh, h // oh, ow, w // ow).mean(axis=(3, 5), dtype=x.dtype)
        mh, mw = _adaptive_matrix(h, oh, x.dtype), _adaptive_matrix(w, ow, x.dtype)
        ctx.mats = (mh, mw)
        return (mh @ x) @ mw.T

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        n, c, h, w = ctx.shape
        oh, ow = grad.shape[2:]
        if ctx.mats is None:
            kh, kw = h // oh, w // ow
            g = grad[:, :, :, None, :, None] * (1.0 / (kh * kw))
            return xp.broadcast_to(g, (n, c, oh, kh, ow, kw)).reshape(n, c, h, w).astype(grad.dtype, copy=False), None
        mh, mw = ctx.mats
        return (mh.T @ grad) @ mw, None


def _nearest_index(out: int, size: int, scale: float | None) -> Any:
    """torch's 'nearest' source index: floor(dst * scale) clipped, scale = 1/scale_factor or size/out."""
    if out == size:
        return xp.arange(out)
    sc = xp.float32((1.0 / scale) if scale else size / out)  # float32 arithmetic, as torch's CPU kernel
    return xp.minimum(xp.floor(xp.arange(out, dtype=xp.float32) * sc).astype(xp.int64), size - 1)


class UpsampleNearest2d(Function):
    """Nearest-neighbour upsampling (and downsampling) of NCHW maps, torch's 'nearest' index rule.

    Integer scale factors use a broadcast (forward) and a reshape-sum (backward); other sizes use one-hot
    selection matrices, so backward is two small products, never a scatter.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, size: tuple, scales: tuple) -> Any:
        n, c, h, w = x.shape
        oh, ow = size
        ctx.shape = x.shape
        if oh % h == 0 and ow % w == 0 and all(sc is None or sc == o // i for sc, o, i in zip(scales, size, (h, w))):
            fh, fw = oh // h, ow // w
            ctx.factors = (fh, fw)
            return xp.broadcast_to(x[:, :, :, None, :, None], (n, c, h, fh, w, fw)).reshape(n, c, oh, ow)
        ctx.factors = None
        ih, iw = _nearest_index(oh, h, scales[0]), _nearest_index(ow, w, scales[1])
        ctx.index = (ih, iw)
        return x[:, :, ih[:, None], iw[None, :]]

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        n, c, h, w = ctx.shape
        if ctx.factors is not None:
            fh, fw = ctx.factors
            return grad.reshape(n, c, h, fh, w, fw).sum(axis=(3, 5)), None, None
        ih, iw = ctx.index
        sh = xp.zeros((h, ih.size), dtype=grad.dtype)
        sh[ih, xp.arange(ih.size)] = 1.0
        sw = xp.zeros((iw.size, w), dtype=grad.dtype)
        sw[xp.arange(iw.size), iw] = 1.0
        return (sh @ grad) @ sw, None, None
