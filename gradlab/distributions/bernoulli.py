"""``Bernoulli``: a 0/1 variable with probability ``probs`` of 1 (or log-odds ``logits``)."""
from __future__ import annotations

from typing import Any

import numpy as np

import gradlab
from gradlab.backend import rng
from gradlab.distributions.distribution import Distribution, as_float
from gradlab.nn import functional as F

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """Ones with probability ``probs`` (or ``sigmoid(logits)``), zeros otherwise.

    >>> import gradlab
    >>> b = Bernoulli(probs=gradlab.tensor([0.5, 0.25]))
    >>> b.log_prob(gradlab.tensor([1.0, 0.0])).exp().tolist(), b.mean.tolist(), b.sample().shape
    ([0.5, 0.75], [0.5, 0.25], gradlab.Size([2]))
    """

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give exactly one of probs or logits")
        if probs is not None:
            self.probs = as_float(probs)
            eps = float(np.finfo(self.probs.dtype).eps)
            p = self.probs.clamp(eps, 1 - eps)
            self.logits = p.log() - (1 - p).log()
        else:
            self.logits = as_float(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(tuple(self.probs.shape))

    @property
    def mean(self) -> Any:
        return self.probs

    @property
    def variance(self) -> Any:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Any:
        shape = tuple(sample_shape) + tuple(self.batch_shape)
        p = self.probs.detach().numpy()
        return gradlab.tensor((rng(None).random(shape) < p).astype(p.dtype))

    def log_prob(self, value: Any) -> Any:
        v = as_float(value)
        logits, v = (self.logits, v) if tuple(v.shape) == tuple(self.logits.shape) else _broadcast(self.logits, v)
        return -F.binary_cross_entropy_with_logits(logits, v, reduction="none")

    def entropy(self) -> Any:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


def _broadcast(a: Any, b: Any) -> tuple:
    shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    return a.expand(*shape), b.expand(*shape)
