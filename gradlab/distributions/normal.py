"""``Normal``: the Gaussian with mean ``loc`` and standard deviation ``scale``."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import gradlab
from gradlab.backend import rng
from gradlab.distributions.distribution import Distribution, as_float

__all__ = ["Normal"]


class Normal(Distribution):
    """``N(loc, scale**2)``, batched by broadcasting ``loc`` against ``scale``; ``rsample`` is differentiable.

    >>> import gradlab
    >>> n = Normal(gradlab.tensor([0.0, 1.0]), 2.0)
    >>> [round(v, 4) for v in n.log_prob(gradlab.tensor([0.0, 1.0])).tolist()], n.rsample((3,)).shape
    ([-1.6121, -1.6121], gradlab.Size([3, 2]))
    """

    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: Any = None) -> None:
        loc, scale = as_float(loc), as_float(scale)
        shape = np.broadcast_shapes(tuple(loc.shape), tuple(scale.shape))
        self.loc = loc.expand(*shape) if tuple(loc.shape) != shape else loc
        self.scale = scale.expand(*shape) if tuple(scale.shape) != shape else scale
        super().__init__(shape)

    @property
    def mean(self) -> Any:
        return self.loc

    @property
    def stddev(self) -> Any:
        return self.scale

    @property
    def variance(self) -> Any:
        return self.scale.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Any:
        shape = tuple(sample_shape) + tuple(self.batch_shape)
        eps = gradlab.tensor(rng(None).standard_normal(shape).astype(self.loc.detach().numpy().dtype))
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Any:
        v = as_float(value)
        var = self.scale.pow(2)
        return -((v - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def entropy(self) -> Any:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
