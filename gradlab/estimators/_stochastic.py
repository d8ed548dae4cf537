"""The stochastic solvers (sgd, adam, rmsprop) of :class:`BaseMLP`: loss, learning rate, optimizer,
stopping rules, validation split and the mini-batch loop (split out of ``_base.py``)."""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import shuffle as sk_shuffle
from sklearn.utils.validation import _check_sample_weight

import gradlab

from . import _fastpath
from . import _network as N


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


class _StochasticSolverMixin:
    """The stochastic-solver half of :class:`BaseMLP` (mixed into it; not usable alone)."""

    if TYPE_CHECKING:  # the estimator's parameters and fitted attributes come from BaseMLP

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

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
    def _set_learning_rate(self, net: Any, lr: float) -> None:
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
        _fastpath.resume_schedule(self, net.optimizer, lr)

    def _trigger_stopping(self, net: Any, msg: str) -> bool:
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
        fast = _fastpath.applies(self, X)
        net: Any
        if fast:
            net = _fastpath.fast_network(self, incremental)
        else:
            _fastpath.release(self)
            net = self._network()
            if not incremental:
                self._make_optimizer(net)
            elif net.optimizer is None:
                self._restore_optimizer(net)
        dtype = net.dtype

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

        if not fast and net.norms and batch_size < 2:
            raise ValueError(f"batch_norm=True needs batch_size >= 2 (batch statistics), got batch_size={batch_size}.")
        bounds = [(s, min(s + batch_size, n_samples)) for s in range(0, n_samples, batch_size)]
        if not fast and net.norms and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
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
        model = None if fast else net.model
        if fast:
            net.use_kernels_for(n_samples)
        weights = net.weights()
        others = net.others()

        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    sample_idx = sk_shuffle(sample_idx, random_state=self._random_state)
                if model is not None:
                    model.train()
                accumulated = 0.0
                for start, stop in bounds:
                    idx = sample_idx[start:stop] if self.shuffle else slice(start, stop)
                    xb = _batch_rows(X_train, idx, buf, dtype)
                    tb = T_train[idx]
                    wb = None if sw_train is None else sw_train[idx]
                    denom = float(stop - start) if wb is None else float(wb.sum())
                    if fast:
                        value = net.batch_gradient(xb, tb, wb, denom, alpha, out_act)
                    else:
                        decay_group["weight_decay"] = alpha / denom if denom > 0 else 0.0
                        loss = self._batch_loss(net, xb, tb, wb, denom)
                        value = loss.item() + self._penalty_value(denom)
                        for p in weights:
                            p.grad = None
                        for p in others:
                            p.grad = None
                        loss.backward()
                    if poisson:
                        value += N.poisson_constant(tb, wb, denom)
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
            if fast:
                net.adopt(self)  # the restored arrays become the flat buffer's values again
            else:
                self._network()  # re-bind the optimizer's parameters to the restored arrays
        if fast:
            self._network()  # the nn network that predicts (built now, so that predict leaves __dict__ alone)

    def _validation_metrics(self, net: Any, X_val: Any, y_val: Any, T_val: np.ndarray,
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
        if isinstance(net, N.Network):
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
