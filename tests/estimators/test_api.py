"""The estimators inside scikit-learn's tooling, on every input kind sklearn's MLPs accept."""
from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from gradlab.estimators import MLPClassifier, MLPRegressor


def test_seed_003_snippet_runs_as_written():
    """The course notes' (seed 003) scikit-learn code, unchanged apart from the import."""
    X, y = load_iris(return_X_y=True)
    X_train, X_test, Y_train, Y_test = train_test_split(X, y, random_state=0)
    from gradlab.estimators import MLPClassifier

    mlp = MLPClassifier(hidden_layer_sizes=(5, 2), activation='logistic')
    mlp.fit(X_train, Y_train)
    pred = mlp.predict(X_test)
    assert pred.shape == Y_test.shape and set(pred) <= {0, 1, 2}
    assert [c.shape for c in mlp.coefs_] == [(4, 5), (5, 2), (2, 3)]
    assert mlp.out_activation_ == "softmax" and mlp.n_layers_ == 4


def test_convergence_warning_and_message():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        m = MLPClassifier(max_iter=500, tol=0.5, n_iter_no_change=2, random_state=0).fit(X, y)
    assert m.n_iter_ < 10  # stopped early: more than 2 epochs without an improvement of tol


def test_in_pipeline_grid_search_and_cross_val(digits):
    X, y = digits
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=30, random_state=0)
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    grid = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__activation": ["relu", "tanh"]},
                        cv=2)
    grid.fit(X, y)
    assert grid.best_score_ > 0.8
    assert set(grid.best_params_) == {"mlpclassifier__alpha", "mlpclassifier__activation"}


def test_clone_is_unfitted_and_equal_params(binary):
    X, y = binary
    m = MLPClassifier(hidden_layer_sizes=(7,), dropout=0.2, l1=1e-3, class_weight="balanced", random_state=0)
    m.fit(X, y)
    c = clone(m)
    assert c.get_params() == m.get_params()
    assert not hasattr(c, "coefs_")


def test_same_seed_same_result_and_different_seed_differs(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), max_iter=5, dropout=0.1)
    a = MLPClassifier(random_state=1, **kw).fit(X, y)
    b = MLPClassifier(random_state=1, **kw).fit(X, y)
    c = MLPClassifier(random_state=2, **kw).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert a.loss_curve_ == b.loss_curve_
    assert not np.allclose(a.coefs_[0], c.coefs_[0])
    # a RandomState instance is consumed, so two fits differ
    rs = np.random.RandomState(0)
    d = MLPClassifier(random_state=rs, **kw).fit(X, y)
    e = MLPClassifier(random_state=rs, **kw).fit(X, y)
    assert not np.allclose(d.coefs_[0], e.coefs_[0])


def test_partial_fit_classifier(digits):
    X, y = digits
    m = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        m.partial_fit(X[:50], y[:50])
    classes = np.unique(y)
    m.partial_fit(X[:100], y[:100], classes=classes)
    first = m.score(X, y)
    for _ in range(10):
        for s in range(0, 600, 100):
            m.partial_fit(X[s:s + 100], y[s:s + 100])
    assert m.n_iter_ == 1 and m.t_ == 100 + 10 * 600
    assert m.score(X, y) > max(first + 0.2, 0.8)
    with pytest.raises(ValueError, match="classes not in"):
        MLPClassifier().partial_fit(X[:20], y[:20], classes=[0, 1]).partial_fit(X[:50], y[:50])
    with pytest.raises(AttributeError, match="partial_fit"):
        MLPClassifier(solver="lbfgs").partial_fit(X, y, classes=classes)
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")


def test_partial_fit_regressor(regression):
    X, y = regression
    m = MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    for _ in range(30):
        m.partial_fit(X, y)
    assert m.score(X, y) > 0.8 and len(m.loss_curve_) == 30


def test_string_labels_binary_and_multiclass(digits, binary):
    X, y = binary
    labels = np.array(["no", "yes"])[y]
    m = MLPClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=0).fit(X, labels)
    assert list(m.classes_) == ["no", "yes"] and m.out_activation_ == "logistic"
    assert set(m.predict(X)) <= {"no", "yes"} and m.score(X, labels) > 0.85
    assert m.predict_proba(X).shape == (len(X), 2)
    np.testing.assert_allclose(m.predict_proba(X).sum(1), 1.0)
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"], dtype=object)
    m = MLPClassifier(hidden_layer_sizes=(16,), max_iter=50, random_state=0).fit(X, names[y])
    assert set(m.predict(X[:50])) <= set(names) and m.score(X, names[y]) > 0.8
    np.testing.assert_allclose(m.predict_log_proba(X[:5]), np.log(m.predict_proba(X[:5])))


def test_multilabel_fit_predict_and_partial_fit(multilabel):
    X, Y = multilabel
    m = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(X, Y)
    assert m.out_activation_ == "logistic" and m.n_outputs_ == 3
    P = m.predict(X)
    assert P.shape == Y.shape and set(np.unique(P)) <= {0, 1}
    assert m.score(X, Y) > 0.6  # subset accuracy
    assert m.predict_proba(X).shape == (200, 3)
    # extra: multilabel partial_fit needs no classes= (they are the indicator's columns)
    p = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    for _ in range(40):
        p.partial_fit(X, Y)
    np.testing.assert_array_equal(p.classes_, [0, 1, 2])
    assert (p.predict(X) == Y).mean() > 0.8


def test_multioutput_regression(multioutput):
    X, Y = multioutput
    m = MLPRegressor(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(X, Y)
    assert m.predict(X).shape == Y.shape and m.n_outputs_ == 3
    assert m.score(X, Y) > 0.9


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_equals_dense(digits, fmt):
    X, y = digits
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    for solver in ("adam", "lbfgs"):
        kw = dict(hidden_layer_sizes=(12,), solver=solver, max_iter=5, random_state=0)
        dense = MLPClassifier(**kw).fit(X, y)
        sparse = MLPClassifier(**kw).fit(Xs, y)
        np.testing.assert_allclose(sparse.coefs_[0], dense.coefs_[0], atol=1e-12)
        np.testing.assert_allclose(sparse.predict_proba(Xs), dense.predict_proba(X), atol=1e-12)
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(Xs, y.astype(float))
    assert reg.predict(Xs).shape == (len(y),)


def test_float32_stays_float32_and_float64_stays_float64(digits):
    X, y = digits
    m32 = MLPClassifier(hidden_layer_sizes=(12,), max_iter=5, random_state=0).fit(X.astype(np.float32), y)
    assert all(c.dtype == np.float32 for c in m32.coefs_ + m32.intercepts_)
    assert m32.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert m32.predict_proba(X).dtype == np.float32  # the model's dtype decides
    m64 = MLPClassifier(hidden_layer_sizes=(12,), max_iter=5, random_state=0).fit(X, y)
    assert m64.coefs_[0].dtype == np.float64 and m64.predict_proba(X).dtype == np.float64
    mi = MLPClassifier(hidden_layer_sizes=(12,), max_iter=5, random_state=0).fit((X * 16).astype(np.int64), y)
    assert mi.coefs_[0].dtype == np.float64
    for solver in ("lbfgs", "sgd"):
        r = MLPRegressor(hidden_layer_sizes=(4,), solver=solver, max_iter=5, random_state=0)
        r.fit(X.astype(np.float32), y.astype(np.float32))
        assert r.coefs_[0].dtype == np.float32 and r.predict(X.astype(np.float32)).dtype == np.float32


def test_pandas_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    m = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, y)
    np.testing.assert_array_equal(m.feature_names_in_, X.columns)
    assert m.n_features_in_ == 4
    with pytest.warns(UserWarning, match="does not have valid feature names"):  # sklearn's warning, as sklearn
        np.testing.assert_array_equal(m.predict(X), m.predict(X.to_numpy()))
    with pytest.raises(ValueError, match="feature names"):
        m.predict(X.rename(columns=lambda c: c + "!"))
    r = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5).fit(X, pd.Series(y.to_numpy(float)))
    assert r.predict(X).shape == (150,)


def test_parameter_validation_messages(digits):
    X, y = digits
    with pytest.raises(InvalidParameterError, match="'activation' parameter of MLPClassifier must be a str among"):
        MLPClassifier(activation="sine").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'dropout' parameter"):
        MLPClassifier(dropout=1.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'loss' parameter of MLPRegressor"):
        MLPRegressor(loss="huber").fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be > 0"):
        MLPClassifier(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="dropout > 0 needs a stochastic solver"):
        MLPClassifier(solver="lbfgs", dropout=0.1).fit(X, y)
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPClassifier(early_stopping=True, validation_fraction=0.001).fit(X[:50], y[:50])
    m = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="layer sizes"):
        m.set_params(hidden_layer_sizes=(5,)).fit(X, y)
    # __init__ stores its arguments untouched
    odd = MLPClassifier(hidden_layer_sizes=[3, 2], alpha="x")
    assert odd.hidden_layer_sizes == [3, 2] and odd.alpha == "x"


def test_copy_pickle_and_deepcopy_predict_identically(digits):
    X, y = digits
    m = MLPClassifier(hidden_layer_sizes=(12,), max_iter=5, random_state=0).fit(X, y)
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        np.testing.assert_array_equal(other.predict_proba(X), m.predict_proba(X))
        assert "_net" not in other.__dict__ or other._net is not m._net


def test_joblib_round_trip(tmp_path, digits):
    joblib = pytest.importorskip("joblib")
    X, y = digits
    m = MLPRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X, y.astype(float))
    joblib.dump(m, tmp_path / "m.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "m.joblib").predict(X), m.predict(X))


def test_pickled_model_keeps_training_exactly_like_the_original(digits):
    """The optimizer state (Adam moments, step count) travels with the pickle, so partial_fit continues
    exactly as it would have without the round trip."""
    X, y = digits
    m = MLPClassifier(hidden_layer_sizes=(12,), random_state=0)
    m.partial_fit(X, y, classes=np.unique(y))
    twin = pickle.loads(pickle.dumps(m))
    for est in (m, twin):
        est.partial_fit(X, y)
        est.partial_fit(X, y)
    np.testing.assert_array_equal(twin.coefs_[0], m.coefs_[0])
    assert twin.loss_curve_ == m.loss_curve_


def test_user_assigned_coefs_are_used(binary):
    X, y = binary
    m = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    m.coefs_ = [np.zeros_like(c) for c in m.coefs_]
    m.intercepts_ = [np.zeros_like(b) for b in m.intercepts_]
    np.testing.assert_allclose(m.predict_proba(X), 0.5)


@pytest.mark.parametrize("ours, theirs", [(MLPClassifier, "MLPClassifier"), (MLPRegressor, "MLPRegressor")])
def test_every_sklearn_parameter_with_the_same_default(ours, theirs):
    import sklearn.neural_network as sknn

    sk_params = getattr(sknn, theirs)().get_params()
    our_params = ours().get_params()
    for name, default in sk_params.items():
        assert name in our_params, name
        assert our_params[name] == default, name
    extras = set(our_params) - set(sk_params)
    assert extras == ({"dropout", "batch_norm", "l1"} | ({"class_weight"} if ours is MLPClassifier else set()))
    assert (our_params["dropout"], our_params["batch_norm"], our_params["l1"]) == (0.0, False, 0.0)
