"""``Distribution``: the base of ``gradlab.distributions`` (shapes, ``sample`` through ``rsample``)."""
from __future__ import annotations

from typing import Any

import gradlab
from gradlab.size import Size

__all__ = ["Distribution"]


def as_float(x: Any) -> Any:
    """``x`` as a floating Tensor (numbers and arrays in the default dtype; a Tensor keeps its graph)."""
    if isinstance(x, gradlab.Tensor):
        return x if x.is_floating_point() else x.to(gradlab.get_default_dtype())
    return gradlab.tensor(x, dtype=gradlab.get_default_dtype())


class Distribution:
    """A family of distributions over a batch of parameters (``batch_shape``), each over ``event_shape``.

    >>> from gradlab.distributions import Normal
    >>> Normal(gradlab.zeros(3), 1.0).batch_shape
    gradlab.Size([3])
    """

    has_rsample = False

    def __init__(self, batch_shape: tuple = (), event_shape: tuple = ()) -> None:
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _extended_shape(self, sample_shape: Any = ()) -> tuple:
        return tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape)

    def sample(self, sample_shape: Any = ()) -> Any:
        """A draw of shape ``sample_shape + batch_shape + event_shape``, outside the graph."""
        with gradlab.no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape: Any = ()) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (rsample)")

    def log_prob(self, value: Any) -> Any:
        raise NotImplementedError

    def entropy(self) -> Any:
        raise NotImplementedError

    @property
    def variance(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no variance")

    @property
    def stddev(self) -> Any:
        return self.variance.sqrt()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
