"""Sliding-window extraction and its adjoint: ``Unfold`` (im2col, ``F.unfold``) and ``Fold`` (col2im, ``F.fold``).

Both work on NCHW arrays with torch's layout: the columns are ``(N, C * kh * kw, L)`` with rows ordered
(channel, ky, kx) and ``L = out_h * out_w`` windows in row-major order. Unfold's backward is a fold and fold's
backward an unfold. The window copy is one ``as_strided`` view; the sum back loops over the ``kh * kw`` kernel
offsets only (one strided slice add each).
"""

from __future__ import annotations

from typing import Any

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module

__all__ = ["Unfold", "Fold", "sliding_output_size"]


def sliding_output_size(size: int, k: int, d: int, p: int, s: int) -> int:
    """Number of window positions along one dim: ``(size + 2p - d(k-1) - 1) // s + 1``.

    >>> sliding_output_size(5, k=3, d=1, p=1, s=2)
    3
    """
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _unfold(x: Any, k: tuple, d: tuple, p: tuple, s: tuple) -> Any:
    xp = get_array_module(x)
    n, c, h, w = x.shape
    ho = sliding_output_size(h, k[0], d[0], p[0], s[0])
    wo = sliding_output_size(w, k[1], d[1], p[1], s[1])
    if ho < 1 or wo < 1:
        raise RuntimeError(
            f"unfold: the sliding blocks of kernel_size {k}, dilation {d}, padding {p}, stride {s} do not fit an "
            f"input of spatial size ({h}, {w})"
        )
    if any(p):
        buf = xp.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), dtype=x.dtype)
        buf[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = x
    else:
        buf = xp.ascontiguousarray(x)
    sn, sc, sh, sw = buf.strides
    view = xp.lib.stride_tricks.as_strided(
        buf, (n, c, k[0], k[1], ho, wo), (sn, sc, d[0] * sh, d[1] * sw, s[0] * sh, s[1] * sw)
    )
    return view.reshape(n, c * k[0] * k[1], ho * wo)


def _fold(cols: Any, out_hw: tuple, k: tuple, d: tuple, p: tuple, s: tuple) -> Any:
    xp = get_array_module(cols)
    n, ckk, length = cols.shape
    h, w = out_hw
    c = ckk // (k[0] * k[1])
    ho = sliding_output_size(h, k[0], d[0], p[0], s[0])
    wo = sliding_output_size(w, k[1], d[1], p[1], s[1])
    blocks = cols.reshape(n, c, k[0], k[1], ho, wo)
    hp = max(h + 2 * p[0], (ho - 1) * s[0] + d[0] * (k[0] - 1) + 1)
    wp = max(w + 2 * p[1], (wo - 1) * s[1] + d[1] * (k[1] - 1) + 1)
    out = xp.zeros((n, c, hp, wp), dtype=cols.dtype)
    for i in range(k[0]):  # kernel offsets, not data
        rows = slice(i * d[0], i * d[0] + (ho - 1) * s[0] + 1, s[0])
        for j in range(k[1]):
            out[:, :, rows, slice(j * d[1], j * d[1] + (wo - 1) * s[1] + 1, s[1])] += blocks[:, :, i, j]
    return out[:, :, p[0] : p[0] + h, p[1] : p[1] + w]


class Unfold(Function):
    """(N, C, H, W) -> (N, C*kh*kw, L): every sliding window as a column (``torch.nn.functional.unfold``).

    Arguments after the input: kernel size, dilation, padding, stride (pairs).

    >>> import gradlab
    >>> Unfold.apply(gradlab.ones(1, 2, 3, 3), (2, 2), (1, 1), (0, 0), (1, 1)).shape
    gradlab.Size([1, 8, 4])
    """

    @staticmethod
    def forward(ctx: Context, x: Any, k: tuple, d: tuple, p: tuple, s: tuple) -> Any:
        if x.ndim != 4:
            raise RuntimeError(f"unfold: expected a 4-D (N, C, H, W) input, got shape {tuple(x.shape)}")
        ctx.meta = (tuple(x.shape[2:]), k, d, p, s)
        return get_array_module(x).ascontiguousarray(_unfold(x, k, d, p, s))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        hw, k, d, p, s = ctx.meta
        return get_array_module(grad).ascontiguousarray(_fold(grad, hw, k, d, p, s)), None, None, None, None


class Fold(Function):
    """(N, C*kh*kw, L) -> (N, C, H, W): sum the columns back onto the image (``torch.nn.functional.fold``).

    Arguments after the columns: output size, kernel size, dilation, padding, stride (pairs).

    >>> import gradlab
    >>> Fold.apply(gradlab.ones(1, 4, 4), (3, 3), (2, 2), (1, 1), (0, 0), (1, 1))[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """

    @staticmethod
    def forward(ctx: Context, cols: Any, out_hw: tuple, k: tuple, d: tuple, p: tuple, s: tuple) -> Any:
        if cols.ndim != 3:
            raise RuntimeError(f"fold: expected a 3-D (N, C*kh*kw, L) input, got shape {tuple(cols.shape)}")
        kk = k[0] * k[1]
        if cols.shape[1] % kk:
            raise RuntimeError(
                f"fold: expected size of input's dimension 1 ({cols.shape[1]}) to be divisible by the product of "
                f"kernel_size ({kk})"
            )
        ho = sliding_output_size(out_hw[0], k[0], d[0], p[0], s[0])
        wo = sliding_output_size(out_hw[1], k[1], d[1], p[1], s[1])
        if ho < 1 or wo < 1 or ho * wo != cols.shape[2]:
            raise RuntimeError(
                f"fold: given output_size={tuple(out_hw)}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                f"{ho} * {wo} = {ho * wo}, but got input.size(2)={cols.shape[2]}"
            )
        ctx.meta = (k, d, p, s)
        return get_array_module(cols).ascontiguousarray(_fold(cols, out_hw, k, d, p, s))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        k, d, p, s = ctx.meta
        return get_array_module(grad).ascontiguousarray(_unfold(grad, k, d, p, s)), None, None, None, None, None
