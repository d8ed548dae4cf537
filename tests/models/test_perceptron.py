"""Perceptron: Rosenblatt's rule converges on separable data and not on XOR; the logistic neuron by autograd."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.data.datasets.toy import make_xor
from gradlab.models import Perceptron, build_model
from tests.helpers import to_numpy


def _separable(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2))
    margin = x @ np.array([1.0, -2.0]) + 0.3
    keep = np.abs(margin) > 0.1  # a strictly positive margin
    return x[keep], (margin[keep] > 0).astype(np.int64)


def test_rosenblatt_converges_on_separable_data() -> None:
    x, y = _separable()
    p = Perceptron(in_features=2)
    mistakes = p.fit_rosenblatt(x, y, epochs=100)
    assert mistakes[-1] == 0 and len(mistakes) < 100
    assert (p.predict(x) == y).all()
    # the module's forward agrees with the numpy decision function
    logits = to_numpy(p(gradlab.tensor(x.astype(np.float32))))
    assert ((logits > 0) == (y == 1)).all()


def test_rosenblatt_accepts_pm1_labels_and_never_converges_on_xor() -> None:
    x, y = _separable()
    assert Perceptron(2).fit_rosenblatt(x, y * 2 - 1, epochs=100)[-1] == 0
    xx, yx = make_xor(200, noise=0.0, seed=0)
    hist = Perceptron(2).fit_rosenblatt(np.asarray(xx), (np.asarray(yx) > 0).astype(int), epochs=20)
    assert len(hist) == 20 and min(hist) > 0


def test_multiclass_rule_separates_three_blobs() -> None:
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    y = rng.integers(0, 3, 150)
    x = centres[y] + rng.normal(0, 0.3, (150, 2))
    p = Perceptron(2, num_classes=3)
    assert p.fit_rosenblatt(x, y, epochs=50)[-1] == 0
    assert (p.predict(x) == y).all()
    assert p(gradlab.tensor(x.astype(np.float32))).shape == (150, 3)


def test_logistic_gradient_descent_lowers_the_loss_and_fits() -> None:
    gradlab.manual_seed(0)
    x, y = _separable()
    p = Perceptron(2)
    losses = p.fit_logistic(x, y, epochs=100, lr=1.0)
    assert losses[-1] < losses[0] * 0.5
    assert (p.predict(x) == y).mean() > 0.95


def test_every_parameter_gets_a_gradient() -> None:
    p = build_model("perceptron", in_features=784, num_classes=10)
    out = p(gradlab.rand(4, 1, 28, 28))
    gradlab.nn.CrossEntropyLoss()(out, gradlab.tensor([0, 1, 2, 3])).backward()
    assert all(q.grad is not None and np.abs(to_numpy(q.grad)).sum() > 0 for q in p.parameters())


def test_bad_input() -> None:
    p = Perceptron(2)
    with pytest.raises(ValueError, match="labels must be"):
        p.fit_rosenblatt(np.zeros((3, 2)), [0, 1, 2])
    with pytest.raises(ValueError, match="3 samples but 2 labels"):
        p.fit_rosenblatt(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError, match="expected 2 input features"):
        p.predict(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="integers in"):
        Perceptron(2, num_classes=3).fit_rosenblatt(np.zeros((2, 2)), [0, 5])
    with pytest.raises(ValueError, match="positive"):
        Perceptron(0)
