"""Attention as functions: ``scaled_dot_product_attention`` (torch's semantics: boolean masks mark the positions
that take part, float masks are added to the scores) and the multi-head attention core used by
:class:`gradlab.nn.MultiheadAttention`. Everything is batched matrix products over (N, heads, L, S): no loops
over batch items or heads."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab.ops import nn as N
from gradlab.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_core", "mask_to_additive", "mask_array"]


def mask_array(mask: Any) -> np.ndarray:
    """The values of a mask given as a Tensor, an array or a list.

    >>> mask_array([[True, False]]).shape
    (1, 2)
    """
    return mask.detach().numpy() if isinstance(mask, Tensor) else np.asarray(mask)


def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Any:
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims (batch dims broadcast).

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, Ev).
        attn_mask: boolean (True = may attend) or float (added to the scores), broadcastable to (..., L, S).
        dropout_p: dropout on the attention weights (always applied when > 0, as torch's function).
        is_causal: mask out the keys after each query (the upper triangle); not together with ``attn_mask``.
        scale: the score scale (default ``1 / sqrt(E)``).
        enable_gqa: let ``key``/``value`` have fewer heads (dim -3) than ``query`` (grouped-query attention).

    >>> import gradlab
    >>> q = k = v = gradlab.randn(2, 4, 5, 8)
    >>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
    gradlab.Size([2, 4, 5, 8])
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError("scaled_dot_product_attention: query, key and value need at least 2 dims (..., L, E)")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"scaled_dot_product_attention: query's last dim ({query.shape[-1]}) must equal key's ({key.shape[-1]})"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: key and value must have the same length (dim -2), got "
            f"{key.shape[-2]} and {value.shape[-2]}"
        )
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: _both attn_mask and is_causal cannot be set")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        if groups * key.shape[-3] != query.shape[-3]:
            raise ValueError("scaled_dot_product_attention: query heads must be a multiple of key/value heads")
        idx = np.repeat(np.arange(key.shape[-3]), groups)
        key, value = key[..., idx, :, :], value[..., idx, :, :]
    length, source = int(query.shape[-2]), int(key.shape[-2])
    scale_factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale_factor
    if is_causal:
        scores = scores.masked_fill(np.triu(np.ones((length, source), dtype=bool), 1), float("-inf"))
    elif attn_mask is not None:
        if isinstance(attn_mask, Tensor) and attn_mask.requires_grad:
            scores = scores + attn_mask
        else:
            m = mask_array(attn_mask)
            if m.dtype == bool:
                scores = scores.masked_fill(~m, float("-inf"))
            else:
                scores = scores + m.astype(scores.dtype, copy=False)
    weights = N.Softmax.apply(scores, -1)
    if dropout_p > 0.0:
        weights = N.Dropout.apply(weights, dropout_p, None)
    return weights @ value


def mask_to_additive(mask: Any, dtype: Any, name: str) -> np.ndarray | None:
    """A boolean mask (True = masked out, MultiheadAttention's convention) as 0 / -inf, a float mask as is.

    >>> mask_to_additive(np.array([True, False]), np.float32, "attn_mask").tolist()
    [-inf, 0.0]
    """
    if mask is None:
        return None
    m = mask_array(mask)
    if m.dtype == bool:
        return np.where(m, -np.inf, 0.0).astype(dtype)
    if m.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported, got {m.dtype}")
    return m.astype(dtype, copy=False)


def multi_head_attention_core(
    q: Any,
    k: Any,
    v: Any,
    num_heads: int,
    attn_mask: Any,
    key_padding_mask: Any,
    dropout_p: float,
    need_weights: bool,
    average_attn_weights: bool,
) -> tuple[Any, Any]:
    """Attention of projected (N, L, E) queries over (N, S, E) keys/values split into ``num_heads`` heads.

    ``attn_mask``: (L, S) or (N * num_heads, L, S); ``key_padding_mask``: (N, S); both already additive arrays
    (see :func:`mask_to_additive`) or None. Returns ``(output (N, L, E), weights or None)``; the weights are
    (N, L, S) averaged over the heads or (N, num_heads, L, S), after dropout as torch's.

    >>> import gradlab
    >>> q = gradlab.randn(2, 5, 8)
    >>> out, w = multi_head_attention_core(q, q, q, 2, None, None, 0.0, True, True)
    >>> out.shape, w.shape
    (gradlab.Size([2, 5, 8]), gradlab.Size([2, 5, 5]))
    """
    n, length, e = (int(s) for s in q.shape)
    source = int(k.shape[1])
    hd = e // num_heads
    qh = q.reshape(n, length, num_heads, hd).transpose(1, 2)
    kh = k.reshape(n, source, num_heads, hd).transpose(1, 2)
    vh = v.reshape(n, source, num_heads, hd).transpose(1, 2)
    bias = None
    if attn_mask is not None:
        bias = attn_mask.reshape(n, num_heads, length, source) if attn_mask.ndim == 3 else attn_mask
    if key_padding_mask is not None:
        kpm = key_padding_mask.reshape(n, 1, 1, source)
        bias = kpm if bias is None else bias + kpm
    scores = (qh * (1.0 / math.sqrt(hd))) @ kh.transpose(-2, -1)
    if bias is not None:
        scores = scores + bias.astype(scores.dtype, copy=False)
    weights = N.Softmax.apply(scores, -1)
    dropped = N.Dropout.apply(weights, dropout_p, None) if dropout_p > 0.0 else weights
    out = (dropped @ vh).transpose(1, 2).reshape(n, length, e)
    if not need_weights:
        return out, None
    return out, (dropped.mean(dim=1) if average_attn_weights else dropped)  # torch returns the dropped weights
