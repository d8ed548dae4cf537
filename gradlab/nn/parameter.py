"""``Parameter``: a Tensor that a ``Module`` registers as one of its learnable weights."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.tensor import Tensor, as_array

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and that modules pick up as a parameter when assigned.

    ``Parameter(tensor)`` shares memory with ``tensor`` (as torch does); other data (lists, numpy arrays) is copied.

    >>> import gradlab
    >>> from gradlab.nn import Parameter
    >>> w = Parameter(gradlab.zeros(2, 3))
    >>> w.requires_grad, w.shape, isinstance(w, gradlab.Tensor)
    (True, gradlab.Size([2, 3]), True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty(0, dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = as_array(data)
        Tensor.__init__(self, np.empty(0, dtype=arr.dtype))
        self._data = arr  # shares memory with a given Tensor, like torch.nn.Parameter
        if isinstance(data, Tensor):
            self._vc = data._vc
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self._data.copy(), self.requires_grad)
        if self.grad is not None:
            out.grad = Tensor._make(self.grad._data.copy(), False)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (self._data, self.requires_grad))
