"""The gradlab extras: more activations, dropout, batch norm, L1, RMSprop, class weights, sample weights,
validation curves, early stopping in partial_fit."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf, expit, softmax
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss, recall_score
from sklearn.neural_network import MLPClassifier as SKMLPClassifier

from gradlab import optim
from gradlab.estimators import MLPClassifier, MLPRegressor

NUMPY_ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
    "gelu": lambda z: 0.5 * z * (1 + erf(z / np.sqrt(2))),
    "softplus": lambda z: np.logaddexp(0, z),
    "swish": lambda z: z * expit(z),
}


def _numpy_forward(m, X, act):
    h = X
    for i, (W, b) in enumerate(zip(m.coefs_, m.intercepts_)):
        h = h @ W + b
        if i < len(m.coefs_) - 1:
            bn = getattr(m, "batch_norm_params_", None)
            if bn is not None:
                p = bn[i]
                h = (h - p["running_mean"]) / np.sqrt(p["running_var"] + 1e-5) * p["weight"] + p["bias"]
            h = act(h)
    return h


@pytest.mark.parametrize("activation", sorted(NUMPY_ACTIVATIONS))
def test_every_activation_trains_and_predicts_its_function(digits, activation):
    X, y = digits
    m = MLPClassifier(hidden_layer_sizes=(24, 12), activation=activation, learning_rate_init=0.02, max_iter=15,
                      random_state=0).fit(X, y)
    assert m.loss_curve_[-1] < 0.7 * m.loss_curve_[0]
    np.testing.assert_allclose(m.predict_proba(X), softmax(_numpy_forward(m, X, NUMPY_ACTIVATIONS[activation]), 1),
                               atol=1e-10)


def test_glorot_initialisation_bound(digits):
    X, y = digits
    for activation, factor in (("logistic", 2.0), ("gelu", 6.0), ("relu", 6.0)):
        m = MLPClassifier(hidden_layer_sizes=(30,), activation=activation, max_iter=1, learning_rate_init=1e-12,
                          random_state=0).fit(X, y)
        bound = np.sqrt(factor / (64 + 30))
        assert np.abs(m.coefs_[0]).max() <= bound and np.abs(m.coefs_[0]).max() > 0.95 * bound


def test_dropout_trains_differently_but_predicts_deterministically(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    plain = MLPClassifier(**kw).fit(X, y)
    drop = MLPClassifier(dropout=0.5, **kw).fit(X, y)
    assert not np.allclose(plain.coefs_[0], drop.coefs_[0])
    assert drop.loss_curve_[-1] > plain.loss_curve_[-1]  # training loss measured with units dropped
    np.testing.assert_array_equal(drop.predict_proba(X), drop.predict_proba(X))  # eval mode: no masks
    net = drop._network()
    net.model.train()
    import gradlab

    with gradlab.no_grad():
        a = net.model(gradlab.from_numpy(X)).data
        b = net.model(gradlab.from_numpy(X)).data
    assert not np.allclose(a, b)
    assert MLPClassifier(dropout=0.0, **kw).fit(X, y).loss_curve_ == plain.loss_curve_


def test_batch_norm_running_statistics_are_used_for_prediction(digits):
    X, y = digits
    m = MLPClassifier(hidden_layer_sizes=(20, 10), batch_norm=True, max_iter=10, random_state=0).fit(X, y)
    assert [p["weight"].shape for p in m.batch_norm_params_] == [(20,), (10,)]
    bn = m.batch_norm_params_[0]
    assert not np.allclose(bn["running_mean"], 0) and not np.allclose(bn["running_var"], 1)
    assert not np.allclose(bn["weight"], 1)  # learned
    np.testing.assert_allclose(m.predict_proba(X), softmax(_numpy_forward(m, X, NUMPY_ACTIVATIONS["relu"]), 1),
                               atol=1e-10)
    np.testing.assert_allclose(m.predict_proba(X[:1]), m.predict_proba(X)[:1], atol=1e-12)


def test_batch_norm_trains_a_deep_sigmoid_network(digits):
    """Six logistic layers: without normalisation the gradients vanish and nothing is learned in 15 epochs."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(32,) * 6, activation="logistic", learning_rate_init=0.01, max_iter=15,
              random_state=0)
    plain = MLPClassifier(**kw).fit(X, y).score(X, y)
    bn = MLPClassifier(batch_norm=True, **kw).fit(X, y).score(X, y)
    assert plain < 0.3 and bn > 0.85


def test_batch_norm_with_lbfgs_and_a_one_sample_last_batch(digits):
    X, y = digits
    m = MLPClassifier(hidden_layer_sizes=(16,), batch_norm=True, solver="lbfgs", max_iter=30, random_state=0)
    m.fit(X, y)
    assert m.score(X, y) > 0.9
    h = X @ m.coefs_[0] + m.intercepts_[0]
    np.testing.assert_allclose(m.batch_norm_params_[0]["running_mean"], h.mean(0), atol=1e-8)
    # 601 samples, batch_size 200: the last batch of one sample is folded into the previous one
    X1, y1 = np.vstack([X, X[:1]]), np.append(y, y[0])
    MLPClassifier(hidden_layer_sizes=(8,), batch_norm=True, max_iter=2, random_state=0).fit(X1, y1)
    with pytest.raises(ValueError, match="batch_size >= 2"):
        MLPClassifier(batch_norm=True, batch_size=1, max_iter=1).fit(X, y)


def test_l1_shrinks_weights_and_is_part_of_the_loss(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=40, alpha=0.0, random_state=0)
    free = MLPClassifier(**kw).fit(X, y)
    lasso = MLPClassifier(l1=0.5, **kw).fit(X, y)
    l1_sum = sum(np.abs(c).sum() for c in lasso.coefs_)
    assert l1_sum < 0.5 * sum(np.abs(c).sum() for c in free.coefs_)
    assert np.mean(np.abs(lasso.coefs_[0]) < 1e-3) > 2 * np.mean(np.abs(free.coefs_[0]) < 1e-3)
    data = log_loss(y, lasso.predict_proba(X))
    np.testing.assert_allclose(lasso.loss_, data + 0.5 * l1_sum / len(y), rtol=1e-6)


def test_rmsprop_solver(digits):
    X, y = digits
    m = MLPClassifier(hidden_layer_sizes=(32,), solver="rmsprop", max_iter=30, random_state=0).fit(X, y)
    assert isinstance(m._network().optimizer, optim.RMSprop)
    assert m.score(X, y) > 0.9
    adam = MLPClassifier(hidden_layer_sizes=(32,), solver="adam", max_iter=30, random_state=0).fit(X, y)
    assert not np.allclose(adam.coefs_[0], m.coefs_[0])
    r = MLPRegressor(hidden_layer_sizes=(16,), solver="rmsprop", max_iter=50, random_state=0)
    r.partial_fit(X, y.astype(float))
    r.partial_fit(X, y.astype(float))
    assert r.n_iter_ == 1 and len(r.loss_curve_) == 2


def test_class_weight_dict_equals_sample_weight(digits):
    X, y = digits
    cw = {c: 1.0 + c / 3 for c in range(10)}
    kw = dict(hidden_layer_sizes=(12,), max_iter=5, random_state=0)
    a = MLPClassifier(class_weight=cw, **kw).fit(X, y)
    b = MLPClassifier(**kw).fit(X, y, sample_weight=np.array([cw[v] for v in y]))
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], atol=1e-12)
    # a common factor changes nothing when there is no penalty (the penalty is divided by the weights' sum)
    kw["alpha"] = 0.0
    a0 = MLPClassifier(class_weight=cw, **kw).fit(X, y)
    both = MLPClassifier(class_weight=cw, **kw).fit(X, y, sample_weight=np.full(len(y), 2.0))
    np.testing.assert_allclose(both.coefs_[0], a0.coefs_[0], atol=1e-12)


def test_class_weight_balanced_raises_minority_recall():
    X, y = make_classification(n_samples=600, n_features=6, weights=[0.93], flip_y=0.05, class_sep=0.6,
                               random_state=3)
    kw = dict(hidden_layer_sizes=(16,), max_iter=60, random_state=0)
    plain = recall_score(y, MLPClassifier(**kw).fit(X, y).predict(X))
    balanced = recall_score(y, MLPClassifier(class_weight="balanced", **kw).fit(X, y).predict(X))
    assert balanced > plain + 0.2


def test_class_weight_errors(multilabel, digits):
    X, Y = multilabel
    with pytest.raises(ValueError, match="multilabel"):
        MLPClassifier(class_weight={0: 1.0}, max_iter=2).fit(X, Y)
    X, y = digits
    with pytest.raises(ValueError, match="'balanced' is not supported for partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=np.unique(y))


def test_sample_weight_zero_equals_removal_and_integer_equals_repetition(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=25, random_state=0)
    w = np.ones(len(y))
    w[::3] = 0
    a = MLPClassifier(**kw).fit(X, y, sample_weight=w)
    b = MLPClassifier(**kw).fit(X[w > 0], y[w > 0])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-6)
    w2 = np.where(np.arange(len(y)) % 4 == 0, 2.0, 1.0)
    c = MLPClassifier(**kw).fit(X, y, sample_weight=w2)
    rep = np.repeat(np.arange(len(y)), w2.astype(int))
    d = MLPClassifier(**kw).fit(X[rep], y[rep])
    np.testing.assert_allclose(c.predict_proba(X), d.predict_proba(X), atol=1e-6)
    r = MLPRegressor(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30, random_state=0)
    yr = y.astype(float)
    np.testing.assert_allclose(r.fit(X, yr, sample_weight=w).predict(X),
                               MLPRegressor(**r.get_params()).fit(X[w > 0], yr[w > 0]).predict(X), atol=1e-6)


def test_validation_loss_curve_with_validation_data(digits):
    X, y = digits
    Xt, yt, Xv, yv = X[:450], y[:450], X[450:], y[450:]
    m = MLPClassifier(hidden_layer_sizes=(16,), max_iter=12, random_state=0).fit(Xt, yt, validation_data=(Xv, yv))
    assert len(m.validation_loss_curve_) == len(m.validation_scores_) == len(m.loss_curve_) == 12
    np.testing.assert_allclose(m.validation_loss_curve_[-1], log_loss(yv, m.predict_proba(Xv), labels=range(10)),
                               rtol=1e-10)
    assert m.validation_scores_[-1] == m.score(Xv, yv)
    assert m.validation_loss_curve_[-1] < m.validation_loss_curve_[0]
    assert m.best_validation_score_ == max(m.validation_scores_) and m.n_iter_ == 12  # no early stopping
    r = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    r.fit(Xt, yt.astype(float), validation_data=(Xv, yv.astype(float)))
    np.testing.assert_allclose(r.validation_loss_curve_[-1], 0.5 * np.mean((r.predict(Xv) - yv) ** 2), rtol=1e-10)
    lb = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0)
    lb.fit(Xt, yt, validation_data=(Xv, yv))
    assert lb.validation_scores_ == [lb.score(Xv, yv)] and len(lb.validation_loss_curve_) == 1


def test_validation_loss_curve_with_early_stopping_and_best_weights(digits):
    X, y = digits
    m = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=3, tol=0.0, max_iter=200,
                      learning_rate_init=0.05, random_state=0).fit(X, y)
    assert len(m.validation_loss_curve_) == len(m.validation_scores_) == m.n_iter_ < 200
    assert m.best_validation_score_ == max(m.validation_scores_)
    Xt, yt, Xv, yv = X[:450], y[:450], X[450:], y[450:]
    e = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=3, max_iter=200,
                      learning_rate_init=0.05, random_state=0).fit(Xt, yt, validation_data=(Xv, yv))
    assert e.score(Xv, yv) == e.best_validation_score_  # the best weights were restored
    assert len(e.loss_curve_) == e.n_iter_  # the whole training set was used (no split)
    assert e.t_ == 450 * e.n_iter_


def test_partial_fit_with_early_stopping(digits):
    X, y = digits
    Xt, yt, Xv, yv = X[:450], y[:450], X[450:], y[450:]
    classes = np.unique(y)
    m = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, tol=1.0, n_iter_no_change=2,
                      learning_rate_init=0.01, random_state=0)
    m.partial_fit(Xt, yt, classes=classes, validation_data=(Xv, yv))
    for _ in range(3):  # tol=1.0 can never be met: the 3rd call without improvement stops the training
        m.partial_fit(Xt, yt, validation_data=(Xv, yv))
    assert len(m.validation_scores_) == 4
    assert m.score(Xv, yv) == m.best_validation_score_ == max(m.validation_scores_)  # best weights restored
    best = [c.copy() for c in m.coefs_]
    with pytest.warns(ConvergenceWarning, match="partial_fit does nothing"):
        m.partial_fit(Xt, yt, validation_data=(Xv, yv))
    for a, b in zip(m.coefs_, best):
        np.testing.assert_array_equal(a, b)
    # without validation_data each call holds out validation_fraction of its own data (stratified)
    h = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, random_state=0)
    for _ in range(3):
        h.partial_fit(X, y, classes=classes)
    assert len(h.validation_scores_) == len(h.validation_loss_curve_) == 3
    assert h.t_ == 3 * 540  # 10% held out each time
    # sklearn refuses partial_fit with early stopping
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        SKMLPClassifier(early_stopping=True).partial_fit(X, y, classes=classes)
