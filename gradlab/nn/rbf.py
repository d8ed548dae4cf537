"""``RBF``: a layer of Gaussian radial basis units with trainable centres and widths.

Unit ``j`` answers ``exp(-||x - c_j||^2 / (2 sigma_j^2))``. The widths are stored as ``log_sigmas`` so that
gradient steps keep them positive; the squared distances come from one matrix product
(``|x|^2 - 2 x.c + |c|^2``, clamped at 0), so the layer is as fast as a ``Linear`` of the same size.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter

__all__ = ["RBF"]


class RBF(Module):
    """Gaussian radial basis units: ``(N, in_features) -> (N, out_features)``, values in (0, 1].

    Args:
        in_features: input size.
        out_features: number of units (centres).
        sigma: initial width of every unit (default 1).

    Centres start as standard normal draws; set them from data with :meth:`set_centres` (k-means, see
    :class:`gradlab.models.RBFNetwork`).

    >>> import gradlab
    >>> from gradlab import nn
    >>> layer = nn.RBF(2, 3)
    >>> layer.set_centres([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], sigmas=1.0)
    >>> [round(v, 4) for v in layer(gradlab.tensor([[0.0, 0.0]])).tolist()[0]]
    [1.0, 0.6065, 0.1353]
    """

    def __init__(self, in_features: int, out_features: int, sigma: float = 1.0, dtype: Any = None) -> None:
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"RBF sizes must be positive, got in_features={in_features}, out_features={out_features}")
        if not sigma > 0:
            raise ValueError(f"RBF sigma must be > 0, got {sigma}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.centres = Parameter(backend.rng(None).standard_normal((out_features, in_features)).astype(dtype))
        self.log_sigmas = Parameter(np.full(out_features, math.log(sigma), dtype=dtype))

    def set_centres(self, centres: Any, sigmas: Any = None) -> None:
        """Overwrite the centres ((out_features, in_features) array) and, when given, the widths (a scalar or one
        per unit, all > 0)."""
        c = np.asarray(getattr(centres, "data", centres), dtype=self.centres.dtype)
        if c.shape != self.centres.shape:
            raise ValueError(f"RBF.set_centres: expected shape {self.centres.shape}, got {c.shape}")
        self.centres._data[...] = c
        if sigmas is not None:
            s = np.broadcast_to(np.asarray(getattr(sigmas, "data", sigmas), dtype=np.float64), (self.out_features,))
            if not np.all(s > 0):
                raise ValueError("RBF.set_centres: every sigma must be > 0")
            self.log_sigmas._data[...] = np.log(s).astype(self.log_sigmas.dtype)

    @property
    def sigmas(self) -> np.ndarray:
        """The current widths (a numpy array)."""
        return np.exp(self.log_sigmas._data)

    def forward(self, input: Any) -> Any:
        if input.ndim != 2 or input.shape[1] != self.in_features:
            raise ValueError(f"RBF: expected input of shape (N, {self.in_features}), got {tuple(input.shape)}")
        c = self.centres
        sq = (input * input).sum(1, keepdim=True) - 2.0 * (input @ c.t()) + (c * c).sum(1)
        sq = sq.clamp(min=0.0)
        inv_two_var = (self.log_sigmas * -2.0).exp() * 0.5
        return (sq * inv_two_var * -1.0).exp()

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"
