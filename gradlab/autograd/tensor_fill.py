"""``Tensor`` methods for sampling, counting and accumulating with torch's names: ``bernoulli``/``bernoulli_``,
``bincount``, ``count_nonzero``, ``isclose``/``equal``, ``take_along_dim``, ``index_add``/``index_add_``,
``addcmul``/``addcmul_``, ``addcdiv``/``addcdiv_``, ``lerp_``, ``clamp_min_``/``clamp_max_``.

The accumulating ones are differentiable (``index_add`` is a ``scatter_add``); samples and counts are not.
"""
from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from gradlab import backend, devices

__all__ = ["TensorFill"]


def _tensor() -> Any:
    from gradlab.tensor import Tensor

    return Tensor


def _host(arr: Any) -> Any:
    """``arr`` as a NumPy array (a CuPy array is copied back to the host)."""
    return arr.get() if hasattr(arr, "get") and not isinstance(arr, np.ndarray) else np.asarray(arr)


class TensorFill:
    """Methods mixed into ``Tensor``.

    >>> import gradlab
    >>> x = gradlab.zeros(3)
    >>> x.index_add_(0, gradlab.tensor([0, 2, 0]), gradlab.tensor([1.0, 2.0, 3.0])).tolist()
    [4.0, 0.0, 2.0]
    >>> gradlab.tensor([1, 1, 3]).bincount().tolist(), x.count_nonzero().item(), x.isclose(x + 1e-9).all().item()
    ([0, 2, 0, 1], 2, True)
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the attributes come from Tensor

        def __getattr__(self, name: str) -> Any: ...

        def __mul__(self, other: Any) -> Any: ...

    def bernoulli(self, p: Any = None, *, generator: Any = None) -> Any:
        """Ones with probability ``self`` (or ``p``) elementwise, zeros otherwise; in this tensor's dtype."""
        prob = self._data if p is None else np.broadcast_to(np.asarray(getattr(p, "_data", p)), self._data.shape)
        draw = backend.rng(generator).random(self._data.shape)
        out = devices.to_device((draw < _host(prob)).astype(self._data.dtype), self.device)
        return _tensor()._make(out, False)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Any:
        self._check_inplace()
        self._data[...] = self.bernoulli(p, generator=generator)._data
        self._vc[0] += 1
        return self

    def bincount(self, weights: Any = None, minlength: int = 0) -> Any:
        w = None if weights is None else _host(getattr(weights, "_data", weights))
        counts = np.bincount(_host(self._data), weights=w, minlength=minlength)
        return _tensor()._make(devices.to_device(counts, self.device), False)

    def count_nonzero(self, dim: Any = None) -> Any:
        xp = backend.get_array_module(self._data)
        return _tensor()._make(xp.asarray(xp.count_nonzero(self._data, axis=dim)).astype(np.int64), False)

    def isclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: builtins.bool = False) -> Any:
        xp = backend.get_array_module(self._data)
        o = getattr(other, "_data", other)
        return _tensor()._make(xp.asarray(xp.isclose(self._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan)),
                                False)

    def equal(self, other: Any) -> builtins.bool:
        o = getattr(other, "_data", other)
        return builtins.bool(self._data.shape == np.shape(o) and (self._data == o).all())

    def take_along_dim(self, indices: Any, dim: Any = None) -> Any:
        if dim is None:
            return self.reshape(-1).gather(0, indices.reshape(-1))
        d = dim % self.ndim
        idx = getattr(indices, "_data", indices)
        shape = list(np.broadcast_shapes(tuple(self.shape[:d]) + (1,) + tuple(self.shape[d + 1:]),
                                         tuple(idx.shape[:d]) + (1,) + tuple(idx.shape[d + 1:])))
        x_shape, i_shape = list(shape), list(shape)
        x_shape[d], i_shape[d] = self.shape[d], idx.shape[d]
        x = self.expand(*x_shape) if tuple(self.shape) != tuple(x_shape) else self
        return x.gather(d, np.broadcast_to(idx, i_shape))

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Any:
        d = dim % builtins.max(self.ndim, 1)
        idx = np.asarray(_host(getattr(index, "_data", index)), dtype=np.int64)
        src = source * alpha if alpha != 1 else source
        shape = [1] * src.ndim
        shape[d] = idx.shape[0]
        return self.scatter_add(d, np.broadcast_to(idx.reshape(shape), tuple(src.shape)), src)

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Any:
        return self._set_inplace(self.index_add(dim, index, source, alpha=alpha))

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        return self + tensor1 * tensor2 * value

    def addcmul_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        return self._set_inplace(self.addcmul(tensor1, tensor2, value=value))

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        return self + tensor1 / tensor2 * value

    def addcdiv_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        return self._set_inplace(self.addcdiv(tensor1, tensor2, value=value))

    def lerp_(self, end: Any, weight: Any) -> Any:
        return self._set_inplace(self.lerp(end, weight))

    def clamp_min_(self, min: Any) -> Any:  # noqa: A002
        return self._set_inplace(self.clamp(min=min))

    def clamp_max_(self, max: Any) -> Any:  # noqa: A002
        return self._set_inplace(self.clamp(max=max))


for _name in ("bernoulli_", "bincount", "count_nonzero", "isclose", "equal", "take_along_dim", "index_add",
              "index_add_", "addcmul", "addcmul_", "addcdiv", "addcdiv_", "lerp_", "clamp_min_", "clamp_max_"):
    getattr(TensorFill, _name).__doc__ = f"``torch.Tensor.{_name}`` (see the class example)."
del _name
