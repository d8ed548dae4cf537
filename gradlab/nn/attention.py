"""``MultiheadAttention`` with torch's parameter layout (``in_proj_weight``/``in_proj_bias`` packed, or
``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when ``kdim``/``vdim`` differ; ``out_proj``), so a torch
``state_dict`` loads as is."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn import functional as F
from gradlab.nn import init
from gradlab.nn._attention_functions import mask_array, mask_to_additive, multi_head_attention_core
from gradlab.nn.linear import Linear
from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter
from gradlab.ops.shape import cat

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    r"""Multi-head attention: ``concat(head_1, ..., head_h) W_o`` with ``head_i = softmax(Q_i K_i^T / sqrt(d)) V_i``.

    Args:
        embed_dim: the model dimension E (split over ``num_heads`` heads).
        num_heads: number of heads (must divide ``embed_dim``).
        dropout: dropout on the attention weights (training only).
        bias: biases on the input and output projections.
        add_bias_kv: append a learned key and value (``bias_k``, ``bias_v``) to the sequence.
        add_zero_attn: append a zero key and value to the sequence.
        kdim, vdim: key and value feature sizes (default ``embed_dim``).
        batch_first: inputs are (N, L, E) instead of (L, N, E).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``. Boolean masks mark with True the
    positions that may NOT be attended (torch's convention here); float masks are added to the scores.
    ``attn_mask`` is (L, S) or (N * num_heads, L, S); ``key_padding_mask`` is (N, S). ``is_causal`` is a hint
    that ``attn_mask`` is the causal mask (it needs ``attn_mask``, as torch).

    >>> import gradlab
    >>> from gradlab import nn
    >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
    >>> x = gradlab.randn(2, 5, 16)
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    (gradlab.Size([2, 5, 16]), gradlab.Size([2, 5, 5]))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got {embed_dim} and {num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype=dt))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype=dt))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype=dt))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dtype=dt))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dtype=dt))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _project(self, query: Any, key: Any, value: Any) -> tuple[Any, Any, Any]:
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        if not self._qkv_same_embed_dim:
            return (F.linear(query, self.q_proj_weight, bq), F.linear(key, self.k_proj_weight, bk),
                    F.linear(value, self.v_proj_weight, bv))  # fmt: skip
        w = self.in_proj_weight
        if query is key and key is value:  # self-attention: one product for q, k and v
            qkv = F.linear(query, w, b)
            return qkv[..., :e], qkv[..., e : 2 * e], qkv[..., 2 * e :]
        return F.linear(query, w[:e], bq), F.linear(key, w[e : 2 * e], bk), F.linear(value, w[2 * e :], bv)

    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Any, Any]:
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint")
        if query.ndim not in (2, 3):
            raise ValueError(f"MultiheadAttention: query should be unbatched 2D or batched 3D, got {query.ndim}-D")
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = mask_array(key_padding_mask)[None]
        elif not self.batch_first:
            same_kv = key is value
            same = query is key and same_kv
            query = query.transpose(0, 1)
            key = query if same else key.transpose(0, 1)
            value = key if same_kv else value.transpose(0, 1)
        if int(query.shape[-1]) != self.embed_dim:
            raise ValueError(f"was expecting embedding dimension of {self.embed_dim}, but got {query.shape[-1]}")
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
        n = int(query.shape[0])
        dtype = query.dtype
        am = mask_to_additive(attn_mask, dtype, "attn_mask")
        kpm = mask_to_additive(key_padding_mask, dtype, "key_padding_mask")
        length, source = int(query.shape[1]), int(key.shape[1])
        if am is not None:
            if am.ndim == 2 and am.shape != (length, source):
                raise ValueError(f"The shape of the 2D attn_mask is {am.shape}, but should be {(length, source)}.")
            if am.ndim == 3 and am.shape != (n * self.num_heads, length, source):
                want = (n * self.num_heads, length, source)
                raise ValueError(f"The shape of the 3D attn_mask is {am.shape}, but should be {want}.")
        if kpm is not None and kpm.shape != (n, source):
            raise ValueError(f"key_padding_mask should have shape {(n, source)}, got {kpm.shape}")

        q, k, v = self._project(query, key, value)
        extra = int(self.bias_k is not None) + int(self.add_zero_attn)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(n, 1, self.embed_dim)], dim=1)
            v = cat([v, self.bias_v.expand(n, 1, self.embed_dim)], dim=1)
        if self.add_zero_attn:
            zeros = np.zeros((n, 1, self.embed_dim), dtype=dtype)
            k, v = cat([k, zeros], dim=1), cat([v, zeros], dim=1)
        if extra:
            if am is not None:
                am = np.concatenate([am, np.zeros(am.shape[:-1] + (extra,), dtype=am.dtype)], axis=-1)
            if kpm is not None:
                kpm = np.concatenate([kpm, np.zeros((n, extra), dtype=kpm.dtype)], axis=-1)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = multi_head_attention_core(
            q, k, v, self.num_heads, am, kpm, dropout_p, need_weights, average_attn_weights
        )
        out = self.out_proj(out)
        if unbatched:
            return out.squeeze(0), (weights.squeeze(0) if weights is not None else None)
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights
