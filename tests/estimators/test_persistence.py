"""save/load without pickle: one safetensors file with the parameters and fitted attributes as JSON."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError

from gradlab import io as gio
from gradlab.estimators import MLPClassifier, MLPRegressor, load


def _round_trip(est, tmp_path, X):
    path = tmp_path / "model.safetensors"
    est.save(path)
    other = type(est).load(path)
    assert type(other) is type(est)
    assert other.get_params() == est.get_params()
    return other, path


@pytest.mark.parametrize("labels", ["int", "str", "object"])
def test_classifier_round_trip_predicts_identically(tmp_path, digits, labels):
    X, y = digits
    if labels != "int":
        y = np.array([f"digit-{v}" for v in y], dtype=object if labels == "object" else str)
    m = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=5, random_state=0).fit(X, y)
    other, _ = _round_trip(m, tmp_path, X)
    np.testing.assert_array_equal(other.predict(X), m.predict(X))
    np.testing.assert_array_equal(other.predict_proba(X), m.predict_proba(X))
    assert other.classes_.dtype == m.classes_.dtype
    for name in ("loss_", "best_loss_", "loss_curve_", "t_", "n_iter_", "n_layers_", "n_outputs_", "out_activation_",
                 "n_features_in_", "validation_scores_", "best_validation_score_"):
        assert getattr(other, name) == getattr(m, name), name


def test_binary_multilabel_regression_bn_float32_round_trips(tmp_path, binary, multilabel, multioutput):
    cases = [
        (MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0), *binary),
        (MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0), *multilabel),
        (MLPRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0), *multioutput),
        (MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5, random_state=0),
         multioutput[0], np.abs(multioutput[1])),
        (MLPClassifier(hidden_layer_sizes=(8, 4), batch_norm=True, dropout=0.2, early_stopping=True, max_iter=5,
                       random_state=0), *binary),
    ]
    for est, X, y in cases:
        est.fit(X, y)
        other, _ = _round_trip(est, tmp_path, X)
        np.testing.assert_array_equal(other.predict(X), est.predict(X))
    X, y = binary
    m = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X.astype(np.float32), y)
    other, _ = _round_trip(m, tmp_path, X)
    assert other.coefs_[0].dtype == np.float32
    np.testing.assert_array_equal(other.predict_proba(X), m.predict_proba(X))


def test_feature_names_survive(tmp_path):
    pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    m = MLPClassifier(hidden_layer_sizes=(5, 2), activation="logistic", max_iter=5, random_state=0).fit(X, y)
    other, _ = _round_trip(m, tmp_path, X)
    np.testing.assert_array_equal(other.feature_names_in_, m.feature_names_in_)
    np.testing.assert_array_equal(other.predict(X), m.predict(X))


def test_loaded_model_continues_training_like_the_original(tmp_path, digits):
    X, y = digits
    m = MLPClassifier(hidden_layer_sizes=(12,), random_state=0)
    m.partial_fit(X, y, classes=np.unique(y))
    other, _ = _round_trip(m, tmp_path, X)
    for est in (m, other):
        est.partial_fit(X, y)
    np.testing.assert_array_equal(other.coefs_[0], m.coefs_[0])
    assert other.loss_curve_ == m.loss_curve_
    s = MLPClassifier(hidden_layer_sizes=(12,), solver="sgd", learning_rate="invscaling", learning_rate_init=0.5,
                      random_state=0)
    s.partial_fit(X, y, classes=np.unique(y))
    other, _ = _round_trip(s, tmp_path, X)
    for est in (s, other):
        est.partial_fit(X, y)
    np.testing.assert_array_equal(other.coefs_[0], s.coefs_[0])


def test_file_is_plain_safetensors_with_json_metadata(tmp_path, binary):
    X, y = binary
    m = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X, y)
    path = tmp_path / "m.safetensors"
    m.save(path)
    st = pytest.importorskip("safetensors.numpy")
    arrays = st.load_file(str(path))
    assert any(a.shape == (8, 6) for a in arrays.values())  # the first layer's weights
    meta = json.loads(gio.load_metadata(path)["gradlab.estimator"])
    assert meta["format"] == "gradlab-estimator" and meta["content"]["class"] == "MLPClassifier"
    assert meta["content"]["params"]["hidden_layer_sizes"] == {"__tuple__": [6]}
    assert b"\x80\x04" not in path.read_bytes()[:16]  # not a pickle
    assert isinstance(load(path), MLPClassifier)  # the module-level loader dispatches on the stored class


def test_errors_and_atomic_overwrite(tmp_path, binary, monkeypatch):
    X, y = binary
    m = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X, y)
    path = tmp_path / "m.safetensors"
    m.save(path)
    before = path.read_bytes()
    with pytest.raises(NotFittedError):
        MLPClassifier().save(path)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(gio.safetensors, "serialize_arrays", broken)
    with pytest.raises(OSError, match="disk full"):
        MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["m.safetensors"]
    with pytest.raises(TypeError, match="not a MLPRegressor"):
        MLPRegressor.load(path)
    plain = tmp_path / "plain.safetensors"
    gio.save({"w": np.zeros(2)}, plain)
    with pytest.raises(ValueError, match="not a saved gradlab estimator"):
        load(plain)
