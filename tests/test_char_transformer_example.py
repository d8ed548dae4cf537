"""examples/char_transformer.py: a tiny configuration trains (the loss falls) and samples from the alphabet."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "char_transformer.py"


def _load():
    spec = importlib.util.spec_from_file_location("char_transformer_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_char_transformer_learns_and_samples():
    ex = _load()
    out = ex.train(steps=60, block=16, batch=16, d_model=32, num_layers=1, lr=1e-2, log_every=20, quiet=True)
    first, last = out["losses"][0][1], out["losses"][-1][1]
    vocab = len(out["chars"])
    assert first > 0.9 * math.log(vocab)  # starts near the uniform guess
    assert last < first - 0.8, out["losses"]
    assert out["val_loss"] < first - 0.5
    text = ex.sample(out["model"], out["chars"], prompt="In the", length=30)
    assert text.startswith("In the") and len(text) == 36 and set(text) <= set(out["chars"])
