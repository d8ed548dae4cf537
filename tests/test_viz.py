"""gradlab.viz (filter grids and activation maps as PNG) and the ``gradlab viz`` command."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.models import LeNet5, SimpleCNN
from gradlab.viz import conv_layers, first_conv_weight, normalise, plot_activations, plot_filters

PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_filters_grey_and_rgb(tmp_path):
    for weight in [LeNet5().features[0].weight, nn.Conv2d(3, 10, 5).weight, np.zeros((4, 2, 3, 3))]:
        path = plot_filters(weight, tmp_path / "sub" / "f.png")
        assert open(path, "rb").read(8) == PNG
    with pytest.raises(ValueError, match="shape"):
        plot_filters(np.zeros((3, 3)), tmp_path / "bad.png")


def test_plot_activations_restores_mode_and_records_nothing(tmp_path):
    model = SimpleCNN()
    model.train()
    path = plot_activations(model, gradlab.randn(1, 28, 28), tmp_path / "a.png", layers=3)
    assert open(path, "rb").read(8) == PNG
    assert model.training and all(p.grad is None for p in model.parameters())
    assert [n for n, _ in conv_layers(model)][:2] == ["features.0", "features.3"]
    assert first_conv_weight(model) is model.features[0].weight
    with pytest.raises(ValueError, match="no convolution layer"):
        plot_activations(nn.Sequential(nn.Flatten()), np.zeros((1, 4, 4)), tmp_path / "x.png")


def test_normalise_per_slice():
    a = np.array([[1.0, 3.0], [2.0, 2.0]])
    np.testing.assert_allclose(normalise(a, (1,)), [[0.0, 1.0], [0.5, 0.5]])


def test_viz_command(tmp_path, capsys):
    pytest.importorskip("gradlab.data.datasets")
    from gradlab.cli import main

    run = tmp_path / "run"
    code = main(["train", "--model", "lenet5", "--limit", "256", "--epochs", "1", "--val-split", "0", "--out",
                 str(run), "--no-progress"])
    if code != 0 and "not found" in capsys.readouterr().err.lower():  # pragma: no cover
        pytest.skip("MNIST not available")
    assert code == 0
    assert main(["viz", "filters", str(run)]) == 0
    assert (run / "filters.png").read_bytes()[:8] == PNG
    assert main(["viz", "activations", str(run), "--index", "5", "--out", str(tmp_path / "act.png")]) == 0
    assert (tmp_path / "act.png").read_bytes()[:8] == PNG
    assert main(["viz", "filters", str(tmp_path / "missing")]) == 2
