"""``Tensor`` methods over ``gradlab.ops.scatter``: ``gather``, ``scatter``/``scatter_``, ``scatter_add``/
``scatter_add_`` and ``scatter_reduce``/``scatter_reduce_``, all differentiable (the in-place forms as torch's: not
on a leaf that requires grad outside ``no_grad``).
"""
from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from gradlab import backend
from gradlab.ops import scatter as X

__all__ = ["TensorScatter"]


def _index(t: Any, index: Any) -> Any:
    xp = backend.get_array_module(t._data)
    arr = xp.asarray(index._data if hasattr(index, "_data") else index)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"expected an integer (int64) index tensor, got {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _src(t: Any, src: Any) -> Any:
    from gradlab.tensor import Tensor

    if isinstance(src, Tensor):
        return src if src.dtype == t.dtype else src.to(t.dtype)
    return src


class TensorScatter:
    """Index-driven reads and writes along a dimension.

    >>> import gradlab
    >>> x = gradlab.zeros(2, 3)
    >>> x.scatter(1, gradlab.tensor([[2], [0]]), 1.0).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    >>> x.scatter_reduce(1, gradlab.tensor([[0, 0]]), gradlab.tensor([[2.0, 3.0]]), "amax").tolist()
    [[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the attributes come from Tensor

        def __getattr__(self, name: str) -> Any: ...

    def gather(self, dim: int, index: Any) -> Any:
        """``out[i][j] = self[index[i][j]][j]`` for ``dim=0`` (as ``torch.gather``).

        >>> import gradlab
        >>> gradlab.tensor([[1, 2], [3, 4]]).gather(1, gradlab.tensor([[1], [0]])).tolist()
        [[2], [3]]
        """
        return X.Gather.apply(self, dim, _index(self, index))

    def scatter(self, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: Any = None) -> Any:
        """A copy with ``out[index[i][j]][j] = src[i][j]`` (``dim=0``); ``src`` a tensor or a number (or
        ``value=``); ``reduce="add"``/``"multiply"`` combine with the present values instead.

        >>> import gradlab
        >>> gradlab.zeros(3).scatter(0, gradlab.tensor([2]), gradlab.tensor([9.0])).tolist()
        [0.0, 0.0, 9.0]
        """
        if src is None:
            if value is None:
                raise TypeError("scatter() needs src (a tensor or a number) or value")
            src = value
        idx = _index(self, index)
        if reduce is not None:
            if reduce not in ("add", "multiply"):
                raise RuntimeError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
            if not hasattr(src, "_data"):
                src = self.new_full(tuple(idx.shape), src)
            mode = "sum" if reduce == "add" else "prod"
            return X.ScatterReduce.apply(self, _src(self, src), dim, idx, mode, True)
        return X.Scatter.apply(self, _src(self, src), dim, idx)

    def scatter_(self, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: Any = None) -> Any:
        """``scatter`` in place.

        >>> import gradlab
        >>> gradlab.zeros(3).scatter_(0, gradlab.tensor([1]), 5.0).tolist()
        [0.0, 5.0, 0.0]
        """
        return self._set_inplace(self.scatter(dim, index, src, value, reduce=reduce))

    def scatter_add(self, dim: int, index: Any, src: Any) -> Any:
        """A copy with ``src[i][j]`` added at ``out[index[i][j]][j]`` (``dim=0``), repeated positions accumulating.

        >>> import gradlab
        >>> gradlab.zeros(2).scatter_add(0, gradlab.tensor([1, 1]), gradlab.ones(2)).tolist()
        [0.0, 2.0]
        """
        return X.ScatterAdd.apply(self, _src(self, src), dim, _index(self, index))

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Any:
        """``scatter_add`` in place.

        >>> import gradlab
        >>> gradlab.zeros(2).scatter_add_(0, gradlab.tensor([0, 0]), gradlab.ones(2)).tolist()
        [2.0, 0.0]
        """
        return self._set_inplace(self.scatter_add(dim, index, src))

    def scatter_reduce(self, dim: int, index: Any, src: Any, reduce: str, *,
                       include_self: builtins.bool = True) -> Any:
        """``src`` reduced into a copy at ``index`` with ``reduce`` ("sum", "prod", "mean", "amax", "amin").

        >>> import gradlab
        >>> gradlab.ones(2).scatter_reduce(0, gradlab.tensor([0, 0]), gradlab.tensor([2.0, 4.0]), "mean").tolist()
        [2.3333332538604736, 1.0]
        """
        return X.ScatterReduce.apply(self, _src(self, src), dim, _index(self, index), reduce,
                                     builtins.bool(include_self))

    def scatter_reduce_(self, dim: int, index: Any, src: Any, reduce: str, *,
                        include_self: builtins.bool = True) -> Any:
        """``scatter_reduce`` in place.

        >>> import gradlab
        >>> x = gradlab.zeros(2)
        >>> _ = x.scatter_reduce_(0, gradlab.tensor([1, 1]), gradlab.tensor([2.0, 4.0]), "prod", include_self=False)
        >>> x.tolist()
        [0.0, 8.0]
        """
        return self._set_inplace(self.scatter_reduce(dim, index, src, reduce, include_self=include_self))
