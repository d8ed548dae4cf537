"""The autograd-free training path of the MLP estimators, for the common case.

For dense input, solver 'sgd' or 'adam', a hidden activation in ``relu``/``tanh``/``logistic``/``identity`` and none
of gradlab's extras (dropout, batch_norm, l1), :class:`FastNet` trains the network by hand instead of through
``gradlab.nn`` and autograd: every parameter lives in one flat buffer (all weights, then all biases) and every
gradient in a second one, each weight a (in, out) C-contiguous view so that ``X @ W`` needs no transposed GEMM;
activations and deltas go into reused buffers (``out=``), and the in-place kernels of
:mod:`gradlab.kernels.dense` do the elementwise work (fused numba loops when the kernel set allows). The optimizer
is gradlab's own ``SGD``/``Adam`` over the flat buffer wrapped as ONE Parameter, with the estimator's
hyper-parameters; the L2 term ``alpha / n`` is added to the weights' gradient only (the nn path gives the biases
their own parameter group without decay).

It draws the same random numbers, sees the same batches and computes the same updates as the nn path, so the two
agree to floating-point rounding; the tests compare them with ``ENABLED = False`` forcing the nn path. While it
trains, ``coefs_``/``intercepts_`` are views of the flat buffer. The optimizer state converts to and from the nn
optimizer's ``state_dict`` (pickling, ``save``, switching paths between ``partial_fit`` calls).

>>> import numpy as np
>>> from gradlab.estimators import MLPClassifier
>>> clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
>>> applies(clf, np.zeros((2, 2))), ENABLED
(True, True)
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

import gradlab
from gradlab import optim
from gradlab.kernels import dense, wants_numba
from gradlab.nn import Parameter

__all__ = ["ENABLED", "NUMBA_EPOCH_SIZE", "FastNet", "applies", "fast_network", "release", "resume_schedule"]

#: set to False to train every estimator through ``gradlab.nn`` and autograd (the reference path)
ENABLED = True
#: under the ``auto`` kernel set, a fit uses the numba kernels when one epoch computes at least this many activations
#: (samples x units over all layers). Measured on MNIST with (100,) (6.6 million a epoch): the kernels save about
#: 0.06 s of CPU an epoch and cost about 0.3 s at their first use in a process (cached), so they pay back in about
#: 5 epochs there and in about 15 at this threshold. An iris or digits fit stays on NumPy.
NUMBA_EPOCH_SIZE = 2_000_000

_SOLVERS = ("sgd", "adam")
_STATE_KEYS = {"sgd": ("momentum_buffer",), "adam": ("exp_avg", "exp_avg_sq")}


def applies(est: Any, X: Any) -> bool:
    """Whether ``est`` trains on ``X`` through the fast path (see the module docstring for the cases).

    >>> from gradlab.estimators import MLPRegressor
    >>> applies(MLPRegressor(solver="lbfgs"), np.zeros((2, 2))), applies(MLPRegressor(dropout=0.1), np.zeros((2, 2)))
    (False, False)
    """
    return (
        ENABLED
        and est.solver in _SOLVERS
        and est.activation in dense.ACTIVATIONS
        and not sp.issparse(X)
        and float(getattr(est, "dropout", 0.0)) == 0.0
        and not getattr(est, "batch_norm", False)
        and float(getattr(est, "l1", 0.0)) == 0.0
    )


class FastNet:
    """Flat parameter and gradient buffers, the optimizer over them, and the batch buffers of one network.

    >>> net = FastNet([3, 4, 2], "relu", np.float32, "sgd", momentum=0.9, nesterov=True, lr=0.1)
    >>> net.params.shape, net.W[0].shape, net.W[0].flags.c_contiguous, len(net.b)
    ((26,), (3, 4), True, 2)
    """

    def __init__(self, units: list[int], activation: str, dtype: Any, solver: str, *, lr: float,
                 momentum: float = 0.0, nesterov: bool = False, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.key = (tuple(units), activation, np.dtype(dtype).str, solver)
        self.units = list(units)
        self.activation = activation
        self.dtype = np.dtype(dtype)
        self.solver = solver
        self.shapes = list(zip(units[:-1], units[1:]))  # each layer's (in, out)
        self.n_weights = sum(i * o for i, o in self.shapes)
        self.params = np.zeros(self.n_weights + sum(units[1:]), dtype=self.dtype)
        self.grads = np.zeros_like(self.params)
        self.W, self.b = self._views(self.params)
        self.gW, self.gb = self._views(self.grads)
        self.param = Parameter(gradlab.from_numpy(self.params))
        self.param.grad = gradlab.from_numpy(self.grads)
        if solver == "sgd":
            self.optimizer: Any = optim.SGD([self.param], lr=lr, momentum=momentum, nesterov=nesterov)
        else:
            self.optimizer = optim.Adam([self.param], lr=lr, betas=betas, eps=eps)
        self._rows = 0
        self.numba = False  # whether the dense kernels run compiled (set per fit, see use_kernels_for)
        # scratch for the L2 term (numpy, not scipy's BLAS axpy: scipy's own OpenBLAS thread pool, spinning beside
        # numpy's, made every GEMM of a fit 8x slower with 2 BLAS threads on 2 cores)
        self._decay: np.ndarray | None = None

    def _views(self, flat: np.ndarray) -> tuple[list, list]:
        W, b, off = [], [], 0
        for i, o in self.shapes:
            W.append(flat[off:off + i * o].reshape(i, o))
            off += i * o
        for _, o in self.shapes:
            b.append(flat[off:off + o])
            off += o
        return W, b

    # the estimator's learning-rate code looks the optimizer state up through these (see _set_learning_rate)
    def weights(self) -> list[Any]:
        return [self.param]

    def others(self) -> list[Any]:
        return []

    # ---------------------------------------------------------------------------------------- arrays
    def adopt(self, est: Any) -> None:
        """Make ``est.coefs_``/``intercepts_`` views of the flat buffer (copying their values in if they are not)."""
        if all(c is w for c, w in zip(est.coefs_, self.W)) and all(c is b for c, b in zip(est.intercepts_, self.b)):
            return
        for w, c in zip(self.W, est.coefs_):
            w[...] = c
        for b, c in zip(self.b, est.intercepts_):
            b[...] = c
        est.coefs_ = list(self.W)
        est.intercepts_ = list(self.b)

    def _buffers(self, rows: int) -> None:
        if rows > self._rows:
            self._acts = [np.empty((rows, u), dtype=self.dtype) for u in self.units[1:]]
            self._deltas = [np.empty((rows, u), dtype=self.dtype) for u in self.units[1:-1]]
            self._rows = rows

    def use_kernels_for(self, n_samples: int) -> None:
        """Decide once for a fit on ``n_samples`` whether the dense kernels run compiled."""
        self.numba = wants_numba(n_samples * sum(self.units[1:]), NUMBA_EPOCH_SIZE)

    # ---------------------------------------------------------------------------------------- training
    def forward_(self, x: np.ndarray) -> list[np.ndarray]:
        """The layers' outputs for the batch ``x`` (views of reused buffers; the last one is the raw output)."""
        rows = x.shape[0]
        self._buffers(rows)
        outs, a, last = [], x, len(self.W) - 1
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            h = self._acts[i][:rows]
            np.matmul(a, w, out=h)
            if i < last:
                dense.bias_act_(h, b, self.activation, self.numba)
            else:
                h += b
            outs.append(h)
            a = h
        return outs

    def batch_gradient(self, x: np.ndarray, t: np.ndarray, w: np.ndarray | None, denom: float, alpha: float,
                       out_activation: str) -> float:
        """Fill the gradient buffer for one batch and return the batch loss (data term plus the L2 term
        ``alpha * 0.5 * sum(W**2) / denom``), as the nn path's ``loss.item() + _penalty_value(denom)``."""
        outs = self.forward_(x)
        scale = 1.0 / denom
        d = outs[-1]
        value = dense.output_grad_(d, t, w, scale, out_activation, self.gb[-1], self.numba)
        for i in range(len(self.W) - 1, -1, -1):
            a_prev = outs[i - 1] if i > 0 else x
            np.matmul(a_prev.T, d, out=self.gW[i])
            if i > 0:
                dp = self._deltas[i - 1][: x.shape[0]]
                np.matmul(d, self.W[i].T, out=dp)
                dense.act_backward_(dp, a_prev, self.activation, self.gb[i - 1], self.numba)
                d = dp
        if alpha != 0 and denom > 0:
            pw = self.params[: self.n_weights]
            value += 0.5 * alpha * float(np.dot(pw, pw)) / denom
            # the nn path's weight_decay, on the weights only: grad += (alpha / denom) * W
            if self._decay is None:  # n_weights is fixed for the net's life
                self._decay = np.empty_like(pw)
            np.multiply(pw, alpha / denom, out=self._decay)
            self.grads[: self.n_weights] += self._decay
        return value

    def forward_numpy(self, X: Any, chunk: int = 4096) -> np.ndarray:
        """The raw network output for ``X`` (dense, or sparse densified ``chunk`` rows at a time), as
        ``Network.forward_numpy``."""
        if sp.issparse(X) and X.format != "csr":
            X = X.tocsr()
        parts = []
        for s in range(0, X.shape[0], chunk):
            xb = X[s:s + chunk]
            xb = np.asarray(xb.toarray() if sp.issparse(xb) else xb, dtype=self.dtype)
            parts.append(self.forward_(np.ascontiguousarray(xb))[-1].copy())
        if not parts:
            return np.empty((0, self.units[-1]), dtype=self.dtype)
        return np.concatenate(parts, axis=0)

    # ---------------------------------------------------------------------------------------- optimizer state
    def state_dict(self) -> dict:
        """The optimizer state in the nn path's layout: two groups (weights, then biases) of per-layer arrays,
        weights (out, in) as ``nn.Linear`` holds them."""
        sd = self.optimizer.state_dict()
        group = {k: v for k, v in sd["param_groups"][0].items() if k != "params"}
        n = len(self.W)
        groups = [dict(group, params=list(range(n))), dict(group, params=list(range(n, 2 * n)))]
        flat = sd["state"].get(0)
        state: dict = {}
        if flat:
            views = {k: self._views(v) for k, v in flat.items() if k in _STATE_KEYS[self.solver]}
            for j in range(2 * n):
                entry = {}
                for k, v in flat.items():
                    if k in views:
                        w, b = views[k]
                        entry[k] = np.ascontiguousarray(w[j].T) if j < n else b[j - n].copy()
                    else:
                        entry[k] = v
                state[j] = entry
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, sd: dict) -> bool:
        """Load an nn-path optimizer ``state_dict`` (same network, same solver); False if it does not fit."""
        n = len(self.W)
        try:
            groups = sd["param_groups"]
            state = sd["state"]
            if len(groups) != 2 or [len(g["params"]) for g in groups] != [n, n]:
                return False
            mine = self.optimizer.param_groups[0]
            hyper = {k: v for k, v in groups[0].items() if k != "params" and k in mine}
            if set(hyper) != set(mine) - {"params"}:
                return False
            hyper["weight_decay"] = 0.0  # the nn path sets it per batch; here the L2 term is in the gradient
            flat_state: dict = {}
            if state:
                entries = [state[j] if j in state else state[str(j)] for j in range(2 * n)]
                for k in entries[0]:
                    if k in _STATE_KEYS[self.solver]:
                        flat = np.empty_like(self.params)
                        w, b = self._views(flat)
                        for j in range(n):
                            w[j][...] = np.asarray(entries[j][k]).T
                            b[j][...] = entries[n + j][k]
                        flat_state[k] = flat
                    else:
                        flat_state[k] = entries[0][k]
                if set(flat_state) - {"step"} != set(_STATE_KEYS[self.solver]):
                    return False
            new = {"state": {0: flat_state} if flat_state else {}, "param_groups": [dict(hyper, params=[0])]}
            self.optimizer.load_state_dict(new)
        except (KeyError, ValueError, TypeError, IndexError):
            return False
        return True


def _new_net(est: Any, units: list[int], dtype: Any) -> FastNet:
    m = float(est.momentum)
    return FastNet(
        units, est.activation, dtype, est.solver, lr=float(est.learning_rate_init), momentum=m,
        nesterov=bool(est.nesterovs_momentum) and m > 0, betas=(float(est.beta_1), float(est.beta_2)),
        eps=float(est.epsilon),
    )


def fast_network(est: Any, incremental: bool) -> FastNet:
    """The :class:`FastNet` that trains ``est`` now, with ``coefs_``/``intercepts_`` bound to its buffer.

    A fresh fit gets a fresh optimizer (as ``_make_optimizer``); ``partial_fit`` keeps the one of the previous call,
    or takes over the state of the nn path's optimizer (live, or restored from a pickle or a saved file).

    >>> from gradlab.estimators import MLPClassifier
    >>> clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=1, random_state=0).partial_fit([[0.0], [1.0]], [0, 1],
    ...                                                                                     classes=[0, 1])
    >>> net = fast_network(clf, incremental=True)
    >>> net is clf._fastnet, np.shares_memory(clf.coefs_[0], net.params), clf._adam_steps
    (True, True, 1)
    """
    units = [est.coefs_[0].shape[0]] + [c.shape[1] for c in est.coefs_]
    dtype = est.coefs_[0].dtype
    net = est.__dict__.get("_fastnet")
    key = (tuple(units), est.activation, np.dtype(dtype).str, est.solver)
    if incremental and net is not None and net.key == key:
        net.adopt(est)
        return net
    net = _new_net(est, units, dtype)
    net.adopt(est)
    est._fastnet = net
    old = est.__dict__.pop("_net", None)
    saved = est.__dict__.pop("_optim_state", None)
    if old is not None and old.optimizer is not None:
        saved = old.optimizer.state_dict()
    lr = float(getattr(est, "_learning_rate", est.learning_rate_init) or est.learning_rate_init)
    if not incremental:
        est._learning_rate = float(est.learning_rate_init)
        est._adam_steps = 0
        return net
    if saved is None or not net.load_state_dict(saved):
        net = est._fastnet = _new_net(est, units, dtype)
        net.adopt(est)
    resume_schedule(est, net.optimizer, lr)
    return net


def resume_schedule(est: Any, optimizer: Any, lr: float) -> None:
    """Go on with ``est``'s schedule on a restored ``optimizer``: ``lr`` becomes ``est._learning_rate`` and every
    group's learning rate, and ``est._adam_steps`` the optimizer's step count (0 while it has no state).

    >>> import types
    >>> w = gradlab.zeros(1, requires_grad=True)
    >>> opt, est = optim.Adam([w], lr=0.1), types.SimpleNamespace()
    >>> resume_schedule(est, opt, 0.01)
    >>> est._learning_rate, opt.param_groups[0]["lr"], est._adam_steps
    (0.01, 0.01, 0)
    """
    est._learning_rate = lr
    for g in optimizer.param_groups:
        g["lr"] = lr
    steps = [st.get("step", 0) for st in optimizer.state.values()]
    est._adam_steps = int(max(steps)) if steps else 0


def release(est: Any) -> None:
    """Hand the training back to the nn path: the fast optimizer's state becomes ``_optim_state``, which the nn
    path restores (``_restore_optimizer``).

    >>> from gradlab.estimators import MLPClassifier
    >>> clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=1, random_state=0).partial_fit([[0.0], [1.0]], [0, 1],
    ...                                                                                     classes=[0, 1])
    >>> release(clf); "_fastnet" in clf.__dict__, sorted(clf._optim_state["state"])
    (False, [0, 1, 2, 3])
    """
    net = est.__dict__.pop("_fastnet", None)
    if net is not None:
        est._optim_state = net.state_dict()
        nn_net = est.__dict__.get("_net")
        if nn_net is not None:
            nn_net.optimizer = None
