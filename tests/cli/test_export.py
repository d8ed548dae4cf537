"""``gradlab export RUN --onnx FILE``: the exported graph gives the run's own predictions in ONNX Runtime."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.cli import main

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install gradlab[onnx])")


def test_export_a_trained_run_and_run_it_in_onnx_runtime(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--limit", "200", "--epochs", "1", "--hidden", "16",
                 "--no-progress"]) == 0
    path = tmp_path / "model.onnx"
    assert main(["export", str(run), "--onnx", str(path)]) == 0
    assert "wrote" in capsys.readouterr().out and path.is_file()
    from gradlab.train.experiment import load_run_model

    model, _ = load_run_model(run)
    model.eval()
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28)).astype(np.float32)
    with gradlab.no_grad():
        expected = model(gradlab.from_numpy(x)).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_export_refuses_what_is_not_a_run_or_a_file_path(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--limit", "100", "--epochs", "1", "--hidden", "8",
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["export", str(run), "--onnx", str(tmp_path / "nodir" / "m.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", str(run), "--onnx", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
