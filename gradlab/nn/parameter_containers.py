"""``ParameterList`` and ``ParameterDict``: containers whose entries the parent module registers as parameters
(state-dict keys ``'0'``, ``'1'`` ... or the dict's keys, as torch)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter
from gradlab.tensor import Tensor

__all__ = ["ParameterList", "ParameterDict"]


def _as_parameter(value: Any) -> Any:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value.detach())
    raise TypeError(f"parameter containers hold Tensors/Parameters, got {type(value).__name__}")


def _entry_repr(key: Any, p: Parameter) -> str:
    return f"  ({key}): Parameter containing: [{p.dtype} of size {'x'.join(str(s) for s in p.shape)}]"


class ParameterList(Module):
    """A list of parameters (Tensors are wrapped into :class:`Parameter`).

    >>> import gradlab
    >>> from gradlab import nn
    >>> pl = nn.ParameterList([nn.Parameter(gradlab.zeros(2)), gradlab.ones(3)])
    >>> len(pl), [k for k, _ in pl.named_parameters()]
    (2, ['0', '1'])
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, idx: int) -> int:
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return idx % n

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return self._parameters[str(self._index(idx))]

    def __setitem__(self, idx: int, value: Any) -> None:
        self.register_parameter(str(self._index(idx)), _as_parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._parameters[str(i)] for i in range(len(self)))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Append one parameter."""
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append every parameter of ``values``."""
        if isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable, but got a Tensor")
        for v in list(values):
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_repr(i, p) for i, p in enumerate(self))

    def __repr__(self) -> str:
        body = self.extra_repr()
        return "ParameterList(\n" + body + "\n)" if body else "ParameterList()"


class ParameterDict(Module):
    """An ordered dict of parameters keyed by strings (Tensors are wrapped into :class:`Parameter`).

    >>> import gradlab
    >>> from gradlab import nn
    >>> pd = nn.ParameterDict({"scale": nn.Parameter(gradlab.ones(1))})
    >>> pd["shift"] = gradlab.zeros(1)
    >>> list(pd.keys()), "scale" in pd
    (['scale', 'shift'], True)
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return list(self._parameters)

    def values(self) -> list[Any]:
        """The parameters, in insertion order."""
        return list(self._parameters.values())

    def items(self) -> list[tuple[str, Any]]:
        """``(key, parameter)`` pairs, in insertion order."""
        return list(self._parameters.items())

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter under ``key``, or ``default``."""
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Any:
        """Remove and return the parameter under ``key``."""
        return self._parameters.pop(key)

    def clear(self) -> None:
        """Remove every parameter."""
        self._parameters.clear()

    def update(self, parameters: Any) -> None:
        """Add the entries of a mapping (or of ``(key, value)`` pairs)."""
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in items:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(_entry_repr(k, p) for k, p in self._parameters.items())

    def __repr__(self) -> str:
        body = self.extra_repr()
        return "ParameterDict(\n" + body + "\n)" if body else "ParameterDict()"
