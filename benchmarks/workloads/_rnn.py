"""Shared recurrent workloads (``lstm.py``, ``gru.py``): one layer, batch 64, sequence 50, input 32, hidden 128,
float32, time-major input. A step is zero_grad, forward, ``output.sum()``, backward (no optimizer).
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_setup"]

SEQ, BATCH, IN, HIDDEN = 50, 64, 32, 128


def _input() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((SEQ, BATCH, IN), dtype=np.float32)


def _make_step(lib, nn, kind: str, x):
    lib.manual_seed(0)
    model = getattr(nn, kind)(IN, HIDDEN)
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        out, _ = model(x)
        out.sum().backward()
        return out

    return step


def make_setup(kind: str):
    """(setup_gradlab, setup_torch) for ``kind`` in {'LSTM', 'GRU', 'RNN'}."""

    def setup_gradlab():
        import gradlab
        from gradlab import nn

        return _make_step(gradlab, nn, kind, gradlab.from_numpy(_input()))

    def setup_torch():
        import torch
        from torch import nn

        return _make_step(torch, nn, kind, torch.from_numpy(_input()))

    return setup_gradlab, setup_torch
