"""``BaseMLP``: the machinery shared by :class:`MLPClassifier` and :class:`MLPRegressor`.

It reproduces ``sklearn.neural_network``'s multi-layer perceptron (same parameters, defaults, fitted attributes,
random-number use, loss, stopping rules and warnings) with the forward and backward passes done by gradlab:
``gradlab.nn`` layers, gradlab's fused losses, autograd, and ``gradlab.optim`` optimizers.

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

import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils import shuffle as sk_shuffle
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight

try:  # sklearn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older sklearn

    def validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)

import gradlab

from . import _network as N

try:  # sklearn >= 1.3 wraps scipy's changing 'iprint'/'disp' options
    from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
except ImportError:  # pragma: no cover - older sklearn
    def _get_additional_lbfgs_options_dict(key: str, value: Any) -> dict:
        return {key: value}

__all__ = ["BaseMLP", "STOCHASTIC_SOLVERS", "SKLEARN_ACTIVATIONS", "EXTRA_ACTIVATIONS", "validate_data"]

STOCHASTIC_SOLVERS = ("sgd", "adam", "rmsprop")
SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
EXTRA_ACTIVATIONS = ("leaky_relu", "elu", "gelu", "softplus", "swish")


def _batch_rows(X: Any, idx: Any, out: np.ndarray | None, dtype: np.dtype) -> np.ndarray:
    """Rows ``idx`` (an index array or a slice) of ``X`` as a dense array of ``dtype``.

    Dense index arrays are gathered into the reusable buffer ``out`` when it has the right shape (no allocation);
    sparse matrices are densified one batch at a time.
    """
    if sp.issparse(X):
        return np.asarray(X[idx].toarray(), dtype=dtype)
    if isinstance(idx, slice):
        rows = X[idx]
        return rows if rows.dtype == dtype else rows.astype(dtype)
    if out is not None and out.shape[0] == len(idx) and X.dtype == dtype:
        np.take(X, idx, axis=0, out=out, mode="clip")  # mode="clip": no buffered copy (idx is valid)
        return out
    return np.asarray(X[idx], dtype=dtype)


class BaseMLP(BaseEstimator, ABC):
    """Shared base of the gradlab MLP estimators. Do not use directly."""

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
        if np.any(np.array(h) <= 0):
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

    # -- loss -----------------------------------------------------------------------------------------------
    def _penalty_value(self, denom: float) -> float:
        """``alpha * 0.5 * sum(W**2) / denom`` (the L2 term sklearn adds to each batch loss), from the arrays."""
        if self.alpha == 0:
            return 0.0
        sq = 0.0
        for c in self.coefs_:
            w = c.T.reshape(-1)  # C-contiguous view of the Fortran-ordered coefs_: no copy
            sq += float(np.dot(w, w))
        return 0.5 * self.alpha * sq / denom

    def _l1_term(self, net: N.Network, denom: float) -> Any:
        """``l1 * sum(|W|) / denom`` as a graph-building Tensor (its gradient comes from autograd)."""
        total: Any = None
        for w in net.weights():
            s = w.abs().sum()
            total = s if total is None else total + s
        return total * (float(self.l1) / denom)

    def _batch_loss(self, net: N.Network, xb: np.ndarray, tb: np.ndarray, wb: np.ndarray | None,
                    denom: float) -> Any:
        z = net.model(gradlab.from_numpy(xb))
        w = None if wb is None else gradlab.from_numpy(wb)
        loss = N.data_loss(self.out_activation_, z, gradlab.from_numpy(tb), w, denom)
        if self.l1 > 0:
            loss = loss + self._l1_term(net, denom)
        return loss

    # -- stochastic solvers ---------------------------------------------------------------------------------
    def _set_learning_rate(self, net: N.Network, lr: float) -> None:
        """Change the learning rate, keeping sklearn's SGD semantics: sklearn's velocity ``v`` holds
        ``-lr * b`` where ``b`` is torch's momentum buffer, so the buffers are rescaled by ``old / new``."""
        old = self._learning_rate
        self._learning_rate = lr
        opt = net.optimizer
        if opt is None:
            return
        if self.solver == "sgd" and lr > 0 and old != lr:
            for p in net.weights() + net.others():
                buf = opt.state.get(p, {}).get("momentum_buffer")
                if buf is not None:
                    buf *= old / lr
        for g in opt.param_groups:
            g["lr"] = lr

    def _make_optimizer(self, net: N.Network) -> None:
        net.optimizer = N.make_optimizer(self.solver, net, self)
        self._learning_rate = float(self.learning_rate_init)
        self._adam_steps = 0

    def _restore_optimizer(self, net: N.Network) -> None:
        """For partial_fit after unpickling: rebuild the optimizer and load its saved state."""
        state = self.__dict__.pop("_optim_state", None)
        lr: float = float(getattr(self, "_learning_rate", self.learning_rate_init) or 0.0)
        self._make_optimizer(net)
        if state is not None:
            try:
                net.optimizer.load_state_dict(state)
            except (ValueError, KeyError, TypeError, IndexError):  # incompatible (another solver): start afresh
                self._make_optimizer(net)
        self._learning_rate = lr
        for g in net.optimizer.param_groups:
            g["lr"] = lr
        steps = [st.get("step", 0) for st in net.optimizer.state.values()]
        self._adam_steps = int(max(steps)) if steps else 0

    def _trigger_stopping(self, net: N.Network, msg: str) -> bool:
        """sklearn's ``trigger_stopping``: stop, except for 'sgd' with 'adaptive' learning rate (divide it by 5)."""
        if self.solver != "sgd" or self.learning_rate != "adaptive":
            if self.verbose:
                print(msg + " Stopping.")
            return True
        if self._learning_rate <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self._set_learning_rate(net, self._learning_rate / 5.0)
        if self.verbose:
            print(msg + f" Setting learning rate to {self._learning_rate:f}")
        return False

    def _split_validation(self, X: Any, Y: np.ndarray, sample_weight: Any) -> tuple:
        """sklearn's early-stopping split (same call, so the same random draws)."""
        should_stratify = is_classifier(self) and self.n_outputs_ == 1
        stratify = Y if should_stratify else None
        if sample_weight is None:
            X_train, X_val, Y_train, Y_val = train_test_split(
                X, Y, random_state=self._random_state, test_size=self.validation_fraction, stratify=stratify
            )
            sw_train = sw_val = None
        else:
            X_train, X_val, Y_train, Y_val, sw_train, sw_val = train_test_split(
                X, Y, sample_weight, random_state=self._random_state, test_size=self.validation_fraction,
                stratify=stratify,
            )
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
            )
        return X_train, X_val, Y_train, Y_val, sw_train, sw_val

    def _validation_set(self, validation_data: Any, incremental: bool) -> tuple:
        """(X_val, Y_val 2-D as _validate_input gives, sample_weight_val) from ``validation_data``."""
        if len(validation_data) == 2:
            Xv, yv = validation_data
            swv = None
        elif len(validation_data) == 3:
            Xv, yv, swv = validation_data
        else:
            raise ValueError("validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight_val)")
        Xv, Yv = self._validate_validation_input(Xv, yv)
        if Yv.ndim == 1:
            Yv = Yv.reshape(-1, 1)
        if swv is not None:
            swv = _check_sample_weight(swv, Xv)
        return Xv, Yv, swv

    def _validate_validation_input(self, X: Any, y: Any) -> tuple:
        X = self._validate_predict_input(X)
        return X, self._transform_targets(y)

    def _fit_stochastic(self, X: Any, Y: np.ndarray, sample_weight: Any, incremental: bool,
                        validation_data: Any) -> None:
        net = self._network()
        dtype = net.dtype
        if not incremental:
            self._make_optimizer(net)
        elif net.optimizer is None:
            self._restore_optimizer(net)

        early_stopping = bool(self.early_stopping)
        if incremental and self._stopped:
            warnings.warn(
                "Early stopping already stopped the training of this model (validation score did not improve for "
                f"{self.n_iter_no_change} consecutive calls); partial_fit does nothing. Call fit, or set "
                "early_stopping=False, to train further.",
                ConvergenceWarning,
            )
            return
        if validation_data is not None:
            X_train, Y_train, sw_train = X, Y, sample_weight
            X_val, Y_val, sw_val = self._validation_set(validation_data, incremental)
        elif early_stopping:
            X_train, X_val, Y_train, Y_val, sw_train, sw_val = self._split_validation(X, Y, sample_weight)
        else:
            X_train, Y_train, sw_train = X, Y, sample_weight
            X_val = Y_val = sw_val = None
        track_val = X_val is not None
        if track_val:
            T_val = self._encode_targets(Y_val, dtype)
            y_val = self._decode_validation_targets(Y_val)
            if self.validation_scores_ is None:
                self.validation_scores_ = []
            if not hasattr(self, "validation_loss_curve_"):
                self.validation_loss_curve_ = []
            if self.best_validation_score_ is None:
                self.best_validation_score_ = -np.inf

        T_train = self._encode_targets(Y_train, dtype)
        if sw_train is not None:
            sw_train = np.asarray(sw_train, dtype=dtype)
        n_samples = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        if net.norms and batch_size < 2:
            raise ValueError(f"batch_norm=True needs batch_size >= 2 (batch statistics), got batch_size={batch_size}.")
        bounds = [(s, min(s + batch_size, n_samples)) for s in range(0, n_samples, batch_size)]
        if net.norms and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
            # batch norm cannot train on a batch of one sample: fold it into the previous batch
            bounds[-2:] = [(bounds[-2][0], n_samples)]
        opt = net.optimizer
        groups = opt.param_groups
        decay_group = groups[0]
        adam = self.solver == "adam"
        epsilon, beta_2 = float(self.epsilon), float(self.beta_2)
        alpha = float(self.alpha)
        out_act = self.out_activation_
        poisson = out_act == "exp"
        dense = not sp.issparse(X_train)
        if dense and not X_train.flags.c_contiguous:
            X_train = np.ascontiguousarray(X_train)
        elif not dense and X_train.format != "csr":
            X_train = X_train.tocsr()  # row batches: CSR slices rows without scanning every column
        buf = np.empty((batch_size, X_train.shape[1]), dtype=dtype) if dense and self.shuffle else None
        sample_idx = np.arange(n_samples, dtype=int)
        model = net.model
        weights = net.weights()
        others = net.others()

        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    sample_idx = sk_shuffle(sample_idx, random_state=self._random_state)
                model.train()
                accumulated = 0.0
                for start, stop in bounds:
                    idx = sample_idx[start:stop] if self.shuffle else slice(start, stop)
                    xb = _batch_rows(X_train, idx, buf, dtype)
                    tb = T_train[idx]
                    wb = None if sw_train is None else sw_train[idx]
                    denom = float(stop - start) if wb is None else float(wb.sum())
                    decay_group["weight_decay"] = alpha / denom if denom > 0 else 0.0
                    loss = self._batch_loss(net, xb, tb, wb, denom)
                    value = loss.item() + self._penalty_value(denom)
                    if poisson:
                        value += N.poisson_constant(tb, wb, denom)
                    for p in weights:
                        p.grad = None
                    for p in others:
                        p.grad = None
                    loss.backward()
                    if adam:
                        # sklearn adds epsilon to sqrt(v) before the bias correction, torch's Adam (gradlab's)
                        # adds it after: eps / sqrt(1 - beta_2**t) makes the two updates identical.
                        self._adam_steps += 1
                        eps_t = epsilon / np.sqrt(1.0 - beta_2 ** self._adam_steps)
                        for g in groups:
                            g["eps"] = eps_t
                    opt.step()
                    accumulated += value * (stop - start)

                self.n_iter_ += 1
                self.loss_ = accumulated / n_samples
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")

                if track_val:
                    score, vloss = self._validation_metrics(net, X_val, y_val, T_val, sw_val)
                    self.validation_loss_curve_.append(vloss)
                else:
                    score = None
                self._update_no_improvement_count(early_stopping, score)

                if self.solver == "sgd" and self.learning_rate == "invscaling":
                    self._set_learning_rate(net, float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t)

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            f"tol={self.tol:f} for {self.n_iter_no_change} consecutive epochs."
                        )
                    else:
                        msg = (
                            f"Training loss did not improve more than tol={self.tol:f}"
                            f" for {self.n_iter_no_change} consecutive epochs."
                        )
                    if self._trigger_stopping(net, msg):
                        if incremental and early_stopping:
                            self._stopped = True
                        break
                    self._no_improvement_count = 0

                if incremental:
                    break

                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")

        if early_stopping and (not incremental or self._stopped):
            # restore the best weights (copies, so the saved best stays intact for later partial_fit calls)
            self.coefs_ = [c.copy(order="F") for c in self._best_coefs]
            self.intercepts_ = [b.copy() for b in self._best_intercepts]
            if self._best_bn is not None:
                self.batch_norm_params_ = [{k: v.copy() for k, v in d.items()} for d in self._best_bn]
            self._network()  # re-bind the optimizer's parameters to the restored arrays

    def _validation_metrics(self, net: N.Network, X_val: Any, y_val: Any, T_val: np.ndarray,
                            sw_val: Any) -> tuple[float, float]:
        """(score, data loss) on the validation set, from one forward pass in eval mode."""
        z = net.forward_numpy(X_val)
        out = N.apply_out_activation(self.out_activation_, z)
        if np.issubdtype(out.dtype, np.floating) and not np.isfinite(out).all():
            score = np.nan
        else:
            score = self._score_function(y_val, self._predict_from_output(out), sw_val)
        with gradlab.no_grad():
            w = None if sw_val is None else np.asarray(sw_val, dtype=net.dtype)
            denom = float(len(T_val)) if w is None else float(w.sum())
            vloss = N.data_loss(
                self.out_activation_, gradlab.from_numpy(z), gradlab.from_numpy(T_val),
                None if w is None else gradlab.from_numpy(w), denom,
            ).item()
            if self.out_activation_ == "exp":
                vloss += N.poisson_constant(T_val, w, denom)
        net.model.train()
        return score, float(vloss)

    def _update_no_improvement_count(self, early_stopping: bool, score: Any) -> None:
        if score is not None:
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {self.validation_scores_[-1]:f}")
        if early_stopping:
            last_valid_score = self.validation_scores_[-1]
            if last_valid_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last_valid_score > self.best_validation_score_:
                self.best_validation_score_ = last_valid_score
                self._best_coefs = [c.copy(order="K") for c in self.coefs_]
                self._best_intercepts = [b.copy() for b in self.intercepts_]
                self._best_bn = self._copy_bn()
        else:
            if score is not None and score > self.best_validation_score_:
                self.best_validation_score_ = score
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    # -- lbfgs ----------------------------------------------------------------------------------------------
    def _fit_lbfgs(self, X: Any, Y: np.ndarray, sample_weight: Any, validation_data: Any) -> None:
        net = self._network()
        dtype = net.dtype
        T = self._encode_targets(Y, dtype)
        Xd = X.toarray() if sp.issparse(X) else X
        Xd = np.ascontiguousarray(Xd, dtype=dtype)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=dtype)
        denom = float(Xd.shape[0]) if sw is None else float(sw.sum())
        x_t = gradlab.from_numpy(Xd)
        t_t = gradlab.from_numpy(T)
        w_t = None if sw is None else gradlab.from_numpy(sw)
        weights, others = net.weights(), net.others()
        params = weights + others
        # sklearn's packed layout: every coefs_[i] (n_in, n_out) raveled in C order, then the intercepts;
        # the batch-norm parameters (an extra) follow.
        shapes = [c.shape for c in self.coefs_]
        sizes = [int(np.prod(s)) for s in shapes] + [int(p.data.size) for p in others]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        n_coef = len(shapes)
        poisson_c = N.poisson_constant(T, sw, denom) if self.out_activation_ == "exp" else 0.0
        alpha = float(self.alpha)
        model = net.model

        def unpack(theta: np.ndarray) -> None:
            for i, p in enumerate(params):
                chunk = theta[offsets[i]:offsets[i + 1]]
                if i < n_coef:
                    self.coefs_[i][...] = chunk.reshape(shapes[i])
                else:
                    p.data[...] = chunk

        def pack_grad() -> np.ndarray:
            out = np.empty(offsets[-1], dtype=np.float64)
            for i, p in enumerate(params):
                g = p.grad.data if p.grad is not None else np.zeros_like(p.data)
                out[offsets[i]:offsets[i + 1]] = (g.T if i < n_coef else g).ravel()
            return out

        def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            unpack(theta)
            model.train()
            loss = N.data_loss(self.out_activation_, model(x_t), t_t, w_t, denom)
            if alpha > 0:
                sq: Any = None
                for w in weights:
                    s = (w * w).sum()
                    sq = s if sq is None else sq + s
                loss = loss + sq * (0.5 * alpha / denom)
            if self.l1 > 0:
                loss = loss + self._l1_term(net, denom)
            for p in params:
                p.grad = None
            loss.backward()
            return float(loss.item()) + poisson_c, pack_grad()

        theta0 = np.concatenate(
            [c.ravel() for c in self.coefs_] + [p.data.ravel() for p in others]
        ).astype(np.float64)
        iprint = 1 if (self.verbose is True or self.verbose >= 1) else -1
        opt_res = scipy.optimize.minimize(
            loss_grad,
            theta0,
            method="L-BFGS-B",
            jac=True,
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
                **_get_additional_lbfgs_options_dict("iprint", iprint),
            },
        )
        self.n_iter_ = _check_optimize_result("lbfgs", opt_res, self.max_iter)
        self.loss_ = opt_res.fun
        unpack(opt_res.x)
        if net.norms:  # running statistics = the full-data statistics of the final weights
            saved = [bn.momentum for bn in net.norms]
            for bn in net.norms:
                bn.momentum = 1.0
            with gradlab.no_grad():
                model.train()
                model(x_t)
            for bn, m in zip(net.norms, saved):
                bn.momentum = m
        if validation_data is not None:
            X_val, Y_val, sw_val = self._validation_set(validation_data, False)
            score, vloss = self._validation_metrics(
                net, X_val, self._decode_validation_targets(Y_val), self._encode_targets(Y_val, dtype), sw_val
            )
            self.validation_scores_ = [score]
            self.best_validation_score_ = score
            self.validation_loss_curve_ = [vloss]

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
        from .serialization import save_estimator

        save_estimator(self, path)

    @classmethod
    def load(cls, path: Any) -> Any:
        """Load an estimator saved by :meth:`save` (it must be an instance of ``cls``)."""
        from .serialization import load_estimator

        est = load_estimator(path)
        if not isinstance(est, cls):
            raise TypeError(f"{path} holds a {type(est).__name__}, not a {cls.__name__}")
        return est

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
