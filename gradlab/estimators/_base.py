"""``BaseMLP``: the machinery shared by :class:`MLPClassifier` and :class:`MLPRegressor`.

It reproduces ``sklearn.neural_network``'s multi-layer perceptron (same parameters, defaults, fitted attributes,
random-number use, loss, stopping rules and warnings) with the forward and backward passes done by gradlab:
``gradlab.nn`` layers, gradlab's fused losses, autograd, and ``gradlab.optim`` optimizers. The common case (dense
input, 'sgd' or 'adam', a relu/tanh/logistic/identity activation, no dropout/batch_norm/l1) trains through the
autograd-free path of ``_fastpath.py`` instead (flat buffers, in-place dense kernels, the same optimizers), which
gives the same results to rounding; ``_fastpath.ENABLED = False`` forces the nn path.

Where it follows sklearn exactly:

* initial weights: Glorot uniform drawn from ``check_random_state(random_state)`` in sklearn's order, so a given
  ``random_state`` gives sklearn's initial ``coefs_``/``intercepts_``; the same shuffles (``sklearn.utils.shuffle``)
  and the same early-stopping split (``train_test_split``, stratified for single-output classification);
* the loss: the data term plus ``alpha * 0.5 * sum(W**2) / n`` per batch (``n`` = batch size, or the batch's sum of
  sample weights), no penalty on the intercepts; ``loss_`` is the epoch mean of the batch losses;
* solvers: 'sgd' (momentum / Nesterov, 'constant' / 'invscaling' / 'adaptive' learning rate), 'adam' and 'lbfgs'
  (``scipy.optimize.minimize(method='L-BFGS-B')`` with ``maxiter=max_iter``, ``maxfun=max_fun``, ``gtol=tol``,
  the packed parameter vector in sklearn's layout, its gradient from gradlab's autograd);
* ``tol`` / ``n_iter_no_change`` convergence, ``ConvergenceWarning`` messages, ``batch_size='auto'`` =
  ``min(200, n_samples)``, ``warm_start``, ``partial_fit``, input validation and error messages (sklearn's
  ``_parameter_constraints`` / ``validate_data``).

gradlab's ``Adam`` adds its ``eps`` after the bias correction (torch's form) where sklearn adds it before; the
estimator passes ``eps = epsilon / sqrt(1 - beta_2**t)`` at step ``t`` so that the updates are sklearn's. sklearn's
SGD velocity is ``-lr * b`` for torch's momentum buffer ``b``; when the learning rate changes ('invscaling',
'adaptive') the buffers are rescaled so that the updates stay sklearn's. With the same ``random_state`` and data,
'sgd', 'adam' and 'lbfgs' fits reproduce sklearn's weights and loss curves to rounding error.

Deliberate differences (documented on the estimators):

* squared error with several outputs: the objective is ``0.5 * sum over outputs of the mean squared error`` (the
  function whose gradient sklearn's backprop computes); sklearn's ``loss_`` divides the data term by
  ``n_outputs`` although its gradient does not. Single-output losses are identical.
* dtype: the network computes in the dtype of ``X`` after validation, float32 or float64 (as sklearn); float32
  input therefore trains and predicts in float32, everything else in float64.

Extras (defaults keep sklearn's behaviour): more activations, ``dropout``, ``batch_norm``, ``l1``,
``solver='rmsprop'``, ``class_weight`` (classifier), ``validation_data`` in ``fit``/``partial_fit``,
``validation_loss_curve_``, ``partial_fit`` with early stopping, multilabel ``partial_fit`` without ``classes``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight

from . import _network as N
from ._lbfgs import _LbfgsSolverMixin
from ._onnx import OnnxExportMixin
from ._params import EXTRA_ACTIVATIONS, SKLEARN_ACTIVATIONS, STOCHASTIC_SOLVERS, validate_data
from ._stochastic import _batch_rows, _StochasticSolverMixin  # noqa: F401  (_batch_rows: re-exported)
from .serialization import load_estimator, save_estimator

__all__ = ["BaseMLP", "STOCHASTIC_SOLVERS", "SKLEARN_ACTIVATIONS", "EXTRA_ACTIVATIONS", "validate_data", "load", "save"]


class BaseMLP(OnnxExportMixin, _StochasticSolverMixin, _LbfgsSolverMixin, BaseEstimator, ABC):  # type: ignore[misc]
    """Shared base of the gradlab MLP estimators. Do not use directly.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from gradlab.estimators import MLPClassifier, MLPRegressor
    >>> sorted(BaseMLP.registry)
    ['MLPClassifier', 'MLPRegressor']
    >>> X, y = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]), [0, 1, 0, 1]
    >>> clf = MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=200, random_state=0).fit(X, y)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "clf.safetensors")
    >>> clf.save(path)
    >>> bool((MLPClassifier.load(path).predict(X) == clf.predict(X)).all())
    True
    >>> MLPRegressor.load(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    TypeError: ...clf.safetensors holds a MLPClassifier, not a MLPRegressor
    >>> tmp.cleanup()
    """

    #: Every subclass by class name: the classes :func:`load` may rebuild from a file (filled as they are defined).
    registry: dict[str, type] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        BaseMLP.registry[cls.__name__] = cls

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(SKLEARN_ACTIVATIONS) | set(EXTRA_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam", "rmsprop"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        # gradlab extras
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "l1": [Interval(Real, 0, None, closed="left")],
    }

    # fitted attributes (declared for type checkers; set by fit)
    loss_curve_: list
    validation_scores_: Any
    validation_loss_curve_: list
    best_validation_score_: Any
    best_loss_: Any
    coefs_: list
    intercepts_: list
    _learning_rate: float
    _adam_steps: int

    @abstractmethod
    def __init__(self) -> None:  # pragma: no cover - the subclasses spell out their parameters
        ...

    # ------------------------------------------------------------------------------------------ subclass hooks
    @abstractmethod
    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, np.ndarray]:
        """Validated ``X`` and ``y`` as a 2-D array (classifier: the label-binarized indicator matrix)."""

    @abstractmethod
    def _out_activation(self) -> str:
        """The output activation for the current targets."""

    @abstractmethod
    def _encode_targets(self, Y: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """The loss's targets from the 2-D ``Y`` of :meth:`_validate_input`."""

    @abstractmethod
    def _decode_validation_targets(self, Y: np.ndarray) -> np.ndarray:
        """The targets in the form :meth:`_score` expects (original labels for the classifier)."""

    @abstractmethod
    def _score_function(self, y: Any, y_pred: Any, sample_weight: Any) -> float:
        """accuracy (classifier) or R^2 (regressor)."""

    @abstractmethod
    def _predict_from_output(self, out: np.ndarray) -> np.ndarray:
        """Predictions from the network output after the output activation."""

    def _sample_weight_for_fit(self, Y: np.ndarray, sample_weight: np.ndarray | None, incremental: bool) -> Any:
        """Per-sample weights to train with (the classifier folds ``class_weight`` in)."""
        return sample_weight

    # ------------------------------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        state = super().__getstate__()
        fast = state.pop("_fastnet", None)
        if fast is not None:
            state["_optim_state"] = fast.state_dict()
        net = state.pop("_net", None)
        if net is not None and net.optimizer is not None:
            state["_optim_state"] = net.optimizer.state_dict()
            if net.generator is not None:
                state["_dropout_rng_state"] = net.generator.get_state()
        return state

    # ------------------------------------------------------------------------------------------ the network
    def _hidden_sizes(self) -> list[int]:
        h = self.hidden_layer_sizes
        if not hasattr(h, "__iter__"):
            h = [h]
        h = list(h)
        for v in h:  # sklearn raises TypeError for non-integers (2.5, True, "3") and ValueError for sizes <= 0
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral):
                raise TypeError(
                    f"hidden_layer_sizes must hold integers, got {v!r} ({type(v).__name__}) "
                    f"in {self.hidden_layer_sizes!r}"
                )
        if any(v <= 0 for v in h):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {h}.")
        return [int(v) for v in h]

    def _network(self) -> N.Network:
        """The gradlab network for the fitted arrays: built when missing or stale, bound to the arrays every time."""
        units = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        dtype = self.coefs_[0].dtype
        dropout = float(getattr(self, "dropout", 0.0))
        batch_norm = bool(getattr(self, "batch_norm", False)) and len(units) > 2
        key = (tuple(units), self.activation, dropout, batch_norm, dtype.str)
        net = self.__dict__.get("_net")
        if net is None or net.key != key:
            seed = None
            if dropout > 0:
                seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            net = N.Network(key, units, self.activation, dropout, batch_norm, dtype, seed)
            rng_state = self.__dict__.pop("_dropout_rng_state", None)
            if rng_state is not None and net.generator is not None:
                net.generator.set_state(rng_state)
            self._net = net
        net.bind(self.coefs_, self.intercepts_, getattr(self, "batch_norm_params_", None))
        return net

    def _forward_pass_fast(self, X: Any, check_input: bool = True) -> np.ndarray:
        """The network's output after the output activation (sklearn's private name)."""
        if check_input:
            X = self._validate_predict_input(X)
        z = self._network().forward_numpy(X)
        return N.apply_out_activation(self.out_activation_, z)

    def _validate_predict_input(self, X: Any) -> Any:
        return validate_data(self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False)

    # ------------------------------------------------------------------------------------------ initialisation
    def _initialize(self, Y: np.ndarray, layer_units: list[int], dtype: np.dtype) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._out_activation()
        factor = N.glorot_factor(self.activation)
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
            intercept = self._random_state.uniform(-bound, bound, fan_out)
            # Fortran order: coefs_[i].T is the C-contiguous (out, in) weight of the gradlab Linear layer.
            self.coefs_.append(np.asfortranarray(coef, dtype=dtype))
            self.intercepts_.append(intercept.astype(dtype, copy=False))
        if self.batch_norm and len(layer_units) > 2:
            self.batch_norm_params_ = [
                {"weight": np.ones(u, dtype=dtype), "bias": np.zeros(u, dtype=dtype),
                 "running_mean": np.zeros(u, dtype=dtype), "running_var": np.ones(u, dtype=dtype)}
                for u in layer_units[1:-1]
            ]
        elif hasattr(self, "batch_norm_params_"):
            del self.batch_norm_params_
        self.__dict__.pop("_net", None)
        self.__dict__.pop("_fastnet", None)
        self.__dict__.pop("_optim_state", None)
        self.__dict__.pop("_dropout_rng_state", None)
        self._best_coefs = [c.copy(order="K") for c in self.coefs_]
        self._best_intercepts = [b.copy() for b in self.intercepts_]
        self._best_bn = self._copy_bn()
        self._stopped = False
        if self.solver in STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None
        for name in ("validation_loss_curve_",):
            if hasattr(self, name):
                delattr(self, name)

    def _copy_bn(self) -> list[dict] | None:
        bn = getattr(self, "batch_norm_params_", None)
        return None if bn is None else [{k: v.copy() for k, v in d.items()} for d in bn]

    def _prepare_arrays(self, dtype: np.dtype) -> None:
        """Bring the fitted arrays to ``dtype`` and to the layout the network binds without copies."""
        self.coefs_ = [np.asfortranarray(c, dtype=dtype) for c in self.coefs_]
        self.intercepts_ = [np.ascontiguousarray(b, dtype=dtype) for b in self.intercepts_]
        bn = getattr(self, "batch_norm_params_", None)
        if bn is not None:
            self.batch_norm_params_ = [{k: np.ascontiguousarray(v, dtype=dtype) for k, v in d.items()} for d in bn]

    # ------------------------------------------------------------------------------------------ fitting
    def _check_extras(self) -> None:
        if self.solver == "lbfgs" and self.dropout > 0:
            raise ValueError(
                "dropout > 0 needs a stochastic solver ('sgd', 'adam' or 'rmsprop'); got solver='lbfgs', whose "
                "line search needs a deterministic loss."
            )

    def _fit(self, X: Any, y: Any, sample_weight: Any = None, incremental: bool = False,
             validation_data: Any = None) -> BaseMLP:
        hidden = self._hidden_sizes()
        self._check_extras()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        n_samples, n_features = X.shape
        if self.batch_norm and n_samples < 2:
            raise ValueError(
                f"batch_norm=True needs at least 2 samples to compute batch statistics, got n_samples={n_samples}."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if Y.ndim == 1:
            Y = Y.reshape((-1, 1))
        layer_units = [n_features] + hidden + [Y.shape[1]]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self.n_outputs_ = Y.shape[1]
            self._initialize(Y, layer_units, X.dtype)
        else:
            existing = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
            if existing != layer_units:
                raise ValueError(
                    f"The network has layer sizes {existing} but this data and hidden_layer_sizes={hidden} need "
                    f"{layer_units}; fit a new model (warm_start=False) to change the architecture."
                )
            self.n_outputs_ = Y.shape[1]
        dtype = self.coefs_[0].dtype
        self._prepare_arrays(dtype)
        sample_weight = self._sample_weight_for_fit(Y, sample_weight, incremental)

        if self.solver in STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, Y, sample_weight, incremental, validation_data)
        else:
            self._fit_lbfgs(X, Y, sample_weight, validation_data)

        arrays = list(self.coefs_) + list(self.intercepts_)
        if not all(np.isfinite(w).all() for w in arrays):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    # ------------------------------------------------------------------------------------------ public API
    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Score without input validation (used for early stopping; keeps feature names out of the way)."""
        out = self._forward_pass_fast(X, check_input=False)
        if np.issubdtype(out.dtype, np.floating) and not np.isfinite(out).all():
            return np.nan
        return self._score_function(y, self._predict_from_output(out), sample_weight)

    def save(self, path: Any) -> None:
        """Save the fitted estimator to ``path``: one safetensors file (atomic write, no pickle) holding the
        arrays, with the parameters and the other fitted attributes as JSON in its header.
        Load it back with ``type(self).load(path)`` or :func:`gradlab.estimators.load`."""
        save_estimator(self, path)

    @classmethod
    def load(cls, path: Any) -> Any:
        """Load an estimator saved by :meth:`save` (it must be an instance of ``cls``)."""
        est = load_estimator(path, BaseMLP.registry)
        if not isinstance(est, cls):
            raise TypeError(f"{path} holds a {type(est).__name__}, not a {cls.__name__}")
        return est

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def load(path: Any) -> Any:
    """Load any gradlab estimator saved by :meth:`BaseMLP.save` (or :func:`save`), whatever its class.

    A damaged or foreign file raises ``ValueError`` naming it.

    >>> import os, tempfile, warnings, numpy as np
    >>> from gradlab.estimators import MLPClassifier
    >>> warnings.simplefilter("ignore")  # two epochs do not converge
    >>> clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(np.eye(4), [0, 1, 0, 1])
    >>> path = os.path.join(tempfile.mkdtemp(), "clf.safetensors"); save(clf, path)
    >>> type(load(path)).__name__, sorted(BaseMLP.registry)
    ('MLPClassifier', ['MLPClassifier', 'MLPRegressor'])
    """
    return load_estimator(path, BaseMLP.registry)


def save(estimator: Any, path: Any) -> None:
    """Save a fitted gradlab estimator to ``path`` (one safetensors file, atomic, no pickle); see :func:`load`.

    >>> from gradlab.estimators import MLPRegressor
    >>> save(MLPRegressor(), "never-written.safetensors")
    Traceback (most recent call last):
    ...
    sklearn.exceptions.NotFittedError: This MLPRegressor instance is not fitted yet...
    """
    save_estimator(estimator, path)
