"""One training step of a small causal transformer encoder (character-LM shaped): embedding 70 -> 64, two pre-norm
``TransformerEncoderLayer`` (4 heads, feed-forward 256, GELU, dropout 0), a linear head, AdamW, batch 32 x 64
tokens, float32.

A step is zero_grad, forward, cross-entropy loss over every position, backward, optimizer step, on a fixed batch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["setup_gradlab", "setup_torch", "STEPS"]

STEPS = 20
VOCAB, D, HEADS, FF, LAYERS, BATCH, LENGTH = 70, 64, 4, 256, 2, 32, 64


def _batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, VOCAB, (BATCH, LENGTH)), rng.integers(0, VOCAB, (BATCH * LENGTH,))


def _make_step(lib, nn, optim, x, y):
    lib.manual_seed(0)
    emb = nn.Embedding(VOCAB, D)
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, 0.0, activation="gelu", batch_first=True, norm_first=True)
    encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False) if lib.__name__ == "torch" else (
        nn.TransformerEncoder(layer, LAYERS))  # fmt: skip
    head = nn.Linear(D, VOCAB)
    model = nn.ModuleList([emb, encoder, head])
    mask = nn.Transformer.generate_square_subsequent_mask(LENGTH)
    opt = optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        h = encoder(emb(x), mask=mask, is_causal=True)
        loss = loss_fn(head(h).reshape(-1, VOCAB), y)
        loss.backward()
        opt.step()
        return loss

    return step


def setup_gradlab():
    import gradlab
    from gradlab import nn, optim

    x, y = _batch()
    return _make_step(gradlab, nn, optim, gradlab.from_numpy(x), gradlab.from_numpy(y))


def setup_torch():
    import torch
    from torch import nn, optim

    x, y = _batch()
    return _make_step(torch, nn, optim, torch.from_numpy(x), torch.from_numpy(y))
