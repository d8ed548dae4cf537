"""``CharTransformer`` (registered as ``'transformer'``): a small decoder-only (GPT-style) character-level language
model, what ``gradlab train --model transformer --text FILE`` trains. ``gradlab.models.sampling.sample`` generates
text from it as from a ``CharLSTM``.

>>> import gradlab
>>> lm = CharTransformer(vocab_size=20, d_model=16, nhead=2, num_layers=1, dim_feedforward=32, context=8)
>>> lm(gradlab.zeros(2, 5, dtype=gradlab.int64)).shape
(2, 5, 20)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.models.registry import register_model

__all__ = ["CharTransformer", "POSITIONAL", "sinusoidal_positions"]

#: The kinds of positional encoding.
POSITIONAL = ("learned", "sinusoidal")


def sinusoidal_positions(length: int, d_model: int, dtype: Any = np.float32) -> np.ndarray:
    """The fixed sine/cosine positional encodings of "Attention is all you need", ``(length, d_model)``:
    ``PE[p, 2i] = sin(p / 10000^(2i/d))``, ``PE[p, 2i+1] = cos(p / 10000^(2i/d))``.

    >>> pe = sinusoidal_positions(4, 6)
    >>> pe.shape, float(pe[0, 0]), float(pe[0, 1])  # position 0: sin 0, cos 0
    ((4, 6), 0.0, 1.0)
    """
    pos = np.arange(length, dtype=np.float64)[:, None]
    freq = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    pe = np.zeros((length, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq[: d_model // 2])
    return pe.astype(dtype)


@register_model("transformer")
class CharTransformer(nn.Module):
    """Character-level transformer language model: token embedding + positional encoding -> ``num_layers``
    ``nn.TransformerEncoderLayer`` under a causal mask -> final ``LayerNorm`` -> ``Linear(vocab_size)``.

    ``forward(ids (N, T) int64, T <= context) -> logits (N, T, vocab_size)``; position ``t`` sees characters
    ``0..t`` only. ``forward_with_state(ids, window) -> (logits, window)`` appends ``ids`` to the characters seen so
    far, keeps the last ``context`` of them and runs the model on that window (what sampling calls).

    The state-dict keys are those of torch modules of the same names (``tok``, ``pos`` when learned,
    ``encoder.layers.0.self_attn.in_proj_weight`` ..., ``encoder.norm``, ``head``); sinusoidal encodings are a
    fixed non-persistent buffer.

    Args:
        vocab_size: number of distinct characters.
        d_model: embedding and model width (128); must be divisible by ``nhead``.
        nhead: attention heads (4).
        num_layers: encoder layers (2).
        dim_feedforward: hidden width of each feed-forward block (4 * d_model when None).
        context: the longest sequence the model reads (128).
        dropout: dropout on the embeddings and inside the layers, in training (0).
        positional: ``'learned'`` (an ``Embedding`` of positions) or ``'sinusoidal'`` (fixed).
        norm_first: pre-norm layers (LayerNorm before attention and feed-forward; True) or post-norm.
        tie_weights: the output layer shares the token embedding's weight (False).
        activation: ``'gelu'`` (default) or ``'relu'``.

    >>> import gradlab
    >>> from gradlab.models import CharTransformer
    >>> m = CharTransformer(vocab_size=30, d_model=16, nhead=4, num_layers=1, context=10, tie_weights=True)
    >>> m(gradlab.tensor([[1, 2, 3]])).shape, m.head.weight is m.tok.weight
    ((1, 3, 30), True)
    """

    def __init__(self, vocab_size: int, d_model: int = 128, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int | None = None, context: int = 128, dropout: float = 0.0,
                 positional: str = "learned", norm_first: bool = True, tie_weights: bool = False,
                 activation: str = "gelu") -> None:  # fmt: skip
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("d_model", d_model), ("nhead", nhead),
                            ("num_layers", num_layers), ("context", context)):  # fmt: skip
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"CharTransformer: {name} must be an integer >= 1, got {value!r}")
        if d_model % nhead:
            raise ValueError(f"CharTransformer: d_model ({d_model}) must be divisible by nhead ({nhead})")
        if positional not in POSITIONAL:
            raise ValueError(f"CharTransformer: positional must be one of {POSITIONAL}, got {positional!r}")
        ff = 4 * d_model if dim_feedforward is None else dim_feedforward
        if ff < 1:
            raise ValueError(f"CharTransformer: dim_feedforward must be >= 1, got {ff}")
        self.vocab_size, self.d_model, self.context, self.positional = vocab_size, d_model, context, positional
        self.tok = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.tok.weight, 0.0, 0.02)
        if positional == "learned":
            self.pos = nn.Embedding(context, d_model)
            nn.init.normal_(self.pos.weight, 0.0, 0.02)
        else:
            self.register_buffer("pe", gradlab.from_numpy(sinusoidal_positions(context, d_model)), persistent=False)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, ff, dropout, activation=activation, batch_first=True,
                                           norm_first=norm_first)  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)  # fmt: skip
        self.head = nn.Linear(d_model, vocab_size)
        if tie_weights:
            self.head.weight = self.tok.weight

    def forward(self, ids: Any) -> Any:
        if ids.ndim != 2:
            raise ValueError(f"CharTransformer expects character ids (N, T), got shape {tuple(ids.shape)}")
        t = int(ids.shape[1])
        if t > self.context:
            raise ValueError(f"CharTransformer: a sequence of {t} characters is longer than the context "
                             f"({self.context}); crop it to the last {self.context}")
        x = self.tok(ids)
        x = x + (self.pos(gradlab.arange(t)) if self.positional == "learned" else self.pe[:t])
        mask = nn.Transformer.generate_square_subsequent_mask(t, dtype=x.dtype)
        return self.head(self.encoder(self.drop(x), mask=mask, is_causal=True))

    def forward_with_state(self, ids: Any, state: Any = None) -> tuple[Any, Any]:
        window = ids if state is None else gradlab.cat([state, ids], dim=1)
        if int(window.shape[1]) > self.context:
            window = window[:, -self.context :]
        return self(window), window
