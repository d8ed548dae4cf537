"""Same data, same parameters, same random_state: gradlab's estimators reproduce sklearn's fits.

The weights, loss curves, iteration counts and validation scores agree to rounding error (float64), which checks
the initialisation, shuffling, batching, loss (with its L2 term), the solvers, the learning-rate schedules, the
stopping rules and the early-stopping split all at once.
"""
from __future__ import annotations

import numpy as np
import pytest
import sklearn.neural_network as sknn

from gradlab.estimators import MLPClassifier, MLPRegressor

ATOL = 1e-9


def _assert_same_fit(ours, theirs, atol=ATOL):
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    assert ours.n_layers_ == theirs.n_layers_ and ours.n_outputs_ == theirs.n_outputs_
    assert ours.out_activation_ == theirs.out_activation_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)
    if hasattr(theirs, "loss_curve_"):
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9, atol=atol)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-9, atol=atol)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", learning_rate_init=0.05),
        dict(solver="sgd", learning_rate_init=0.05, nesterovs_momentum=False, momentum=0.5),
        dict(solver="sgd", learning_rate_init=0.5, learning_rate="invscaling", power_t=0.25),
        dict(solver="sgd", learning_rate_init=0.05, learning_rate="adaptive", tol=0.2, n_iter_no_change=1),
        dict(solver="adam", alpha=1e-2),
        dict(solver="adam", batch_size=64, beta_1=0.8, beta_2=0.99, epsilon=1e-6, shuffle=False),
        dict(solver="lbfgs", activation="tanh"),
        dict(solver="adam", activation="logistic", early_stopping=True, validation_fraction=0.2, tol=1e-2,
             n_iter_no_change=2),
        dict(solver="adam", activation="identity", tol=1e-2, n_iter_no_change=2),
    ],
)
def test_classifier_matches_sklearn(digits, params):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16, 8), max_iter=15, random_state=3, **params)
    ours = MLPClassifier(**kw).fit(X, y)
    theirs = sknn.MLPClassifier(**kw).fit(X, y)
    _assert_same_fit(ours, theirs)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-9)
    if params.get("early_stopping"):
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
        assert ours.best_validation_score_ == theirs.best_validation_score_
        assert ours.best_loss_ is None and theirs.best_loss_ is None
    elif params["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.best_loss_, theirs.best_loss_, rtol=1e-9)
        assert ours.validation_scores_ is None and ours.best_validation_score_ is None


def test_adaptive_learning_rate_really_adapts(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.05, tol=0.2,
              n_iter_no_change=1, max_iter=15, random_state=0)
    ours = MLPClassifier(**kw).fit(X, y)
    assert ours._learning_rate < 0.05  # divided by 5 at least once, and the weights still match sklearn's
    _assert_same_fit(ours, sknn.MLPClassifier(**kw).fit(X, y))


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_binary_and_multilabel_match_sklearn(binary, multilabel, solver):
    for X, y in (binary, multilabel):
        kw = dict(hidden_layer_sizes=(10,), solver=solver, max_iter=10, random_state=0, learning_rate_init=0.01)
        ours = MLPClassifier(**kw).fit(X, y)
        theirs = sknn.MLPClassifier(**kw).fit(X, y)
        _assert_same_fit(ours, theirs)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_sample_weight_matches_sklearn(digits, solver):
    X, y = digits
    sw = np.random.RandomState(0).uniform(0.1, 3.0, len(y))
    kw = dict(hidden_layer_sizes=(12,), solver=solver, max_iter=8, random_state=1, learning_rate_init=0.01)
    _assert_same_fit(MLPClassifier(**kw).fit(X, y, sample_weight=sw),
                     sknn.MLPClassifier(**kw).fit(X, y, sample_weight=sw))


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", learning_rate_init=0.01),
        dict(solver="adam", learning_rate_init=0.01),
        dict(solver="lbfgs"),
        dict(solver="adam", early_stopping=True, n_iter_no_change=3, tol=1e-3),
    ],
)
def test_regressor_matches_sklearn(regression, params):
    X, y = regression
    kw = dict(hidden_layer_sizes=(12, 6), max_iter=12, random_state=0, **params)
    ours = MLPRegressor(**kw).fit(X, y)
    theirs = sknn.MLPRegressor(**kw).fit(X, y)
    _assert_same_fit(ours, theirs)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-9)
    if params.get("early_stopping"):
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_poisson_matches_sklearn(regression, solver):
    X, _ = regression
    y = np.random.RandomState(0).poisson(np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1]))
    kw = dict(loss="poisson", hidden_layer_sizes=(8,), solver=solver, max_iter=10, random_state=0,
              learning_rate_init=0.01)
    ours = MLPRegressor(**kw).fit(X, y)
    theirs = sknn.MLPRegressor(**kw).fit(X, y)
    assert ours.out_activation_ == "exp"
    _assert_same_fit(ours, theirs, atol=1e-8)


def test_multioutput_squared_error_gradient_matches_sklearn(multioutput):
    """With several outputs the weights follow sklearn's (same gradient); only the reported loss differs."""
    X, Y = multioutput
    kw = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.01, max_iter=5, random_state=0,
              alpha=0.0)
    ours = MLPRegressor(**kw).fit(X, Y)
    theirs = sknn.MLPRegressor(**kw).fit(X, Y)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(a, b, atol=ATOL)
    # documented: gradlab reports 0.5 * sum over outputs of the MSE, sklearn that divided by n_outputs
    np.testing.assert_allclose(ours.loss_curve_, np.array(theirs.loss_curve_) * Y.shape[1], rtol=1e-9)


def test_partial_fit_and_warm_start_match_sklearn(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate_init=0.05, random_state=0, max_iter=3)
    ours, theirs = MLPClassifier(**kw), sknn.MLPClassifier(**kw)
    classes = np.unique(y)
    for start in range(0, 600, 150):
        ours.partial_fit(X[start:start + 150], y[start:start + 150], classes=classes)
        theirs.partial_fit(X[start:start + 150], y[start:start + 150], classes=classes)
    _assert_same_fit(ours, theirs)

    kw["warm_start"] = True
    ours, theirs = MLPClassifier(**kw).fit(X, y), sknn.MLPClassifier(**kw).fit(X, y)
    ours.fit(X, y)
    theirs.fit(X, y)
    _assert_same_fit(ours, theirs)
    assert len(ours.loss_curve_) == 6


def test_float32_adam_matches_sklearn_closely(digits):
    X, y = digits
    X = X.astype(np.float32)
    kw = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    ours = MLPClassifier(**kw).fit(X, y)
    theirs = sknn.MLPClassifier(**kw).fit(X, y)
    assert ours.coefs_[0].dtype == np.float32 == theirs.coefs_[0].dtype
    for a, b in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
