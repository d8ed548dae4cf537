"""The user-facing functions over ops, with PyTorch names (``import gradlab.nn.functional as F``)."""
from __future__ import annotations

from typing import Any

from gradlab.nn._loss_functions import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from gradlab.ops import activation as A
from gradlab.ops import elementwise as E
from gradlab.ops import nn as N
from gradlab.ops.shape import pad

__all__ = [
    "relu", "relu_", "leaky_relu", "elu", "gelu", "softplus", "silu", "swish", "sigmoid", "tanh", "softmax",
    "log_softmax", "linear", "pad", "dropout", "batch_norm", "layer_norm", "mse_loss", "l1_loss", "huber_loss",
    "smooth_l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
    "kl_div",
]


def relu(input: Any, inplace: bool = False) -> Any:
    """max(0, x).

    >>> import gradlab
    >>> relu(gradlab.tensor([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]
    """
    return A.ReLU.apply(input)


def relu_(input: Any) -> Any:
    """max(0, x), in place: the input tensor itself is changed and returned.

    >>> import gradlab
    >>> x = gradlab.tensor([-1.0, 2.0])
    >>> relu_(x) is x, x.tolist()
    (True, [0.0, 2.0])
    """
    return input._set_inplace(A.ReLU.apply(input))


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    """x if x > 0 else negative_slope * x.

    >>> import gradlab
    >>> leaky_relu(gradlab.tensor([-2.0, 3.0]), negative_slope=0.25).tolist()
    [-0.5, 3.0]
    """
    return A.LeakyReLU.apply(input, negative_slope)


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    """x if x > 0 else alpha * (exp(x) - 1).

    >>> import gradlab
    >>> [round(v, 4) for v in elu(gradlab.tensor([-1.0, 2.0])).tolist()]
    [-0.6321, 2.0]
    """
    return A.ELU.apply(input, alpha)


def gelu(input: Any, approximate: str = "none") -> Any:
    """x * Phi(x) (``approximate='none'``) or its tanh approximation (``'tanh'``).

    >>> import gradlab
    >>> [round(v, 4) for v in gelu(gradlab.tensor([-1.0, 0.0, 1.0])).tolist()]
    [-0.1587, 0.0, 0.8413]
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return A.GELU.apply(input, approximate)


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """log(1 + exp(beta * x)) / beta, linear above ``threshold`` (numerically stable).

    >>> import gradlab
    >>> [round(v, 4) for v in softplus(gradlab.tensor([0.0, 30.0])).tolist()]
    [0.6931, 30.0]
    """
    return A.Softplus.apply(input, beta, threshold)


def silu(input: Any, inplace: bool = False) -> Any:
    """x * sigmoid(x) (swish with beta = 1).

    >>> import gradlab
    >>> [round(v, 4) for v in silu(gradlab.tensor([-1.0, 1.0])).tolist()]
    [-0.2689, 0.7311]
    """
    return A.SiLU.apply(input)


def swish(input: Any, beta: float = 1.0) -> Any:
    """x * sigmoid(beta * x).

    >>> import gradlab
    >>> [round(v, 4) for v in swish(gradlab.tensor([1.0]), beta=2.0).tolist()]
    [0.8808]
    """
    return input * A.Sigmoid.apply(input * beta) if beta != 1.0 else A.SiLU.apply(input)


def sigmoid(input: Any) -> Any:
    """1 / (1 + exp(-x)), computed stably for large |x|.

    >>> import gradlab
    >>> [round(v, 4) for v in sigmoid(gradlab.tensor([0.0, 2.0, -100.0])).tolist()]
    [0.5, 0.8808, 0.0]
    """
    return A.Sigmoid.apply(input)


def tanh(input: Any) -> Any:
    """The hyperbolic tangent, elementwise.

    >>> import gradlab
    >>> [round(v, 4) for v in tanh(gradlab.tensor([0.0, 1.0])).tolist()]
    [0.0, 0.7616]
    """
    return E.Tanh.apply(input)


def softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Any:
    """exp(x) / sum(exp(x)) along ``dim`` (computed stably).

    >>> import gradlab
    >>> p = softmax(gradlab.tensor([[1.0, 2.0, 3.0]]), dim=1)
    >>> [round(v, 4) for v in p[0].tolist()], round(p.sum().item(), 4)
    ([0.09, 0.2447, 0.6652], 1.0)
    """
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    x = input if dtype is None else input.to(dtype)
    return N.Softmax.apply(x, dim)


def log_softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Any:
    """x - logsumexp(x) along ``dim`` (computed stably).

    >>> import gradlab
    >>> [round(v, 4) for v in log_softmax(gradlab.tensor([[0.0, 0.0]]), dim=1)[0].tolist()]
    [-0.6931, -0.6931]
    """
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    x = input if dtype is None else input.to(dtype)
    return N.LogSoftmax.apply(x, dim)


def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    """``input @ weight.T + bias`` as one fused op.

    >>> import gradlab
    >>> x, w, b = gradlab.ones(2, 3), gradlab.ones(4, 3), gradlab.zeros(4)
    >>> linear(x, w, b).shape, linear(x, w, b)[0, 0].item()
    (gradlab.Size([2, 4]), 3.0)
    """
    return N.Linear.apply(input, weight, bias)


# ---------------------------------------------------------------------------------------------------------------
# Convolution, pooling, upsampling, channel dropout (issue 5; the ops live in gradlab/ops/conv.py)
# ---------------------------------------------------------------------------------------------------------------
import math as _math  # noqa: E402

from gradlab.ops import conv as _conv  # noqa: E402
from gradlab.tensor import Tensor as _conv_Tensor  # noqa: E402

__all__ += [
    "conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "interpolate",
    "dropout2d",
]


def _ntuple(value: Any, n: int, name: str) -> tuple:
    """An int repeated ``n`` times, or a tuple/list of ``n`` ints (torch's _pair)."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _conv_pad4(padding: Any, kernel: tuple, stride: tuple, dilation: tuple, name: str) -> tuple:
    """(top, bottom, left, right) from an int, a pair, 'valid' or 'same' (extra padding at the bottom/right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions (stride={stride})")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
    ph, pw = _ntuple(padding, 2, f"{name}: padding")
    return (ph, ph, pw, pw)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """2-D convolution (cross-correlation) of an (N, C, H, W) or (C, H, W) input, as ``torch.nn.functional.conv2d``.

    ``weight`` is (out_channels, in_channels / groups, kH, kW); ``padding`` an int, a pair, 'valid' or 'same'.

    >>> import gradlab
    >>> x = gradlab.ones(1, 1, 4, 4)
    >>> w = gradlab.ones(2, 1, 3, 3)
    >>> conv2d(x, w).shape, conv2d(x, w, padding="same").shape, conv2d(x, w)[0, 0, 0, 0].item()
    (gradlab.Size([1, 2, 2, 2]), gradlab.Size([1, 2, 4, 4]), 9.0)
    """
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    stride, dilation = _ntuple(stride, 2, "conv2d: stride"), _ntuple(dilation, 2, "conv2d: dilation")
    kernel = tuple(weight.shape[2:]) if weight.ndim == 4 else (1, 1)
    pad4 = _conv_pad4(padding, kernel, stride, dilation, "conv2d")
    return _conv.Conv2d.apply(input, weight, bias, stride, pad4, dilation, int(groups))


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """1-D convolution of an (N, C, L) or (C, L) input; ``weight`` is (out_channels, in_channels / groups, k).

    Runs as a 2-D convolution with a height of 1.

    >>> import gradlab
    >>> conv1d(gradlab.ones(1, 2, 10), gradlab.ones(3, 2, 5), stride=2).shape
    gradlab.Size([1, 3, 3])
    """
    if input.ndim == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise RuntimeError(
            f"conv1d: expected a 3-D (N, C, L) input and a 3-D weight, got input of size {list(input.shape)} and "
            f"weight of size {list(weight.shape)}"
        )
    (s,), (d,) = _ntuple(stride, 1, "conv1d: stride"), _ntuple(dilation, 1, "conv1d: dilation")
    if isinstance(padding, str):
        pad4 = _conv_pad4(padding, (1, weight.shape[2]), (1, s), (1, d), "conv1d")
    else:
        (p,) = _ntuple(padding, 1, "conv1d: padding")
        pad4 = (0, 0, p, p)
    out = _conv.Conv2d.apply(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), pad4, (1, d), int(groups))
    return out.squeeze(2)


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """Transposed 2-D convolution (the adjoint of conv2d); ``weight`` is (in_channels, out_channels / groups, kH,
    kW).

    >>> import gradlab
    >>> conv_transpose2d(gradlab.ones(1, 2, 3, 3), gradlab.ones(2, 4, 2, 2), stride=2).shape
    gradlab.Size([1, 4, 6, 6])
    """
    if input.ndim == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    return _conv.ConvTranspose2d.apply(
        input, weight, bias, _ntuple(stride, 2, "conv_transpose2d: stride"),
        _ntuple(padding, 2, "conv_transpose2d: padding"),
        _ntuple(output_padding, 2, "conv_transpose2d: output_padding"),
        _ntuple(dilation, 2, "conv_transpose2d: dilation"), int(groups),
    )  # fmt: skip


def _pool_args(kernel_size: Any, stride: Any, padding: Any, dilation: Any, name: str) -> tuple:
    k = _ntuple(kernel_size, 2, f"{name}: kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _ntuple(
        stride, 2, f"{name}: stride")
    return k, s, _ntuple(padding, 2, f"{name}: padding"), _ntuple(dilation, 2, f"{name}: dilation")


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max pooling over (N, C, H, W) or (C, H, W); padding counts as -inf. ``return_indices`` also gives the flat
    index (h * W + w) of each maximum, as torch.

    >>> import gradlab
    >>> x = gradlab.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2).reshape(-1).tolist()
    [5.0, 7.0, 13.0, 15.0]
    """
    if input.ndim == 3:
        out = max_pool2d(input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode, return_indices)
        return (out[0].squeeze(0), out[1].squeeze(0)) if return_indices else out.squeeze(0)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, "max_pool2d")
    sink: list = []
    out = _conv.MaxPool2d.apply(input, k, s, p, d, bool(ceil_mode), sink if return_indices else None)
    if not return_indices:
        return out
    return out, _conv_Tensor._make(_conv.max_pool_indices(sink[0], tuple(input.shape), k, s, p, d))


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: Any = None) -> Any:
    """Average pooling over (N, C, H, W) or (C, H, W), with torch's divisor rules.

    >>> import gradlab
    >>> x = gradlab.arange(16.0).reshape(1, 1, 4, 4)
    >>> avg_pool2d(x, 2).reshape(-1).tolist()
    [2.5, 4.5, 10.5, 12.5]
    """
    if input.ndim == 3:
        return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override).squeeze(0)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, "avg_pool2d")
    return _conv.AvgPool2d.apply(input, k, s, p, bool(ceil_mode), bool(count_include_pad), divisor_override)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    """Average pooling to ``output_size`` (an int, or a pair whose None entries keep the input size).

    >>> import gradlab
    >>> x = gradlab.ones(2, 3, 7, 5)
    >>> adaptive_avg_pool2d(x, 1).shape, adaptive_avg_pool2d(x, (None, 2)).shape
    (gradlab.Size([2, 3, 1, 1]), gradlab.Size([2, 3, 7, 2]))
    """
    if input.ndim == 3:
        return adaptive_avg_pool2d(input.unsqueeze(0), output_size).squeeze(0)
    size = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(size) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    size = tuple(int(input.shape[2 + i]) if v is None else int(v) for i, v in enumerate(size))
    return _conv.AdaptiveAvgPool2d.apply(input, size)


def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: Any = None, recompute_scale_factor: Any = None, antialias: bool = False) -> Any:
    """Resize (N, C, L) or (N, C, H, W) maps; ``mode='nearest'`` (torch's index rule: floor(dst * in / out)).

    >>> import gradlab
    >>> x = gradlab.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> interpolate(x, scale_factor=2)[0, 0].tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]
    """
    if mode != "nearest" or antialias:
        raise NotImplementedError(f"interpolate: mode {mode!r} (antialias={antialias}) is not implemented (only "
                                  f"'nearest')")
    if align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the interpolating modes")
    nd = input.ndim - 2
    if nd not in (1, 2):
        raise NotImplementedError(f"interpolate: expected a 3-D or 4-D input, got input of size {list(input.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor must be given")
    spatial = tuple(int(v) for v in input.shape[2:])
    if size is not None:
        out_size = _ntuple(size, nd, "interpolate: size")
        scales: tuple = (None,) * nd
    else:
        sf = tuple(float(v) for v in scale_factor) if isinstance(scale_factor, (tuple, list)) else (
            float(scale_factor),) * nd
        if len(sf) != nd:
            raise ValueError(f"interpolate: scale_factor {scale_factor!r} does not match {nd} spatial dims")
        out_size = tuple(int(_math.floor(i * f)) for i, f in zip(spatial, sf))
        scales = (None,) * nd if recompute_scale_factor else sf
    if min(out_size) < 1:
        raise ValueError(f"interpolate: output size {out_size} from input of size {list(input.shape)} is empty")
    if nd == 1:
        out = _conv.UpsampleNearest2d.apply(input.unsqueeze(2), (1, out_size[0]), (None, scales[0]))
        return out.squeeze(2)
    return _conv.UpsampleNearest2d.apply(input, out_size, scales)


def dropout2d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels with probability ``p`` (scaling the kept ones by 1 / (1 - p)) of an (N, C, H, W) input;
    as torch, a 3-D input is read as (N, C, L) and a 2-D (N, C) one is dropped element by element.

    >>> import gradlab
    >>> y = dropout2d(gradlab.ones(1, 8, 2, 2), p=0.5)
    >>> sorted(set(y.reshape(-1).tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    >>> dropout2d(gradlab.ones(1, 8, 2, 2), training=False).sum().item()
    32.0
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input.ndim < 3:  # (N, C): no spatial dims, so each element is its own channel (torch masks elementwise)
        return N.Dropout.apply(input, p, None)
    from gradlab.creation import ones

    keep = (*input.shape[:2], *(1,) * (input.ndim - 2))  # one draw per (sample, channel), broadcast over the rest
    mask = N.Dropout.apply(ones(*keep, dtype=input.dtype, device=input.device), p, None).detach()
    return input * mask


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False, generator: Any = None) -> Any:
    """Inverted dropout: zero elements with probability ``p``, scale the others by ``1/(1-p)``; the input itself
    when ``training`` is False or ``p == 0``. The mask comes from ``generator`` (default: gradlab's).

    >>> import gradlab
    >>> y = dropout(gradlab.ones(1000), p=0.25, generator=gradlab.Generator(0))
    >>> sorted(set(y.tolist())), 0.65 < (y > 0).float().mean().item() < 0.85
    ([0.0, 1.3333333730697632], True)
    >>> dropout(gradlab.ones(3), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return N.Dropout.apply(input, p, generator)


def batch_norm(
    input: Any, running_mean: Any, running_var: Any, weight: Any = None, bias: Any = None, training: bool = False,
    momentum: float = 0.1, eps: float = 1e-5,
) -> Any:  # fmt: skip
    """Normalise each channel (dim 1) over all other dims: batch statistics when ``training`` (updating the given
    running statistics in place with ``momentum``), else the running statistics.

    >>> import gradlab
    >>> x = gradlab.tensor([[1.0, 10.0], [3.0, 30.0]])
    >>> mean, var = gradlab.zeros(2), gradlab.ones(2)
    >>> [round(v, 3) for v in batch_norm(x, mean, var, training=True)[:, 0].tolist()]
    [-1.0, 1.0]
    >>> [round(v, 3) for v in mean.tolist()]
    [0.2, 2.0]
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm expects an input of at least 2 dims (N, C, ...), got shape {tuple(input.shape)}")
    return N.BatchNorm.apply(input, weight, bias, running_mean, running_var, training, momentum, eps)


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    """Normalise over the trailing dims ``normalized_shape`` (biased variance), then ``* weight + bias``.

    >>> import gradlab
    >>> [round(v, 3) for v in layer_norm(gradlab.tensor([[1.0, 3.0]]), 2)[0].tolist()]
    [-1.0, 1.0]
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the trailing dims of the input of "
                         f"shape {tuple(input.shape)}")
    return N.LayerNorm.apply(input, weight, bias, len(shape), eps)


# ---------------------------------------------------------------------------------------------------------------
# Issue 16: more activations, vector helpers, 1-D/adaptive pooling, fold/unfold, norms (gradlab/nn/_*_functions.py)
# ---------------------------------------------------------------------------------------------------------------
from gradlab.nn._activation_functions import (  # noqa: E402
    celu,
    cosine_similarity,
    glu,
    gumbel_softmax,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    normalize,
    one_hot,
    prelu,
    relu6,
    selu,
    softmin,
    softsign,
)
from gradlab.nn._spatial_functions import (  # noqa: E402
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    bilinear,
    conv_transpose1d,
    fold,
    group_norm,
    instance_norm,
    max_pool1d,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
)
from gradlab.nn.embedding import embedding  # noqa: E402

__all__ += [
    "prelu", "selu", "relu6", "hardtanh", "mish", "gumbel_softmax", "one_hot", "normalize", "cosine_similarity",
    "embedding", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "conv_transpose1d", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle", "group_norm", "instance_norm",
    "bilinear", "hardsigmoid", "hardswish", "logsigmoid", "softsign", "softmin", "celu", "glu",
]  # fmt: skip

from gradlab.nn._attention_functions import scaled_dot_product_attention  # noqa: E402

__all__ += ["scaled_dot_product_attention"]
