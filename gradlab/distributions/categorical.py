"""``Categorical``: a distribution over ``0 .. K-1`` from ``probs`` or ``logits`` (the last dimension)."""
from __future__ import annotations

from typing import Any

import numpy as np

import gradlab
from gradlab.backend import rng
from gradlab.distributions.distribution import Distribution, as_float

__all__ = ["Categorical"]


class Categorical(Distribution):
    """Categories with probabilities ``probs`` (normalised along the last dimension) or unnormalised ``logits``.

    >>> import gradlab
    >>> m = Categorical(logits=gradlab.zeros(2, 4))
    >>> m.sample().shape, m.entropy().tolist(), m.log_prob(gradlab.tensor([0, 3])).exp().tolist()
    (gradlab.Size([2]), [1.3862943649291992, 1.3862943649291992], [0.25, 0.25])
    """

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give exactly one of probs or logits")
        if probs is not None:
            p = as_float(probs)
            if p.ndim < 1:
                raise ValueError("Categorical: probs must have at least one dimension")
            self.probs = p / p.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(min=float(np.finfo(np.float32).tiny)).log()
        else:
            lg = as_float(logits)
            if lg.ndim < 1:
                raise ValueError("Categorical: logits must have at least one dimension")
            self.logits = lg - lg.logsumexp(-1, keepdim=True)
            self.probs = self.logits.exp()
        self._num_events = int(self.probs.shape[-1])
        super().__init__(tuple(self.probs.shape[:-1]))

    @property
    def param_shape(self) -> Any:
        return self.probs.shape

    @property
    def mean(self) -> Any:
        return gradlab.full(tuple(self.batch_shape), float("nan"))

    def sample(self, sample_shape: Any = ()) -> Any:
        """Category indices (int64) of shape ``sample_shape + batch_shape``."""
        p = self.probs.detach().numpy().astype(np.float64)
        flat = p.reshape(-1, self._num_events)
        n = int(np.prod(tuple(sample_shape), dtype=np.int64))
        cum = np.cumsum(flat, axis=-1)
        u = rng(None).random((n, flat.shape[0], 1)) * cum[:, -1:]
        idx = np.minimum((u > cum).sum(-1), self._num_events - 1)
        return gradlab.tensor(idx.reshape(tuple(sample_shape) + tuple(self.batch_shape)).astype(np.int64))

    def log_prob(self, value: Any) -> Any:
        """The log-probability of each category index in ``value`` (broadcast against ``batch_shape``)."""
        v = value if isinstance(value, gradlab.Tensor) else gradlab.tensor(value)
        v = v.long()
        shape = np.broadcast_shapes(tuple(v.shape), tuple(self.batch_shape))
        logits = self.logits.expand(*shape, self._num_events)
        return logits.gather(-1, v.expand(*shape).unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> Any:
        """``-sum(p log p)`` over the categories."""
        min_real = float(np.finfo(self.logits.dtype).min)
        return -(self.logits.clamp(min=min_real) * self.probs).sum(-1)
