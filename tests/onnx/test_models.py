"""The ready networks (gradlab.models), exported and run in ONNX Runtime."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
import gradlab.onnx
from gradlab.models import MLP, CharLSTM, LeNet5, SequenceClassifier, SimpleCNN
from tests.onnx.common import check_export


def _images(n: int, seed: int = 0, size: int = 28) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1, size, size)).astype(np.float32)


def _settle_batch_norm(model, x):
    """Non-trivial running statistics: a few training-mode passes."""
    model.train()
    with gradlab.no_grad():
        for _ in range(2):
            model(gradlab.tensor(x))
    model.eval()
    return model


@pytest.mark.parametrize("model", [
    MLP(hidden=(64, 32)), MLP(hidden=(32,), activation="gelu", dropout=0.2, batch_norm=True),
    LeNet5(), LeNet5(activation="tanh", pool="avg"), SimpleCNN(channels=(8, 16), hidden=32),
], ids=["mlp", "mlp-gelu-bn-dropout", "lenet5", "lenet5-tanh-avg", "simplecnn"])
def test_image_models(model):
    _settle_batch_norm(model, _images(8, seed=5))
    check_export(model, [_images(3), _images(17, seed=1)])


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_sequence_classifiers(cell, bidirectional):
    model = SequenceClassifier(cell=cell, hidden_size=16, num_layers=2, bidirectional=bidirectional)
    check_export(model, [_images(3), _images(6, seed=1)])
    seqs = [np.random.default_rng(s).standard_normal((n, 9, 28)).astype(np.float32) for s, n in ((0, 2), (1, 4))]
    check_export(model, seqs, dynamic_axes={"input": {0: "batch", 1: "time"}})


def test_charlstm_dynamic_batch_and_length():
    model = CharLSTM(vocab_size=30, embedding_dim=8, hidden_size=16, num_layers=2)
    rng = np.random.default_rng(0)
    ids = [rng.integers(0, 30, (3, 7)), rng.integers(0, 30, (5, 12)), rng.integers(0, 30, (1, 1))]
    check_export(model, ids, dynamic_axes={"input": {0: "batch", 1: "sequence"}})
