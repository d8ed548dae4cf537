"""LSTM forward + backward: 1 layer, batch 64, sequence 50, input 32, hidden 128, float32 (see ``_rnn.py``)."""

from __future__ import annotations

from workloads._rnn import make_setup

__all__ = ["setup_gradlab", "setup_torch", "STEPS"]

STEPS = 20
setup_gradlab, setup_torch = make_setup("LSTM")
