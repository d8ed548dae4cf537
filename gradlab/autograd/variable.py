"""``Variable``: the pre-0.4 torch wrapper, today a plain tensor (kept for course material that still uses it)."""
from __future__ import annotations

from typing import Any

__all__ = ["Variable"]


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802  (torch's name)
    """``data`` itself (a Tensor), or a detached Tensor sharing its memory that requires grad when asked, as torch.

    >>> import gradlab
    >>> from gradlab.autograd import Variable
    >>> v = Variable(gradlab.ones(2), requires_grad=True)
    >>> v.requires_grad, isinstance(v, gradlab.Tensor)
    (True, True)
    """
    from gradlab.tensor import Tensor

    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if not requires_grad:
        return data
    return data.detach().requires_grad_(True)
