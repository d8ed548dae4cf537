"""The ready networks (gradlab.models), run folders and the estimators, exported and run in ONNX Runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradlab
import gradlab.onnx
from gradlab.models import MLP, CharLSTM, LeNet5, SequenceClassifier, SimpleCNN
from tests.onnx.common import check_export, onnx, run_session, session


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


def _tiny_dataset(train: bool = True, root=None):
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    return x, np.arange(4) % 3, {"input_shape": [1, 28, 28], "num_classes": 3}


@pytest.mark.parametrize("model_name", ["mlp", "lenet5", "cnn", "lstm", "gru"])
def test_export_run(tmp_path, monkeypatch, model_name):
    from gradlab.train import experiment
    from gradlab.train.checkpoint import save_weights

    monkeypatch.setitem(experiment.DATASETS, "tiny", _tiny_dataset)
    config = {"model": model_name, "model_kwargs": {"hidden_size": 8} if model_name in ("lstm", "gru") else {},
              "dataset": "tiny"}
    _, _, info = _tiny_dataset()
    model = experiment.build_from_config(config, info)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(config))
    save_weights(model, run / "weights.safetensors")
    gradlab.onnx.export_run(run, tmp_path / "model.onnx")
    sess = session(onnx.load(str(tmp_path / "model.onnx")))
    assert [o.name for o in sess.get_outputs()] == ["logits"]
    x = _images(5)
    model.eval()
    (got,) = run_session(sess, x)
    np.testing.assert_allclose(got, model(gradlab.tensor(x)).data, rtol=1e-5, atol=1e-5)


def test_export_charlm_run(tmp_path):
    from gradlab.textdata import Vocab
    from gradlab.train.checkpoint import save_weights

    vocab = Vocab.from_text("hello world")
    model = CharLSTM(vocab_size=len(vocab.chars), embedding_dim=4, hidden_size=8, num_layers=1)
    run = tmp_path / "run"
    run.mkdir()
    config = {"task": "charlm", "model": "charlstm", "seq_len": 6,
              "model_kwargs": {"vocab_size": len(vocab.chars), "embedding_dim": 4, "hidden_size": 8, "num_layers": 1}}
    (run / "config.json").write_text(json.dumps(config))
    vocab.save(run / "vocab.json")
    save_weights(model, run / "weights.safetensors")
    proto = gradlab.onnx.export_run(run, tmp_path / "m.onnx")
    ids = np.random.default_rng(0).integers(0, len(vocab.chars), (3, 10))
    (got,) = run_session(session(proto), ids)
    np.testing.assert_allclose(got, model(gradlab.tensor(ids)).data, rtol=1e-5, atol=1e-5)


def test_export_run_needs_a_run_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        gradlab.onnx.export_run(tmp_path, tmp_path / "m.onnx")
