"""``export_run``: a ``gradlab train`` run folder (image models, charlstm) as an ONNX file, run in ONNX Runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import gradlab  # noqa: E402
from gradlab.models import CharLSTM  # noqa: E402
from gradlab.train.onnx_run import export_run  # noqa: E402
from tests.onnx.common import onnx, run_session, session  # noqa: E402


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1, 28, 28)).astype(np.float32)


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
    export_run(run, tmp_path / "model.onnx")
    sess = session(onnx.load(str(tmp_path / "model.onnx")))
    assert [o.name for o in sess.get_outputs()] == ["logits"]
    x = _images(5)
    model.eval()
    (got,) = run_session(sess, x)
    np.testing.assert_allclose(got, model(gradlab.tensor(x))._data, rtol=1e-5, atol=1e-5)


def test_export_charlm_run(tmp_path):
    from gradlab.data.text import Vocab
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
    proto = export_run(run, tmp_path / "m.onnx")
    ids = np.random.default_rng(0).integers(0, len(vocab.chars), (3, 10))
    (got,) = run_session(session(proto), ids)
    np.testing.assert_allclose(got, model(gradlab.tensor(ids))._data, rtol=1e-5, atol=1e-5)


def test_export_run_needs_a_run_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        export_run(tmp_path, tmp_path / "m.onnx")
