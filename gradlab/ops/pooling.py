"""Pooling and upsampling ops (NCHW, PyTorch semantics).

Split out of ``gradlab/ops/conv.py``; ``gradlab.ops.conv`` re-exports these names.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module
from gradlab.kernels import conv as kconv
from gradlab.kernels._select import wants_numba
from gradlab.ops._im2col import _fmt, _pad_nchw, _rng, pool_output_size

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "UpsampleNearest2d"]


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

    The 2x2 stride-2 pool without padding (LeNet's) runs the fused kernels of :mod:`gradlab.kernels.conv` when the
    kernel set is numba (one pass forward keeping the uint8 arg-max, one scatter pass backward).

    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> MaxPool2d.apply(x, (2, 2), (2, 2), (0, 0), (1, 1), False)[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, k: tuple, s: tuple, p: tuple, d: tuple, ceil_mode: bool,
                indices_sink: list | None = None) -> Any:
        """``indices_sink``: a list to append the arg-max kernel offsets to (for ``return_indices``)."""
        xp = get_array_module(x)
        ho, wo, pad4 = _pool_geometry(x, k, s, p, d, ceil_mode, "max_pool2d")
        ctx.arg = None
        if _fused_2x2(x, k, s, pad4, d, ho, wo):
            out, ctx.arg = kconv.max_pool2x2(x)
            if indices_sink is not None:
                indices_sink.append(ctx.arg)
            ctx.geom = (x.shape,)
            return out
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
        if ctx.arg is not None:
            return kconv.max_pool2x2_backward(grad, ctx.arg, ctx.geom[0]), None, None, None, None, None, None
        xp = get_array_module(grad)
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


def _fused_2x2(x: Any, k: tuple, s: tuple, pad4: tuple, d: tuple, ho: int, wo: int) -> bool:
    """Take the fused 2x2 stride-2 kernel: that geometry (floor mode, no padding), a float CPU array, and the
    kernel set (and, under ``auto``, the size) asks for numba."""
    return (tuple(k) == (2, 2) and tuple(s) == (2, 2) and tuple(d) == (1, 1) and not any(pad4)
            and (ho, wo) == (x.shape[2] // 2, x.shape[3] // 2) and kconv.compiled_dtype(x)
            and wants_numba(x.size, kconv.POOL_THRESHOLD))


def _windows(a: Any, k: tuple, s: tuple, d: tuple, ho: int, wo: int) -> Any:
    """The (N, C, ho, wo) strided views of ``a`` at each kernel offset, in row-major offset order."""
    for i in range(k[0]):
        rows = _rng(i * d[0], s[0], ho)
        for j in range(k[1]):
            yield a[:, :, rows, _rng(j * d[1], s[1], wo)]


def _argmax_offsets(xpad: Any, out: Any, k: tuple, s: tuple, d: tuple) -> Any:
    """The kernel offset (row-major, uint8/int32) of each window's max: the first one, or the last NaN (torch)."""
    xp = get_array_module(xpad)
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
    xp = get_array_module(grad)
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
    xp = get_array_module(arg)
    ho, wo = arg.shape[2:]
    ky, kx = arg.astype(xp.int64) // k[1], arg.astype(xp.int64) % k[1]
    hh = xp.arange(ho)[:, None] * s[0] - p[0] + ky * d[0]
    ww = xp.arange(wo)[None, :] * s[1] - p[1] + kx * d[1]
    return hh * x_shape[3] + ww


class AvgPool2d(Function):
    """Mean over windows, with torch's divisor rules (count_include_pad, ceil_mode, divisor_override).

    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> AvgPool2d.apply(x, (2, 2), (2, 2), (0, 0), False, True, None)[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, k: tuple, s: tuple, p: tuple, ceil_mode: bool, count_include_pad: bool,
                divisor_override: Any) -> Any:
        d = (1, 1)
        ho, wo, pad4 = _pool_geometry(x, k, s, p, d, ceil_mode, "avg_pool2d")
        h, w = x.shape[2:]
        if divisor_override:
            div: Any = float(divisor_override)
        else:
            div = get_array_module(x).asarray(_avg_divisor(h, w, k, s, p, ho, wo, count_include_pad).astype(x.dtype))
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
        xp = get_array_module(grad)
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
    xp = np  # a small host array, copied to the input's device by the caller

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
    xp = np  # a small host array, copied to the input's device by the caller
    m = xp.zeros((out, size), dtype=dtype)
    for i in range(out):
        a = (i * size) // out
        b = -(-((i + 1) * size) // out)
        m[i, a:b] = 1.0 / (b - a)
    return m


class AdaptiveAvgPool2d(Function):
    """Average pooling to a fixed output size: a reshape-mean when the sizes divide, else two small products
    with averaging matrices (the windows of torch's start/end formula, which may overlap).

    >>> AdaptiveAvgPool2d.apply(np.arange(16.0).reshape(1, 1, 4, 4), (1, 1))[0, 0].tolist()
    [[7.5]]
    >>> AdaptiveAvgPool2d.apply(np.zeros((2, 3, 5, 7)), (3, 2)).shape  # sizes that do not divide
    gradlab.Size([2, 3, 3, 2])
    """

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
        xp = get_array_module(x)
        mh, mw = xp.asarray(_adaptive_matrix(h, oh, x.dtype)), xp.asarray(_adaptive_matrix(w, ow, x.dtype))
        ctx.mats = (mh, mw)
        return (mh @ x) @ mw.T

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
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
    xp = np  # a small host array, copied to the input's device by the caller
    if out == size:
        return xp.arange(out)
    sc = xp.float32((1.0 / scale) if scale else size / out)  # float32 arithmetic, as torch's CPU kernel
    return xp.minimum(xp.floor(xp.arange(out, dtype=xp.float32) * sc).astype(xp.int64), size - 1)


class UpsampleNearest2d(Function):
    """Nearest-neighbour upsampling (and downsampling) of NCHW maps, torch's 'nearest' index rule.

    Integer scale factors use a broadcast (forward) and a reshape-sum (backward); other sizes use one-hot
    selection matrices, so backward is two small products, never a scatter.

    >>> UpsampleNearest2d.apply(np.array([[[[1.0, 2.0]]]]), (2, 4), (None, None))[0, 0].tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, size: tuple, scales: tuple) -> Any:
        xp = get_array_module(x)
        n, c, h, w = x.shape
        oh, ow = size
        ctx.shape = x.shape
        if oh % h == 0 and ow % w == 0 and all(sc is None or sc == o // i for sc, o, i in zip(scales, size, (h, w))):
            fh, fw = oh // h, ow // w
            ctx.factors = (fh, fw)
            return xp.broadcast_to(x[:, :, :, None, :, None], (n, c, h, fh, w, fw)).reshape(n, c, oh, ow)
        ctx.factors = None
        ih, iw = xp.asarray(_nearest_index(oh, h, scales[0])), xp.asarray(_nearest_index(ow, w, scales[1]))
        ctx.index = (ih, iw)
        return x[:, :, ih[:, None], iw[None, :]]

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
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
