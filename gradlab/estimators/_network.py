"""The gradlab network behind the MLP estimators: modules, losses and optimizers, built from the estimator's arrays.

The estimator's fitted arrays (``coefs_``, ``intercepts_``, ``batch_norm_params_``) are the single source of truth.
:class:`Network` wraps a ``gradlab.nn.Sequential`` whose parameters' ``.data`` are *views* of those arrays
(``Linear.weight._data is coefs_[i].T``), so the optimizers' in-place updates write straight into ``coefs_`` and
nothing has to be copied back. The module itself is never pickled: it is rebuilt (cheaply) from the arrays
whenever it is missing or the hyper-parameters it depends on changed, and re-bound before every use.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.backend import Generator
from gradlab.nn import functional as F

__all__ = ["ACTIVATIONS", "Network", "make_optimizer", "glorot_factor", "OUT_ACTIVATIONS"]

# activation name -> module factory (hidden layers)
ACTIVATIONS: dict[str, Any] = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "softplus": nn.Softplus,
    "swish": nn.SiLU,
}

OUT_ACTIVATIONS = ("identity", "logistic", "softmax", "exp")


def glorot_factor(activation: str) -> float:
    """sklearn's Glorot uniform bound is ``sqrt(factor / (fan_in + fan_out))``, factor 2 for logistic, else 6.

    >>> glorot_factor("logistic"), glorot_factor("relu")
    (2.0, 6.0)
    """
    return 2.0 if activation == "logistic" else 6.0


class _BoundLinear(nn.Linear):
    """``nn.Linear`` that skips its own random initialisation: its arrays are bound to the estimator's."""

    def reset_parameters(self) -> None:  # the weights come from coefs_/intercepts_
        pass


class _SeededDropout(nn.Dropout):
    """``nn.Dropout`` drawing its masks from the estimator's own generator (reproducible with random_state)."""

    def __init__(self, p: float, generator: Generator | None) -> None:
        super().__init__(p)
        self.generator = generator

    def forward(self, input: Any) -> Any:
        return F.dropout(input, self.p, self.training, generator=self.generator)


class Network:
    """A ``Sequential`` (Linear [-> BatchNorm1d] -> activation [-> Dropout]) per hidden layer, then Linear.

    ``key`` identifies what the structure depends on; the estimator rebuilds the network when it changes.

    >>> net = Network(("k",), [2, 3, 1], "relu", dropout=0.0, batch_norm=False, dtype=np.float32, seed=0)
    >>> net.model
    Sequential(
      (0): _BoundLinear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
      (2): _BoundLinear(in_features=3, out_features=1, bias=True)
    )
    >>> coefs = [np.ones((2, 3), np.float32), np.ones((3, 1), np.float32)]  # sklearn's (n_in, n_out) layout
    >>> net.bind(coefs, [np.zeros(3, np.float32), np.zeros(1, np.float32)], None)
    >>> net.forward_numpy(np.array([[1.0, 2.0]]))
    array([[9.]], dtype=float32)
    """

    def __init__(self, key: tuple, layer_units: list[int], activation: str, dropout: float, batch_norm: bool,
                 dtype: np.dtype, seed: int | None) -> None:
        self.key = key
        self.dtype = np.dtype(dtype)
        self.linears: list[_BoundLinear] = []
        self.norms: list[Any] = []
        self.generator = Generator(seed) if dropout > 0 else None
        layers: list[Any] = []
        n = len(layer_units) - 1
        for i in range(n):
            lin = _BoundLinear(layer_units[i], layer_units[i + 1], dtype=self.dtype)
            layers.append(lin)
            self.linears.append(lin)
            if i < n - 1:
                if batch_norm:
                    bn = nn.BatchNorm1d(layer_units[i + 1], dtype=self.dtype)
                    layers.append(bn)
                    self.norms.append(bn)
                layers.append(ACTIVATIONS[activation]())
                if dropout > 0:
                    layers.append(_SeededDropout(dropout, self.generator))
        self.model = nn.Sequential(*layers)
        self.optimizer: Any = None

    # the parameters in a fixed order: weights, then biases, then batch-norm affine parameters
    def weights(self) -> list[Any]:
        return [lin.weight for lin in self.linears]

    def others(self) -> list[Any]:
        out = [lin.bias for lin in self.linears]
        for bn in self.norms:
            out += [bn.weight, bn.bias]
        return out

    def bind(self, coefs: list[np.ndarray], intercepts: list[np.ndarray], bn_params: list[dict] | None) -> None:
        """Point the parameters' ``.data`` at the estimator's arrays (views, no copies)."""
        for lin, c, b in zip(self.linears, coefs, intercepts):
            lin.weight._data = c.T
            lin.bias._data = b
        if self.norms:
            for bn, st in zip(self.norms, bn_params or []):
                bn.weight._data = st["weight"]
                bn.bias._data = st["bias"]
                bn.running_mean._data = st["running_mean"]
                bn.running_var._data = st["running_var"]

    def forward_numpy(self, X: Any, chunk: int = 4096) -> np.ndarray:
        """The raw network output (logits) for ``X`` in eval mode, without a graph; sparse input is densified in
        chunks of ``chunk`` rows."""
        self.model.eval()
        with gradlab.no_grad():
            if hasattr(X, "toarray"):
                if getattr(X, "format", "csr") != "csr":
                    X = X.tocsr()
                outs = [
                    self.model(gradlab.from_numpy(np.asarray(X[s:s + chunk].toarray(), dtype=self.dtype)))._data
                    for s in range(0, X.shape[0], chunk)
                ]
                if not outs:
                    return np.empty((0, self.linears[-1].out_features), dtype=self.dtype)
                return np.concatenate(outs, axis=0)
            x = np.asarray(X, dtype=self.dtype)
            return self.model(gradlab.from_numpy(x))._data


def apply_out_activation(name: str, z: np.ndarray) -> np.ndarray:
    """The output activation (``out_activation_``) applied to raw outputs, through gradlab's functions."""
    if name == "identity":
        return z
    t = gradlab.from_numpy(z)
    if name == "softmax":
        return F.softmax(t, dim=1)._data
    if name == "logistic":
        return F.sigmoid(t)._data
    if name == "exp":
        return t.exp()._data
    raise ValueError(f"unknown output activation {name!r}")


def data_loss(out_activation: str, z: Any, target: Any, weight: Any, denom: float) -> Any:
    """The data term of sklearn's MLP loss, computed from the raw outputs ``z`` (a graph-building Tensor).

    * softmax: cross-entropy with class-index targets (fused log-softmax + NLL);
    * logistic: binary cross-entropy from logits, summed over outputs, averaged over samples;
    * identity: ``0.5 * sum over outputs of the mean squared error`` (the objective whose gradient sklearn uses);
    * exp (Poisson): ``mean over samples of sum over outputs of exp(z) - y z`` (the half deviance up to a
      constant in ``y``, which :func:`poisson_constant` gives).

    ``weight`` (a (n,) Tensor or None) gives a weighted average ``sum(w l) / denom`` with ``denom = sum(w)``;
    without weights ``denom`` is the number of samples.
    """
    inv = 1.0 / denom
    if out_activation == "softmax":
        if weight is None:
            return F.cross_entropy(z, target)
        return (F.cross_entropy(z, target, reduction="none") * weight).sum() * inv
    if out_activation == "logistic":
        w = None if weight is None else weight.reshape(-1, 1)
        return F.binary_cross_entropy_with_logits(z, target, weight=w, reduction="sum") * inv
    if out_activation == "identity":
        if weight is None:
            return F.mse_loss(z, target, reduction="sum") * (0.5 * inv)
        return ((z - target) ** 2 * weight.reshape(-1, 1)).sum() * (0.5 * inv)
    if out_activation == "exp":
        per = z.exp() - target * z
        if weight is not None:
            per = per * weight.reshape(-1, 1)
        return per.sum() * inv
    raise ValueError(f"unknown output activation {out_activation!r}")


def poisson_constant(y: np.ndarray, weight: np.ndarray | None, denom: float) -> float:
    """``mean(xlogy(y, y) - y)`` (weighted), the part of sklearn's Poisson loss that has no gradient."""
    from scipy.special import xlogy

    c = (xlogy(y, y) - y).sum(axis=1)
    if weight is not None:
        c = c * weight
    return float(c.sum() / denom)


def make_optimizer(solver: str, net: Network, est: Any) -> Any:
    """A gradlab optimizer for ``solver`` with two parameter groups: the weights (``weight_decay`` carries the L2
    term ``alpha / batch size``, set per batch) and everything else (biases, batch-norm parameters; no decay).

    >>> from gradlab.estimators import MLPClassifier
    >>> net = Network(("k",), [2, 3, 1], "relu", dropout=0.0, batch_norm=False, dtype=np.float32, seed=0)
    >>> opt = make_optimizer("adam", net, MLPClassifier(learning_rate_init=0.01))
    >>> type(opt).__name__, [len(g["params"]) for g in opt.param_groups], opt.param_groups[0]["lr"]
    ('Adam', [2, 2], 0.01)
    >>> make_optimizer("lbfgs", net, MLPClassifier())
    Traceback (most recent call last):
        ...
    ValueError: 'lbfgs' is not a stochastic solver
    """
    groups = [{"params": net.weights(), "weight_decay": 0.0}, {"params": net.others(), "weight_decay": 0.0}]
    lr = float(est.learning_rate_init)
    if solver == "sgd":
        m = float(est.momentum)
        return optim.SGD(groups, lr=lr, momentum=m, nesterov=bool(est.nesterovs_momentum) and m > 0)
    if solver == "adam":
        return optim.Adam(groups, lr=lr, betas=(float(est.beta_1), float(est.beta_2)), eps=float(est.epsilon))
    if solver == "rmsprop":
        return optim.RMSprop(groups, lr=lr, alpha=float(est.beta_2), eps=float(est.epsilon))
    raise ValueError(f"{solver!r} is not a stochastic solver")
