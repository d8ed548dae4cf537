"""The L-BFGS solver of :class:`BaseMLP` (split out of ``_base.py``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.utils.optimize import _check_optimize_result

import gradlab

from . import _network as N

try:  # sklearn >= 1.3 wraps scipy's changing 'iprint'/'disp' options
    from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
except ImportError:  # pragma: no cover - older sklearn
    def _get_additional_lbfgs_options_dict(key: str, value: Any) -> dict:
        return {key: value}


class _LbfgsSolverMixin:
    """The L-BFGS half of :class:`BaseMLP` (mixed into it; not usable alone)."""

    if TYPE_CHECKING:  # the estimator's parameters and fitted attributes come from BaseMLP

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

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
        sizes = [int(np.prod(s)) for s in shapes] + [int(p._data.size) for p in others]
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
                    p._data[...] = chunk

        def pack_grad() -> np.ndarray:
            out = np.empty(offsets[-1], dtype=np.float64)
            for i, p in enumerate(params):
                g = p.grad._data if p.grad is not None else np.zeros_like(p._data)
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
            [c.ravel() for c in self.coefs_] + [p._data.ravel() for p in others]
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
