"""Convolution, pooling and upsampling ops (NCHW, PyTorch semantics).

Convolution is im2col + one BLAS matrix product per direction:

* the columns are laid out as ``(C*kH*kW, N*Ho*Wo)`` (rows: input channel and kernel offset; columns: batch and
  output pixel): one copy out of an ``as_strided`` view of the padded input (measured: 15 ms for the 75 MB of
  columns of a 64-channel 3x3 layer on 32x32 maps, batch 32, against 22 ms for a loop over kernel offsets);
* stride-1 convolutions use padded-row ("wide") columns: each output row is computed over the padded width, the
  few junk columns are dropped, and every kernel offset then copies whole contiguous padded rows;
* forward: ``W (O, C*kH*kW) @ cols`` -> ``(O, N*Ho*Wo)``, then one transpose to NCHW;
* grad weight: ``g (O, N*Ho*Wo) @ cols.T`` with the columns kept from forward (recycled afterwards);
* grad input: at stride 1, itself a convolution of the output gradient with the flipped, transposed kernel when
  that is the smaller job, computed *tiled* (``conv2d_tiled``: 4 MB of columns at a time, copied and multiplied
  while in cache; 23 ms against 29 ms for the full 80 MB buffer on the 64-channel 3x3 layer); otherwise, at
  stride 1, ``W.T @ g`` over the padded input's flat grid and col2im as one contiguous add per kernel offset
  (``_col2im_flat``: LeNet-5's second layer 1.3 ms against 2.8 ms); at other strides ``W.T @ g`` -> columns ->
  col2im by strided accumulation, one slice add per kernel offset (measured 10 ms against 19 ms for
  ``np.add.at``, 22 ms for ``np.bincount``);
* forward without a weight gradient (inference, frozen layers) takes the same tiled path;
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

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.autograd.grad_mode import is_grad_enabled as grad_mode_enabled
from gradlab.backend import get_array_module
from gradlab.ops._im2col import (  # noqa: F401  (re-exported: gradlab.ops.conv was one module)
    WIDE_MAX_WASTE,
    WORKSPACE_BYTES,
    WORKSPACE_MAX_ARRAY,
    _col2im,
    _copyto,
    _fmt,
    _from_rows,
    _gemm,
    _gemm_nt,
    _gemm_tn,
    _grouped,
    _im2col,
    _pad_nchw,
    _rng,
    _to_rows,
    _wide,
    _Workspace,
    conv2d_tiled,
    conv2d_tiled_weight_grad,
    conv_output_size,
    conv_transpose_output_size,
    flat_padded,
    pool_output_size,
    tiled_ok,
    workspace,
)
from gradlab.ops.pooling import (  # noqa: F401  (re-exported: gradlab.ops.conv was one module)
    AdaptiveAvgPool2d,
    AvgPool2d,
    MaxPool2d,
    UpsampleNearest2d,
    _adaptive_matrix,
    _argmax_offsets,
    _avg_divisor,
    _check_pool,
    _nearest_index,
    _pool_geometry,
    _route,
    _windows,
    max_pool_indices,
)

__all__ = [
    "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "UpsampleNearest2d",
    "conv_output_size", "conv_transpose_output_size", "pool_output_size", "COLS_CACHE_BYTES",
]

# Forward keeps the im2col buffer for the weight gradient when it is at most this big; above it, backward
# rebuilds it from the input to bound the memory a training step holds.
COLS_CACHE_BYTES = 512 * 2**20
# A stride-1 input gradient is computed as a convolution of the output gradient when that convolution's columns are
# at most this many times the size of col2im's columns (measured: 64->64 3x3 on 32x32, 49 ms vs 65 ms, 1 thread).
GX_CONV_MAX_RATIO = 1.25


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
    if not keep_cols and isinstance(x, np.ndarray) and tiled_ok(x.shape, weight.shape, stride, groups,
                                                                 x.dtype.itemsize):
        return conv2d_tiled(x, weight, bias, pad4, dilation, out_hw)[0], None, wo
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
    xp = get_array_module(weight)
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
        # (on a GPU always the convolution: a few big launches instead of one slice-add per kernel offset)
        if min(pad) >= 0 and (not isinstance(g, np.ndarray) or o * h * w <= GX_CONV_MAX_RATIO * c * ho * wo):
            return conv2d_forward(g, _flipped_transposed(weight, groups), None, (1, 1), pad, dilation, groups,
                                  keep_cols=False)[0]
        if h + pad4[0] + pad4[1] - dh * (kh - 1) == ho and w + pad4[2] + pad4[3] - dw * (kw - 1) == wo:
            return _col2im_flat(g, weight, x_shape, pad4, dilation, groups)
    g_rows = _to_rows(g, wo)
    gcols = _gemm_tn(weight.reshape(o, -1), g_rows, groups)
    workspace.put(g_rows)
    return _col2im(gcols, x_shape, kh, kw, stride, pad4, dilation, ho, wo)


def _col2im_flat(g: Any, weight: Any, x_shape: tuple, pad4: tuple, dilation: tuple, groups: int) -> Any:
    """Stride-1 input gradient as ``W.T @ g`` then col2im over the flat padded grid.

    The output gradient is laid out over the *padded input's* grid ``(O, N*Hp*Wp)`` (zeros off the output), so
    kernel offset (ky, kx) of every position lands ``dh*ky*Wp + dw*kx`` further along the flat grid: col2im is one
    add of two contiguous (C, N*Hp*Wp) blocks per kernel offset instead of ``N*C*Ho`` short rows (measured for
    LeNet-5's second layer: 1.3 ms against 2.8 ms).
    """
    xp = get_array_module(g)
    n, c, h, w = x_shape
    o, _, kh, kw = weight.shape
    ho, wo = g.shape[2:]
    pt, pb, pl, pr = pad4
    dh, dw = dilation
    hp, wp = h + pt + pb, w + pl + pr
    L = n * hp * wp
    G = workspace.get((o, n, hp, wp), g.dtype, xp)
    G[:, :, ho:] = 0
    G[:, :, :ho, wo:] = 0
    G[:, :, :ho, :wo] = g.transpose(1, 0, 2, 3)
    gcols = _gemm_tn(weight.reshape(o, -1), G.reshape(o, L), groups).reshape(c, kh, kw, L)
    workspace.put(G)
    tail = dh * (kh - 1) * wp + dw * (kw - 1)
    gt = workspace.get((c, L + tail), g.dtype, xp)
    gt.fill(0)
    for i in range(kh):
        for j in range(kw):
            off = dh * i * wp + dw * j
            gt[:, off:off + L] += gcols[:, i, j]
    gx = xp.empty((n, c, h, w), dtype=g.dtype)
    xp.copyto(gx, gt[:, :L].reshape(c, n, hp, wp)[:, :, pt:pt + h, pl:pl + w].transpose(1, 0, 2, 3))
    workspace.put(gt)
    return gx


def conv2d_weight_grad(g: Any, cols: Any, row_w: int, w_shape: tuple, groups: int) -> Any:
    """Gradient of conv2d w.r.t. its weight, from the NCHW output gradient and the input's columns."""
    g_rows = _to_rows(g, row_w)
    gw = _gemm_nt(g_rows, cols, groups).reshape(w_shape)
    workspace.put(g_rows)
    return gw


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


def _tiled_training(x: Any, weight: Any, stride: tuple, groups: int) -> bool:
    """Train through the tiled path: stride 1, one group, and columns too big to keep (COLS_CACHE_BYTES).

    Never on a GPU: its memory holds the whole column buffer, and one big product is what cuBLAS does best."""
    if not isinstance(x, np.ndarray) or not tiled_ok(x.shape, weight.shape, stride, groups, x.dtype.itemsize):
        return False
    n, c, h, w = x.shape
    return c * weight.shape[2] * weight.shape[3] * n * h * w * x.dtype.itemsize > COLS_CACHE_BYTES


class Conv2d(Function):
    """``conv2d(x, weight, bias)`` on NCHW arrays; ``pad4`` is (top, bottom, left, right).

    Forward keeps its column buffer for the weight gradient up to COLS_CACHE_BYTES. Above that, stride-1
    one-group layers train *tiled*: forward keeps only the flat padded input (1/(kH*kW) of the columns) and
    backward rebuilds the columns tile by tile for the weight gradient (measured on the 64-channel 3x3 layer,
    where the 80 MB of columns fit the cache limit: 27 ms against 20 ms for the cached product, so the tiled
    weight gradient is for the layers whose columns would not fit); other layers rebuild the full buffer.

    >>> x, w = np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3))
    >>> out = Conv2d.apply(x, w, np.array([0.0, 1.0]), (1, 1), (1, 1, 1, 1), (1, 1), 1)
    >>> out.shape, out[0, 0, 0].tolist(), out[0, 1, 1].tolist()
    ((1, 2, 4, 4), [4.0, 6.0, 6.0, 4.0], [7.0, 10.0, 10.0, 7.0])
    """

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, stride: tuple, pad4: tuple, dilation: tuple,
                groups: int) -> Any:
        _check_conv(x, weight, bias, pad4, dilation, stride, groups)
        keep = ctx.needs_input_grad[1] and grad_mode_enabled()
        ctx.cols = ctx.flat = None
        if keep and _tiled_training(x, weight, stride, groups):
            out, ctx.flat = conv2d_tiled(x, weight, bias, pad4, dilation, keep=True)
        else:
            out, cols, row_w = conv2d_forward(x, weight, bias, stride, pad4, dilation, groups, keep_cols=keep)
            if keep and cols.nbytes > COLS_CACHE_BYTES:
                workspace.put(cols)
                cols = None
            ctx.cols = (cols, row_w) if cols is not None else None
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, pad4, dilation, groups, out.shape[2], out.shape[3])
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, weight = ctx.saved_tensors
        stride, pad4, dilation, groups, ho, wo = ctx.args
        nx, nw, nb = ctx.needs_input_grad[:3]
        gx = gw = gb = g_rows = None
        if nw and (ctx.flat is not None or (ctx.cols is None and _tiled_training(x, weight, stride, groups))):
            P = ctx.flat
            ctx.flat = None
            if P is None:  # a second backward (retain_graph=True): rebuild it from x
                P = flat_padded(x, pad4, dilation, weight.shape[2], weight.shape[3])[0]
            gw, gb = conv2d_tiled_weight_grad(grad, P, x.shape, weight.shape, pad4, dilation, nb and ctx.has_bias)
            workspace.put(P)
        elif nw:
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
        if nb and ctx.has_bias and gb is None:  # the rows are contiguous (and zero in the junk columns): a fast sum
            gb = g_rows.sum(axis=1) if g_rows is not None else grad.sum(axis=(0, 2, 3))
        if g_rows is not None:
            workspace.put(g_rows)
        return gx, gw, gb, None, None, None, None


class ConvTranspose2d(Function):
    """``conv_transpose2d(x, weight, bias)``: the adjoint of conv2d; weight is (in, out/groups, kH, kW).

    >>> x, w = np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2))
    >>> ConvTranspose2d.apply(x, w, None, (2, 2), (0, 0), (0, 0), (1, 1), 1).shape  # stride 2 doubles the size
    (1, 1, 4, 4)
    """

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
