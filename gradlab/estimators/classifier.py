"""``MLPClassifier``: scikit-learn's multi-layer perceptron classifier, trained by gradlab."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted

from ._base import STOCHASTIC_SOLVERS, BaseMLP, validate_data

__all__ = ["MLPClassifier"]

_PARAMS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu', 'gelu', 'softplus', 'swish'}, \
default='relu'
        Hidden-layer activation. The last five are gradlab extras (leaky ReLU with slope 0.01, ELU with alpha 1,
        exact GELU, softplus, swish = x * sigmoid(x)).
    solver : {'lbfgs', 'sgd', 'adam', 'rmsprop'}, default='adam'
        Weight optimisation: L-BFGS-B through scipy (full batch), stochastic gradient descent with
        (Nesterov) momentum, Adam, or RMSprop (extra: squared-gradient decay ``beta_2``, ``epsilon``).
    alpha : float, default=1e-4
        Strength of the L2 penalty ``alpha * 0.5 * ||W||^2 / n_samples_in_batch`` (weights only, no intercepts).
    batch_size : int or 'auto', default='auto'
        Minibatch size of the stochastic solvers; 'auto' is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule for 'sgd': constant; ``learning_rate_init / pow(t, power_t)`` with ``t`` the samples seen;
        divided by 5 whenever ``n_iter_no_change`` epochs fail to improve by ``tol``.
    learning_rate_init : float, default=1e-3
        Initial learning rate of the stochastic solvers.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default=True
        Shuffle the samples every epoch (stochastic solvers).
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffles, the early-stopping split and the dropout masks.
    tol : float, default=1e-4
        Improvement tolerance for the ``n_iter_no_change`` rule, and lbfgs's ``gtol``.
    verbose : bool, default=False
        Print progress.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    momentum : float, default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for 'sgd'.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for single-output classification) and stop
        when its score does not improve by ``tol`` for ``n_iter_no_change`` epochs; the best weights are kept.
        Also supported by ``partial_fit`` (extra; see there).
    validation_fraction : float, default=0.1
        Fraction held out for early stopping.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decays and denominator constant.
    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement allowed before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of lbfgs.
    dropout : float, default=0.0
        (extra) Dropout probability after every hidden activation (training only; not with lbfgs).
    batch_norm : bool, default=False
        (extra) A ``BatchNorm1d`` after every hidden linear layer, before the activation. Its parameters and
        running statistics are in ``batch_norm_params_``.
    l1 : float, default=0.0
        (extra) Strength of an L1 penalty ``l1 * sum(|W|) / n_samples_in_batch`` on the weights.
"""


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = """Multi-layer perceptron classifier with scikit-learn's interface and semantics, trained by gradlab.

    A drop-in replacement for ``sklearn.neural_network.MLPClassifier``: same parameters, defaults, fitted
    attributes and methods (``fit``, ``partial_fit``, ``predict``, ``predict_proba``, ``predict_log_proba``,
    ``score``); the network is a ``gradlab.nn.Sequential``, the gradients come from gradlab's autograd and the
    updates from ``gradlab.optim``. Multiclass uses a softmax output and cross-entropy; binary and multilabel
    a logistic output and binary cross-entropy.

    Parameters
    ----------
    """ + _PARAMS_DOC + """    class_weight : dict, 'balanced' or None, default=None
        (extra) Weights per class, multiplied into the sample weights: a dict ``{label: weight}``, or
        'balanced' (``n_samples / (n_classes * bincount(y))``). Single-output targets only; 'balanced' is not
        available in ``partial_fit``.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
    loss_ : float
        The loss at the end of training (stochastic solvers: the last epoch's mean batch loss).
    best_loss_ : float or None
    loss_curve_ : list of float
        Loss per epoch (stochastic solvers).
    validation_scores_ : list of float or None
        Validation accuracy per epoch (early stopping or ``validation_data``).
    validation_loss_curve_ : list of float
        (extra) Validation data loss (no penalty terms) per epoch, beside ``loss_curve_``, when a validation set
        is used.
    best_validation_score_ : float or None
    t_ : int
        Training samples seen.
    coefs_ : list of ndarray of shape (n_in, n_out)
    intercepts_ : list of ndarray of shape (n_out,)
    batch_norm_params_ : list of dict
        (extra, with ``batch_norm=True``) 'weight', 'bias', 'running_mean', 'running_var' per hidden layer.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    n_iter_ : int
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : str

    Notes
    -----
    Computation runs in the dtype of the validated ``X``: float32 input trains and predicts in float32,
    anything else in float64 (sklearn's lbfgs silently switches float32 models to float64; gradlab keeps
    float32). With the same ``random_state`` the 'sgd', 'adam' and 'lbfgs' solvers reproduce sklearn's
    weights and loss curves to rounding error. Fitted
    estimators pickle, deep-copy and clone, and :meth:`save` / :meth:`load` them without pickle.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from gradlab.estimators import MLPClassifier
    >>> X, y = make_classification(n_samples=100, random_state=1)
    >>> clf = MLPClassifier(hidden_layer_sizes=(5, 2), activation='logistic', solver='lbfgs',
    ...                     random_state=1).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape, clf.n_layers_, clf.out_activation_
    ((1, 2), 4, 'logistic')
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
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
        class_weight: Any = None,
    ) -> None:
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
        self.class_weight = class_weight

    # ------------------------------------------------------------------------------------------ targets
    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, np.ndarray]:
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True, dtype=(np.float64, np.float32), reset=reset
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        # bool keeps float32 data from being upcast
        Y = self._label_binarizer.transform(y).astype(bool)
        return X, Y

    def _transform_targets(self, y: Any) -> np.ndarray:
        y = np.asarray(y) if not hasattr(y, "toarray") else y.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        unknown = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unknown):
            raise ValueError(f"validation_data has classes {unknown} not in `self.classes_` {self.classes_}")
        return self._label_binarizer.transform(y).astype(bool)

    def _out_activation(self) -> str:
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _encode_targets(self, Y: np.ndarray, dtype: np.dtype) -> np.ndarray:
        if self.out_activation_ == "softmax":
            return np.argmax(Y, axis=1).astype(np.int64)
        return Y.astype(dtype)

    def _decode_validation_targets(self, Y: np.ndarray) -> np.ndarray:
        return self._label_binarizer.inverse_transform(Y)

    def _score_function(self, y: Any, y_pred: Any, sample_weight: Any) -> float:
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    def _predict_from_output(self, out: np.ndarray) -> np.ndarray:
        if self.n_outputs_ == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def _sample_weight_for_fit(self, Y: np.ndarray, sample_weight: Any, incremental: bool) -> Any:
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multilabel targets; use sample_weight instead.")
        if isinstance(self.class_weight, str) and incremental:
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit: the class frequencies of the whole data "
                "are unknown. Pass class_weight as a dict computed with "
                "sklearn.utils.class_weight.compute_class_weight on all labels."
            )
        idx = Y[:, 0].astype(np.intp) if Y.shape[1] == 1 else np.argmax(Y, axis=1)
        cw = compute_class_weight(self.class_weight, classes=self.classes_, y=self.classes_[idx])
        w = cw[idx]
        return w if sample_weight is None else sample_weight * w

    # ------------------------------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None, validation_data: Any = None) -> MLPClassifier:
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or a label indicator matrix for multilabel classification.
        sample_weight : array-like of shape (n_samples,), default=None
        validation_data : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), default=None
            (extra) A validation set scored after every epoch (``validation_scores_``,
            ``validation_loss_curve_``); with ``early_stopping=True`` it replaces the held-out split.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False, validation_data=validation_data)

    def _check_solver(self) -> bool:
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is not stochastic."
            )
        return True

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None,
                    validation_data: Any = None) -> MLPClassifier:
        """Update the model with a single epoch over the given data.

        ``classes`` (all the labels) is needed on the first call, except for a multilabel indicator ``y``
        (extra: the labels are then its columns).

        With ``early_stopping=True`` (extra; sklearn refuses it here) each call scores a validation set after its
        update: ``validation_data`` if given, else a held-out ``validation_fraction`` of the call's data. The
        best weights are kept; after ``n_iter_no_change`` calls without a ``tol`` improvement they are restored
        and later calls do nothing (with a ``ConvergenceWarning``) until ``fit`` is called.
        """
        first = not hasattr(self, "classes_")
        if first and classes is None and type_of_target(y).startswith("multilabel"):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        elif _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, validation_data=validation_data)

    # ------------------------------------------------------------------------------------------ predicting
    def predict(self, X: Any) -> np.ndarray:
        """Predict the class labels (a label indicator matrix for multilabel targets)."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        return self._predict_from_output(self._forward_pass_fast(X, check_input=check_input))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``."""
        y_prob = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(y_prob, out=y_prob)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class, columns in the order of ``classes_``."""
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
