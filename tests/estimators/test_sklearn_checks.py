"""scikit-learn's own estimator checks on both estimators, in several configurations.

Every check runs. The only entries of ``expected_failed_checks`` are documented below, each with its reason; they
run in strict mode (``xfail_strict=True``), so a check that starts passing turns the suite red and the entry must go.
Checks that scikit-learn itself skips (``check_array_api_input`` without ``SCIPY_ARRAY_API``; the
``decision_function`` multilabel check, as these estimators have no ``decision_function``, like sklearn's MLPs) are
reported as skipped by scikit-learn, not by this file.
"""
from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from gradlab.estimators import MLPClassifier, MLPRegressor

# Small max_iter keeps the whole suite fast; the resulting ConvergenceWarnings are expected and ignored below.
ESTIMATORS = [
    MLPClassifier(max_iter=20, random_state=0),  # adam
    MLPClassifier(solver="sgd", learning_rate_init=0.01, max_iter=50, random_state=0),
    MLPClassifier(solver="lbfgs", max_iter=20, random_state=0),
    MLPClassifier(
        solver="rmsprop", activation="gelu", dropout=0.1, batch_norm=True, l1=1e-4, max_iter=30, random_state=0
    ),
    MLPClassifier(activation="swish", early_stopping=True, max_iter=30, random_state=0),
    MLPRegressor(max_iter=20, random_state=0),  # adam
    MLPRegressor(solver="sgd", learning_rate_init=0.01, max_iter=50, random_state=0),
    MLPRegressor(solver="lbfgs", max_iter=20, random_state=0),
    MLPRegressor(
        solver="rmsprop", activation="elu", dropout=0.1, batch_norm=True, l1=1e-4, max_iter=30, random_state=0
    ),
    MLPRegressor(activation="tanh", learning_rate="adaptive", solver="sgd", momentum=0.5, nesterovs_momentum=False,
                 learning_rate_init=0.01, max_iter=50, random_state=0),
]

_WEIGHTS_VS_REPEATS = (
    "dropout masks and batch-norm statistics depend on how many rows a batch holds, so a sample weight of 2 is not "
    "the same as a repeated row with dropout/batch_norm (true of any network using them); the sample-weight "
    "handling itself passes this check in the other configurations"
)
_TINY_EARLY_STOPPING = (
    "sklearn's MLPClassifier(early_stopping=True) fails identically: the check's tiny data set (10 rows) leaves a "
    "validation split too small for a stratified split, which is a ValueError by design"
)
_EARLY_STOP_CLASS_WEIGHT = (
    "with class_weight={0: 1000, 1: 1e-4, ...} on unscaled, very noisy blobs, early stopping on the weighted "
    "validation accuracy stops (n_iter_no_change=20) before class 0 is learned; sklearn's MLPClassifier with "
    "early_stopping=True and the same weights as sample_weight fails this check the same way (0.36 < 0.87)"
)
_SPLIT_VS_REPEATS = (
    "the early-stopping split draws rows, so a repeated row can land on both sides of it while a weighted row "
    "cannot: weights and repeats give different training sets (sklearn has the same behaviour, see the TODO in "
    "its _fit_stochastic)"
)


def expected_failed_checks(estimator):
    params = estimator.get_params()
    if params.get("dropout", 0) > 0 or params.get("batch_norm", False):
        return {
            "check_sample_weight_equivalence_on_dense_data": _WEIGHTS_VS_REPEATS,
            "check_sample_weight_equivalence_on_sparse_data": _WEIGHTS_VS_REPEATS,
        }
    if params.get("early_stopping") and isinstance(estimator, MLPClassifier):
        return {
            "check_fit2d_1feature": _TINY_EARLY_STOPPING,
            "check_estimators_nan_inf": _TINY_EARLY_STOPPING,
            "check_classifiers_one_label": _TINY_EARLY_STOPPING,
            "check_class_weight_classifiers": _EARLY_STOP_CLASS_WEIGHT,
            "check_sample_weight_equivalence_on_dense_data": _SPLIT_VS_REPEATS,
            "check_sample_weight_equivalence_on_sparse_data": _SPLIT_VS_REPEATS,
        }
    return {}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter is kept small on purpose
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
