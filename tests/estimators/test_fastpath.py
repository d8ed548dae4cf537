"""The estimators' autograd-free fast path (gradlab.estimators._fastpath) against the nn + autograd path it replaces:
same weights, loss curves and validation scores to floating-point rounding, on both kernel sets."""
from __future__ import annotations

import io
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from gradlab.estimators import MLPClassifier, MLPRegressor, _fastpath

pytestmark = [pytest.mark.kernel_sets, pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]

RNG = np.random.RandomState(0)
X = RNG.randn(240, 7).astype(np.float32)
Y_CLS = ((X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)).astype(int)  # 3 classes
Y_REG = (2 * X[:, 0] - X[:, 3] + 0.1 * X[:, 4] ** 2).astype(np.float32)
SW = RNG.rand(240)

SOLVERS = {
    "adam": {"solver": "adam"},
    "sgd-nesterov": {"solver": "sgd", "learning_rate_init": 0.05},
    "sgd-momentum": {"solver": "sgd", "nesterovs_momentum": False, "momentum": 0.5, "learning_rate_init": 0.05},
    "sgd-plain": {"solver": "sgd", "momentum": 0.0, "learning_rate_init": 0.05},
}


def _fit(make, enabled, monkeypatch, *calls):
    """Build with ``make()``, run ``calls`` (method name, args, kwargs) with the fast path on or off."""
    monkeypatch.setattr(_fastpath, "ENABLED", enabled)
    est = make()
    for method, args, kwargs in calls:
        getattr(est, method)(*args, **kwargs)
        assert ("_fastnet" in est.__dict__) == enabled, "the fast path was (not) taken"
    return est


def _assert_same(a, b, rtol=2e-5, atol=2e-6):
    assert a.n_iter_ == b.n_iter_
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(ca, cb, rtol=rtol, atol=atol)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-5, atol=1e-7)
    if a.validation_scores_ is not None:
        np.testing.assert_allclose(a.validation_scores_, b.validation_scores_, rtol=1e-5, atol=1e-6)


def _both(make, monkeypatch, *calls):
    ref = _fit(make, False, monkeypatch, *calls)
    got = _fit(make, True, monkeypatch, *calls)
    _assert_same(got, ref)
    return got, ref


@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_classifier_matches_nn_path(activation, solver, monkeypatch):
    def make():
        return MLPClassifier((12, 6), activation=activation, max_iter=6, random_state=0, **SOLVERS[solver])

    got, ref = _both(make, monkeypatch, ("fit", (X, Y_CLS), {}))
    np.testing.assert_array_equal(got.predict(X), ref.predict(X))


@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_regressor_matches_nn_path(activation, solver, monkeypatch):
    def make():
        return MLPRegressor(hidden_layer_sizes=(10,), activation=activation, max_iter=6, random_state=1,
                            **SOLVERS[solver])

    got, ref = _both(make, monkeypatch, ("fit", (X, Y_REG), {}))
    np.testing.assert_allclose(got.predict(X), ref.predict(X), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("target", ["binary", "multilabel", "multioutput", "poisson"])
def test_other_outputs_match_nn_path(target, monkeypatch):
    if target == "binary":
        def make():
            return MLPClassifier((9,), max_iter=5, random_state=0)
        y = Y_CLS > 0
    elif target == "multilabel":
        def make():
            return MLPClassifier((9,), max_iter=5, random_state=0)
        y = np.stack([Y_CLS > 0, X[:, 5] > 0], axis=1).astype(int)
    elif target == "multioutput":
        def make():
            return MLPRegressor(hidden_layer_sizes=(9,), max_iter=5, random_state=0)
        y = np.stack([Y_REG, X[:, 1]], axis=1)
    else:
        def make():
            return MLPRegressor(loss="poisson", hidden_layer_sizes=(9,), max_iter=5, random_state=0)
        y = np.abs(Y_REG)
    _both(make, monkeypatch, ("fit", (X, y), {}))


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov"])
def test_early_stopping_matches(solver, monkeypatch):
    def make():
        return MLPClassifier((16,), early_stopping=True, n_iter_no_change=3, max_iter=40, random_state=0,
                             **SOLVERS[solver])

    got, ref = _both(make, monkeypatch, ("fit", (X, Y_CLS), {}))
    assert got.n_iter_ < 40  # stopped early, and restored the best weights (compared in _both)
    assert got.best_validation_score_ == pytest.approx(ref.best_validation_score_)


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_sgd_learning_rate_schedules_match(schedule, monkeypatch):
    def make():
        return MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate=schedule, learning_rate_init=0.05,
                            n_iter_no_change=2, tol=10.0, max_iter=12, random_state=0)

    got, _ = _both(make, monkeypatch, ("fit", (X, Y_REG), {}))
    if schedule == "adaptive":
        assert got._learning_rate < 0.05  # the schedule really changed the rate (and the momentum buffers)


def test_sample_weight_and_validation_data_match(monkeypatch):
    def make():
        return MLPClassifier((10,), max_iter=5, random_state=0)

    _both(make, monkeypatch, ("fit", (X[:200], Y_CLS[:200]), {"sample_weight": SW[:200],
                                                              "validation_data": (X[200:], Y_CLS[200:])}))
    # a sparse validation set with dense training data: the fast path densifies it in chunks, as the nn path
    _both(make, monkeypatch, ("fit", (X[:200], Y_CLS[:200]), {"validation_data": (sp.csr_matrix(X[200:]),
                                                                                   Y_CLS[200:])}))


def test_l2_penalty_and_float64_match(monkeypatch):
    def make():
        return MLPRegressor(hidden_layer_sizes=(10,), alpha=0.5, max_iter=5, random_state=0)

    got, _ = _both(make, monkeypatch, ("fit", (X.astype(np.float64), Y_REG), {}))
    assert got.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov"])
def test_partial_fit_and_warm_start_match(solver, monkeypatch):
    def make():
        return MLPClassifier((10,), max_iter=3, random_state=0, **SOLVERS[solver])

    calls = [("partial_fit", (X[:120], Y_CLS[:120]), {"classes": [0, 1, 2]}),
             ("partial_fit", (X[120:], Y_CLS[120:]), {}),
             ("partial_fit", (X, Y_CLS), {})]
    _both(make, monkeypatch, *calls)

    def make_warm():
        return MLPClassifier((10,), max_iter=3, warm_start=True, random_state=0, **SOLVERS[solver])

    _both(make_warm, monkeypatch, ("fit", (X, Y_CLS), {}), ("fit", (X, Y_CLS), {}))


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov"])
def test_optimizer_state_survives_pickle_save_and_path_switches(solver, monkeypatch, tmp_path):
    def make():
        return MLPClassifier((10,), max_iter=3, random_state=0, **SOLVERS[solver])

    first = ("partial_fit", (X[:120], Y_CLS[:120]), {"classes": [0, 1, 2]})
    second = ("partial_fit", (X[120:], Y_CLS[120:]), {})
    ref = _fit(make, False, monkeypatch, first, second)

    est = _fit(make, True, monkeypatch, first)
    clone = pickle.loads(pickle.dumps(est))
    assert "_fastnet" not in clone.__dict__ and clone._optim_state["state"]
    clone.partial_fit(*second[1])
    _assert_same(clone, ref)

    path = tmp_path / "m.safetensors"
    est.save(path)
    loaded = MLPClassifier.load(path)
    loaded.partial_fit(*second[1])
    _assert_same(loaded, ref)

    # fast first call, nn second call (and the reverse): the state moves between the two layouts
    monkeypatch.setattr(_fastpath, "ENABLED", False)
    switched = pickle.loads(pickle.dumps(est))
    est.partial_fit(*second[1])
    assert "_fastnet" not in est.__dict__
    _assert_same(est, ref)
    nn_first = _fit(make, False, monkeypatch, first)
    monkeypatch.setattr(_fastpath, "ENABLED", True)
    nn_first.partial_fit(*second[1])
    assert "_fastnet" in nn_first.__dict__
    _assert_same(nn_first, ref)
    del switched


def test_fallbacks_use_the_nn_path(monkeypatch):
    monkeypatch.setattr(_fastpath, "ENABLED", True)
    cases = [
        (MLPClassifier((5,), solver="rmsprop", max_iter=2), X),
        (MLPClassifier((5,), dropout=0.2, max_iter=2), X),
        (MLPClassifier((5,), batch_norm=True, max_iter=2), X),
        (MLPClassifier((5,), l1=1e-3, max_iter=2), X),
        (MLPClassifier((5,), activation="gelu", max_iter=2), X),
        (MLPClassifier((5,), solver="lbfgs", max_iter=2), X),
        (MLPClassifier((5,), max_iter=2), sp.csr_matrix(X)),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for est, data in cases:
            est.fit(data, Y_CLS)
            assert "_fastnet" not in est.__dict__, est


def test_coefs_are_views_of_one_buffer_and_predict_leaves_state(monkeypatch):
    monkeypatch.setattr(_fastpath, "ENABLED", True)
    est = MLPClassifier((8, 4), max_iter=2, random_state=0).fit(X, Y_CLS)
    net = est._fastnet
    for c in est.coefs_ + est.intercepts_:
        assert np.shares_memory(c, net.params)
    assert all(c.flags.c_contiguous for c in est.coefs_)
    before = dict(est.__dict__)
    est.predict(X[:5])
    assert est.__dict__ == before
    buf = io.BytesIO()
    pickle.dump(est, buf)  # the flat buffer's views pickle as plain arrays
    np.testing.assert_array_equal(pickle.loads(buf.getvalue()).predict(X), est.predict(X))
