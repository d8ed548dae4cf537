"""``run_training(device=...)`` and ``gradlab train --device``: the plumbing, on the fake GPU of
``tests/fake_cupy.py`` (a real GPU runs the same in ``tests/gpu/test_cuda.py``)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gradlab.train.experiment import DATASETS, load_run_model, make_config, register_dataset, run_training
from tests.fake_cupy import fake_gpu


def _blobs(train: bool = True, root: str | None = None) -> tuple:
    centers = np.random.default_rng(0).normal(size=(3, 1, 8, 8))
    rng = np.random.default_rng(1 if train else 2)
    y = rng.integers(0, 3, 300 if train else 150)
    x = (centers[y] + 0.5 * rng.standard_normal((len(y), 1, 8, 8))).astype(np.float32)
    return x, y.astype(np.int64), {"input_shape": [1, 8, 8], "num_classes": 3, "classes": ["a", "b", "c"]}


@pytest.fixture
def blobs():
    register_dataset("test-blobs", _blobs)
    yield "test-blobs"
    DATASETS.pop("test-blobs")


def test_a_run_on_the_device_equals_the_cpu_run_and_resumes_on_the_cpu(tmp_path, blobs):
    cfg = make_config(dataset=blobs, hidden=(16,), epochs=2, batch_size=32)
    cpu = run_training(cfg, tmp_path / "cpu", log=None, progress=False)
    with fake_gpu():
        gpu = run_training(cfg, tmp_path / "gpu", device="cuda", log=None, progress=False)
    assert gpu["test_loss"] == pytest.approx(cpu["test_loss"], rel=1e-6)
    assert gpu["test_accuracy"] == cpu["test_accuracy"]
    assert "device" not in json.loads((tmp_path / "gpu" / "config.json").read_text())  # the folder is neutral
    more = run_training(dict(cfg, epochs=3), tmp_path / "gpu", resume=True, log=None, progress=False)
    assert more["epochs"] == 3
    model, _ = load_run_model(tmp_path / "gpu")
    assert all(str(p.device) == "cpu" for p in model.parameters())


def test_train_device_cuda_on_the_command_line(tmp_path, blobs, capsys):
    from gradlab.cli import main

    with fake_gpu():
        assert main(["train", "--dataset", blobs, "--device", "cuda", "--out", str(tmp_path / "r"), "--epochs", "1",
                     "--hidden", "8", "--no-progress"]) == 0
    assert "test accuracy" in capsys.readouterr().out
