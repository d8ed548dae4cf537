"""Parameter names and sklearn-version shims shared by the gradlab MLP estimators (split out of ``_base.py``)."""
from __future__ import annotations

from typing import Any

try:  # sklearn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older sklearn

    def validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


STOCHASTIC_SOLVERS = ("sgd", "adam", "rmsprop")
SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
EXTRA_ACTIVATIONS = ("leaky_relu", "elu", "gelu", "softplus", "swish")
