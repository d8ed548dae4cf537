"""``Dropout``: inverted dropout, active in training mode only."""
from __future__ import annotations

from typing import Any

from gradlab.nn import functional as F
from gradlab.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` in training; identity in eval.

    The mask comes from gradlab's default generator (``gradlab.manual_seed`` makes it reproducible).

    >>> import gradlab
    >>> from gradlab import nn
    >>> drop = nn.Dropout(0.5)
    >>> y = drop(gradlab.ones(1000))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> drop.eval()(gradlab.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels (each (H, W) map of each sample) with probability ``p``, scaling the kept ones by
    ``1/(1-p)``, in training; identity in eval. Input (N, C, H, W) or (C, H, W).

    >>> import gradlab
    >>> from gradlab import nn
    >>> y = nn.Dropout2d(0.5)(gradlab.ones(2, 8, 3, 3))
    >>> all(len(set(ch.reshape(-1).tolist())) == 1 for s in y for ch in s)
    True
    """

    def forward(self, input: Any) -> Any:
        return F.dropout2d(input, self.p, self.training)


__all__ += ["Dropout2d"]
