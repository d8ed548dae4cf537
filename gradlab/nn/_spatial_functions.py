"""Functional forms added for torch parity on (N, C, ...) maps: 1-D pooling, adaptive max pooling,
``conv_transpose1d``, ``unfold``/``fold``, ``pixel_shuffle``/``pixel_unshuffle``, ``group_norm``,
``instance_norm`` and ``bilinear``.

Built on the existing 2-D ops (a 1-D map is a 2-D map of height 1) and on ``gradlab/ops/fold.py``;
``gradlab.nn.functional`` re-exports them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab.ops import conv as _conv
from gradlab.ops import nn as N
from gradlab.ops.fold import Fold, Unfold
from gradlab.tensor import Tensor

__all__ = [
    "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "conv_transpose1d", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle", "group_norm", "instance_norm",
    "bilinear",
]  # fmt: skip


def _np(t: Any) -> np.ndarray:
    """The numpy array of a Tensor (shared, not copied) or of anything array-like."""
    return t.detach().numpy() if isinstance(t, Tensor) else np.asarray(t)


def _one(value: Any, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a 1-tuple, got {value!r}")
        return int(value[0])
    return int(value)


def _pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _check_1d(input: Any, name: str) -> None:
    if input.ndim not in (2, 3):
        raise ValueError(f"{name}: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(input.shape)}")


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
    """Max pooling over (N, C, L) or (C, L).

    >>> import gradlab
    >>> max_pool1d(gradlab.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[3.0, 2.0]]]
    """
    _check_1d(input, "max_pool1d")
    if input.ndim == 2:
        out = max_pool1d(input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode, return_indices)
        return (out[0].squeeze(0), out[1].squeeze(0)) if return_indices else out.squeeze(0)
    k = (1, _one(kernel_size, "kernel_size"))
    s = k if stride is None or stride == () or stride == [] else (1, _one(stride, "stride"))
    p, d = (0, _one(padding, "padding")), (1, _one(dilation, "dilation"))
    x = input.unsqueeze(-2)
    sink: list = []
    out = _conv.MaxPool2d.apply(x, k, s, p, d, bool(ceil_mode), sink if return_indices else None)
    if not return_indices:
        return out.squeeze(-2)
    idx = Tensor._make(_conv.max_pool_indices(sink[0], tuple(x.shape), k, s, p, d))
    return out.squeeze(-2), idx.squeeze(-2)


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Any:  # fmt: skip
    """Average pooling over (N, C, L) or (C, L).

    >>> import gradlab
    >>> avg_pool1d(gradlab.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[2.0, 1.0]]]
    """
    _check_1d(input, "avg_pool1d")
    if input.ndim == 2:
        return avg_pool1d(input.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad).squeeze(0)
    k = (1, _one(kernel_size, "kernel_size"))
    s = k if stride is None or stride == () or stride == [] else (1, _one(stride, "stride"))
    out = _conv.AvgPool2d.apply(input.unsqueeze(-2), k, s, (0, _one(padding, "padding")), bool(ceil_mode),
                                bool(count_include_pad), None)  # fmt: skip
    return out.squeeze(-2)


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Any:
    """Average pooling of (N, C, L) or (C, L) to ``output_size`` windows (torch's start/end rule).

    >>> import gradlab
    >>> adaptive_avg_pool1d(gradlab.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 1).tolist()
    [[[1.5]]]
    """
    _check_1d(input, "adaptive_avg_pool1d")
    if input.ndim == 2:
        return adaptive_avg_pool1d(input.unsqueeze(0), output_size).squeeze(0)
    out = _conv.AdaptiveAvgPool2d.apply(input.unsqueeze(-2), (1, _one(output_size, "output_size")))
    return out.squeeze(-2)


def _adaptive_windows(size: int, out: int) -> np.ndarray:
    """(out, kmax) source indices of torch's adaptive windows [floor(i*size/out), ceil((i+1)*size/out)), the short
    windows padded by repeating their last index (harmless for a max)."""
    if out < 1:
        raise ValueError(f"adaptive pooling: output size must be positive, got {out}")
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    kmax = int((end - start).max())
    return np.minimum(start[:, None] + np.arange(kmax)[None, :], end[:, None] - 1)


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (an int or a pair; None keeps that size).
    ``return_indices`` also gives each maximum's flat index ``h * W + w``.

    >>> import gradlab
    >>> x = gradlab.arange(16.0).reshape(1, 1, 4, 4)
    >>> adaptive_max_pool2d(x, 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_max_pool2d: expected a 3-D or 4-D input, got shape {tuple(input.shape)}")
    h, w = int(input.shape[-2]), int(input.shape[-1])
    size = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    oh, ow = (h if size[0] is None else int(size[0])), (w if size[1] is None else int(size[1]))
    ih, iw = _adaptive_windows(h, oh), _adaptive_windows(w, ow)
    kh, kw = ih.shape[1], iw.shape[1]
    rows, cols = ih[:, None, :, None], iw[None, :, None, :]  # (oh, ow, kh, kw) after broadcasting
    windows = input[..., rows, cols]
    lead = tuple(input.shape[:-2])
    flat = windows.reshape(lead + (oh, ow, kh * kw))
    result = flat.max(dim=-1)
    if not return_indices:
        return result.values
    j = _np(result.indices)
    oy, ox = np.arange(oh)[:, None], np.arange(ow)[None, :]
    idx = ih[oy, j // kw] * w + iw[ox, j % kw]
    return result.values, Tensor._make(idx.astype(np.int64))


def adaptive_max_pool1d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, L) or (C, L) to ``output_size`` windows.

    >>> import gradlab
    >>> adaptive_max_pool1d(gradlab.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[3.0, 2.0]]]
    """
    _check_1d(input, "adaptive_max_pool1d")
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, _one(output_size, "output_size")), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:  # fmt: skip
    """Transposed 1-D convolution of (N, C_in, L) or (C_in, L); ``weight`` is (C_in, C_out / groups, k).

    >>> import gradlab
    >>> conv_transpose1d(gradlab.ones(1, 1, 3), gradlab.ones(1, 1, 2), stride=2).tolist()
    [[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]]
    """
    _check_1d(input, "conv_transpose1d")
    if input.ndim == 2:
        return conv_transpose1d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)  # fmt: skip
    out = _conv.ConvTranspose2d.apply(
        input.unsqueeze(2), weight.unsqueeze(2), bias, (1, _one(stride, "stride")), (0, _one(padding, "padding")),
        (0, _one(output_padding, "output_padding")), (1, _one(dilation, "dilation")), int(groups),
    )  # fmt: skip
    return out.squeeze(2)


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
    """Extract sliding windows of (N, C, H, W) (or (C, H, W)) as columns: (N, C * kh * kw, L).

    >>> import gradlab
    >>> unfold(gradlab.arange(9.0).reshape(1, 1, 3, 3), 2).shape
    gradlab.Size([1, 4, 4])
    """
    args = (_pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"), _pair(padding, "padding"),
            _pair(stride, "stride"))  # fmt: skip
    if input.ndim == 3:
        return Unfold.apply(input.unsqueeze(0), *args).squeeze(0)
    return Unfold.apply(input, *args)


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
    """Sum columns (N, C * kh * kw, L) (or (C * kh * kw, L)) back onto (N, C, *output_size): the adjoint of unfold.

    >>> import gradlab
    >>> cols = unfold(gradlab.ones(1, 1, 3, 3), 2)
    >>> fold(cols, (3, 3), 2)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    args = (_pair(output_size, "output_size"), _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"),
            _pair(padding, "padding"), _pair(stride, "stride"))  # fmt: skip
    if input.ndim == 2:
        return Fold.apply(input.unsqueeze(0), *args).squeeze(0)
    return Fold.apply(input, *args)


def pixel_shuffle(input: Any, upscale_factor: int) -> Any:
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r).

    >>> import gradlab
    >>> pixel_shuffle(gradlab.arange(4.0).reshape(1, 4, 1, 1), 2).tolist()
    [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    r = int(upscale_factor)
    if input.ndim < 3:
        raise ValueError(f"pixel_shuffle expects input to have at least 3 dimensions, got shape {tuple(input.shape)}")
    *lead, c, h, w = (int(v) for v in input.shape)
    if r < 1 or c % (r * r):
        raise ValueError(f"pixel_shuffle expects its input's 'channel' dimension ({c}) to be divisible by the square "
                         f"of upscale_factor ({r})")  # fmt: skip
    n = len(lead)
    x = input.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Any, downscale_factor: int) -> Any:
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W), the inverse of :func:`pixel_shuffle`.

    >>> import gradlab
    >>> pixel_unshuffle(gradlab.arange(4.0).reshape(1, 1, 2, 2), 2).flatten().tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    r = int(downscale_factor)
    if input.ndim < 3:
        raise ValueError(f"pixel_unshuffle expects input to have at least 3 dimensions, got shape {tuple(input.shape)}")
    *lead, c, h, w = (int(v) for v in input.shape)
    if r < 1 or h % r or w % r:
        raise ValueError(f"pixel_unshuffle expects height ({h}) and width ({w}) to be divisible by {r}")
    n = len(lead)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(tuple(lead) + (c * r * r, h // r, w // r))


def _channel_shape(input: Any) -> tuple:
    return (1, int(input.shape[1])) + (1,) * (input.ndim - 2)


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    """Normalise (N, C, ...) over each group of ``C / num_groups`` channels and the spatial dims, then apply the
    per-channel affine ``weight``/``bias``.

    >>> import gradlab
    >>> y = group_norm(gradlab.randn(2, 4, 3), 2)
    >>> [round(v, 4) + 0.0 for v in y.reshape(2, 2, 6).mean(dim=-1).flatten().tolist()]
    [0.0, 0.0, 0.0, 0.0]
    """
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of at least 2 dims (N, C, ...), got {tuple(input.shape)}")
    n, c = int(input.shape[0]), int(input.shape[1])
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: num_channels ({c}) must be divisible by num_groups ({num_groups})")
    y = N.LayerNorm.apply(input.reshape(n, num_groups, -1), None, None, 1, eps).reshape(tuple(input.shape))
    if weight is not None:
        y = y * weight.reshape(_channel_shape(input))
    if bias is not None:
        y = y + bias.reshape(_channel_shape(input))
    return y


def instance_norm(
    input: Any,
    running_mean: Any = None,
    running_var: Any = None,
    weight: Any = None,
    bias: Any = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Normalise each (sample, channel) of (N, C, ...) over its spatial dims; with ``running_mean``/``running_var``
    given and ``use_input_stats`` the running statistics are updated in place (batch averages, unbiased variance);
    without ``use_input_stats`` they are used instead of the input's.

    >>> import gradlab
    >>> y = instance_norm(gradlab.randn(2, 3, 5))
    >>> [round(v, 4) + 0.0 for v in y.mean(dim=-1).flatten().tolist()]
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of at least 3 dims (N, C, ...), got {tuple(input.shape)}")
    n, c = int(input.shape[0]), int(input.shape[1])
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        return N.BatchNorm.apply(input, weight, bias, running_mean, running_var, False, momentum, eps)
    flat = input.reshape(n, c, -1)
    if running_mean is not None or running_var is not None:
        x = _np(flat)
        count = x.shape[-1]
        if running_mean is not None:
            rm = _np(running_mean)
            rm *= 1 - momentum
            rm += momentum * x.mean(axis=-1).mean(axis=0).astype(rm.dtype)
        if running_var is not None:
            rv = _np(running_var)
            var = x.var(axis=-1, ddof=1) if count > 1 else np.full(x.shape[:2], math.nan, dtype=x.dtype)
            rv *= 1 - momentum
            rv += momentum * var.mean(axis=0).astype(rv.dtype)
    y = N.LayerNorm.apply(flat, None, None, 1, eps).reshape(tuple(input.shape))
    if weight is not None:
        y = y * weight.reshape(_channel_shape(input))
    if bias is not None:
        y = y + bias.reshape(_channel_shape(input))
    return y


def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Any:
    """``y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``.

    >>> import gradlab
    >>> bilinear(gradlab.ones(2, 3), gradlab.ones(2, 4), gradlab.ones(5, 3, 4)).shape
    gradlab.Size([2, 5])
    """
    out, in1, in2 = (int(v) for v in weight.shape)
    if int(input1.shape[-1]) != in1 or int(input2.shape[-1]) != in2:
        raise ValueError(
            f"bilinear: input1 last dim {input1.shape[-1]} and input2 last dim {input2.shape[-1]} must match the "
            f"weight's ({in1}, {in2})"
        )
    t = input1 @ weight.permute(1, 0, 2).reshape(in1, out * in2)
    y = (t.reshape(tuple(t.shape[:-1]) + (out, in2)) * input2.unsqueeze(-2)).sum(dim=-1)
    return y if bias is None else y + bias
