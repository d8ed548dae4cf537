"""``MLPClassifier.to_onnx`` / ``MLPRegressor.to_onnx``: ONNX Runtime reproduces predict_proba / predict."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from gradlab.estimators import MLPClassifier, MLPRegressor  # noqa: E402


def _run(proto, X):
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"X": X})[0]


def _data(n=60, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32)


@pytest.mark.parametrize("n_classes, kwargs", [
    (3, {}), (2, {"activation": "tanh"}), (4, {"activation": "gelu", "batch_norm": True, "dropout": 0.2}),
])
def test_classifier_probabilities(n_classes, kwargs):
    X = _data()
    y = np.arange(len(X)) % n_classes
    clf = MLPClassifier(hidden_layer_sizes=(8, 6), max_iter=30, random_state=0, **kwargs).fit(X, y)
    proto = clf.to_onnx()
    assert [o.name for o in proto.graph.output] == ["probabilities"]
    for rows in (1, 13):
        np.testing.assert_allclose(_run(proto, X[:rows]), clf.predict_proba(X[:rows]), rtol=1e-5, atol=1e-5)


def test_multilabel_classifier():
    X = _data()
    Y = (X[:, :3] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X, Y)
    np.testing.assert_allclose(_run(clf.to_onnx(), X), clf.predict_proba(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"loss": "poisson"}])
def test_regressor_predictions(tmp_path, kwargs):
    X = _data()
    y = np.stack([np.abs(X[:, 0]), np.abs(X[:, 1])], 1)
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0, **kwargs).fit(X, y)
    path = tmp_path / "reg.onnx"
    proto = reg.to_onnx(path)
    assert path.stat().st_size > 0
    np.testing.assert_allclose(_run(proto, X), reg.predict(X), rtol=1e-5, atol=1e-5)


def test_unfitted_estimator_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MLPClassifier().to_onnx()
