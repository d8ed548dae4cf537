"""Small data sets shared by the estimator tests."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning


@pytest.fixture(scope="session", autouse=True)
def _single_blas_thread():
    """These tests train tiny networks: BLAS threads buy nothing there, and on a shared, loaded machine waking
    them up costs milliseconds per call (an lbfgs fit went from 0.04 s to 2 s). One thread keeps the suite fast
    and its timing stable; results are the same."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(autouse=True)
def _no_convergence_noise():
    """Most tests train for a few epochs on purpose; the ConvergenceWarning they cause is asserted where it
    matters (test_convergence_warning) and silenced elsewhere."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


@pytest.fixture(scope="session")
def binary():
    X, y = make_classification(n_samples=200, n_features=8, n_informative=5, random_state=0)
    return X, y


@pytest.fixture(scope="session")
def regression():
    X, y = make_regression(n_samples=200, n_features=6, n_informative=4, noise=0.5, random_state=0)
    return X, (y - y.mean()) / y.std()


@pytest.fixture(scope="session")
def multioutput():
    X, Y = make_regression(n_samples=200, n_features=6, n_targets=3, noise=0.5, random_state=1)
    return X, (Y - Y.mean(0)) / Y.std(0)


@pytest.fixture(scope="session")
def multilabel():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] * X[:, 4] > 0], axis=1).astype(int)
    return X, Y
