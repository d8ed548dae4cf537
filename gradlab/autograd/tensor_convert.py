"""The dtype and device conversions of ``Tensor`` (``to``, ``cuda``, ``cpu``, ``float``, ``long``, ...)."""
from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from gradlab import devices

if TYPE_CHECKING:
    from gradlab.tensor import Tensor

__all__ = ["TensorConvert"]


class TensorConvert:
    """Conversion methods mixed into ``Tensor``.

    >>> import gradlab
    >>> t = gradlab.tensor([1, 2, 3])
    >>> t.float().dtype, t.double().dtype, t.float().is_floating_point(), t.is_floating_point()
    (dtype('float32'), dtype('float64'), True, False)
    >>> t.to(gradlab.float64)
    tensor([1., 2., 3.], dtype=float64)
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the attributes come from Tensor

        def __getattr__(self, name: str) -> Any: ...

    # ---- dtype and device conversion ----------------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Convert to a dtype and/or move to a device, as torch's ``to``: ``to(dtype)``, ``to("cuda")``,
        ``to(device, dtype)``, ``to(other)`` (its dtype and device), keywords ``device=``, ``dtype=``, ``copy=``.

        Returns ``self`` when nothing changes; moving between devices copies and is differentiable.

        >>> import gradlab
        >>> x = gradlab.tensor([1.5])
        >>> x.to("cpu") is x, x.to(gradlab.float64).dtype
        (True, dtype('float64'))
        """
        from gradlab.tensor import Tensor

        dev = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if a is None:
                continue
            if isinstance(a, Tensor):
                dtype = a._data.dtype if dtype is None else dtype
                dev = a.device if dev is None else dev
            elif devices.is_device_like(a):
                dev = a
            else:
                dtype = a
        out: Any = self
        if dev is not None:
            d = devices.as_device(dev)
            if devices.needs_move(self._data, d):
                from gradlab.ops.transfer import ToDevice

                out = ToDevice.apply(self, d)
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype != out._data.dtype:
                from gradlab.ops.elementwise import Cast

                out = Cast.apply(out, dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def cuda(self, device: Any = None, non_blocking: builtins.bool = False) -> Tensor:
        """This tensor on a GPU (``device``: an index or ``"cuda:N"``; default the current one)."""
        d = devices.as_device("cuda" if device is None else device)
        if d.type != "cuda":
            raise ValueError(f"cuda() expects a CUDA device, got {d}")
        return self.to(d)

    def cpu(self) -> Tensor:
        """This tensor on the CPU (itself if it is there already)."""
        return self.to(devices.CPU)

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def is_floating_point(self) -> builtins.bool:
        return self._data.dtype.kind == "f"
