"""``MLPRegressor``: scikit-learn's multi-layer perceptron regressor, trained by gradlab."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import check_array, column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import STOCHASTIC_SOLVERS, BaseMLP, validate_data
from .classifier import _PARAMS_DOC

__all__ = ["MLPRegressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = """Multi-layer perceptron regressor with scikit-learn's interface and semantics, trained by gradlab.

    A drop-in replacement for ``sklearn.neural_network.MLPRegressor`` (identity output with the squared error,
    or exponential output with the Poisson deviance); one or several outputs.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        'squared_error': ``0.5 * sum over outputs of the mean squared error`` (for one output exactly sklearn's
        loss; with several outputs sklearn's reported ``loss_`` divides the data term by ``n_outputs`` although
        its gradient does not, gradlab reports the function it optimises). 'poisson': half the Poisson deviance
        with an exponential output.
    """ + _PARAMS_DOC + """
    Attributes
    ----------
    loss_, best_loss_, loss_curve_, validation_scores_ (R^2), validation_loss_curve_ (extra),
    best_validation_score_, t_, coefs_, intercepts_, batch_norm_params_ (extra), n_features_in_,
    feature_names_in_, n_iter_, n_layers_, n_outputs_, out_activation_ : as :class:`MLPClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from gradlab.estimators import MLPRegressor
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1); y = X.ravel() ** 2
    >>> reg = MLPRegressor(hidden_layer_sizes=(16,), activation='tanh', solver='lbfgs', random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape, reg.out_activation_
    ((3,), 'identity')
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        dropout: float = 0.0,
        batch_norm: bool = False,
        l1: float = 0.0,
    ) -> None:
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.l1 = l1

    # ------------------------------------------------------------------------------------------ targets
    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, np.ndarray]:
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
            dtype=(np.float64, np.float32), reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _transform_targets(self, y: Any) -> np.ndarray:
        y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y_val")
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _out_activation(self) -> str:
        return "exp" if self.loss == "poisson" else "identity"

    def _encode_targets(self, Y: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return np.ascontiguousarray(Y, dtype=dtype)

    def _decode_validation_targets(self, Y: np.ndarray) -> np.ndarray:
        return Y.ravel() if Y.shape[1] == 1 else Y

    def _score_function(self, y: Any, y_pred: Any, sample_weight: Any) -> float:
        return r2_score(y, y_pred, sample_weight=sample_weight)

    def _predict_from_output(self, out: np.ndarray) -> np.ndarray:
        return out.ravel() if out.shape[1] == 1 else out

    # ------------------------------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None, validation_data: Any = None) -> MLPRegressor:
        """Fit the model to data matrix X and target(s) y (see :meth:`MLPClassifier.fit`)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False, validation_data=validation_data)

    def _check_solver(self) -> bool:
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is not stochastic."
            )
        return True

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, validation_data: Any = None) -> MLPRegressor:
        """Update the model with a single epoch over the given data (early stopping as in
        :meth:`MLPClassifier.partial_fit`)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, validation_data=validation_data)

    # ------------------------------------------------------------------------------------------ predicting
    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, shape (n_samples,) for one output, else (n_samples, n_outputs)."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        return self._predict_from_output(self._forward_pass_fast(X, check_input=check_input))
