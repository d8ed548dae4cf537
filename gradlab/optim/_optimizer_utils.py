"""Helpers of :mod:`gradlab.optim.optimizer`: the hook handle, the per-parameter state map, state copying/casting."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from copy import deepcopy
from typing import Any

import numpy as np

from ..devices import device_of, to_device
from ..tensor import Tensor


class _RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict) -> None:
        self._hooks = hooks
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> _RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class _ParamState(MutableMapping):
    """``defaultdict(dict)`` keyed by parameter *identity*.

    torch hashes tensors by ``id``; this mapping does the same whatever ``Tensor.__eq__``/``__hash__`` do.
    Reading a missing parameter creates its (empty) state dict, as ``torch.optim.Optimizer.state`` does;
    ``in`` and ``get`` do not create anything. Non-Tensor keys (kept for state that names no parameter) are hashed
    normally.
    """

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: dict[Any, tuple[Any, Any]] = {}

    @staticmethod
    def _token(key: Any) -> Any:
        return ("id", id(key)) if isinstance(key, Tensor) else ("key", key)

    def __getitem__(self, key: Any) -> Any:
        token = self._token(key)
        entry = self._data.get(token)
        if entry is None:
            value: dict = {}
            self._data[token] = (key, value)
            return value
        return entry[1]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._data[self._token(key)] = (key, value)

    def __delitem__(self, key: Any) -> None:
        del self._data[self._token(key)]

    def __contains__(self, key: object) -> bool:
        return self._token(key) in self._data

    def get(self, key: Any, default: Any = None) -> Any:
        entry = self._data.get(self._token(key))
        return default if entry is None else entry[1]

    def __iter__(self) -> Iterator[Any]:
        return (k for k, _ in list(self._data.values()))

    def __len__(self) -> int:
        return len(self._data)

    def items(self):  # type: ignore[override]
        return [(k, v) for k, v in self._data.values()]

    def values(self):  # type: ignore[override]
        return [v for _, v in self._data.values()]

    def keys(self):  # type: ignore[override]
        return [k for k, _ in self._data.values()]

    def clear(self) -> None:
        self._data.clear()

    def __copy__(self) -> _ParamState:
        new = _ParamState()
        new._data = dict(self._data)
        return new

    def __deepcopy__(self, memo: dict) -> _ParamState:
        # the identity tokens must follow the copied parameters
        new = _ParamState()
        for k, v in self._data.values():
            new[deepcopy(k, memo)] = deepcopy(v, memo)
        return new

    def __repr__(self) -> str:
        return "{" + ", ".join(f"<param {id(k):#x}>: {v!r}" for k, v in self._data.values()) + "}"


def _typename(obj: Any) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _to_numpy(value: Any) -> Any:
    """A Tensor becomes its array (a GPU array is copied to the host); anything else is returned as is."""
    if isinstance(value, Tensor):
        value = value._data
    return to_device(value, "cpu") if device_of(value).type == "cuda" else value


def _normalize_index(key: Any) -> Any:
    """Saved parameter indices may come back as strings (JSON) or numpy integers."""
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    if isinstance(key, np.integer):
        return int(key)
    return key


def _copy_state(value: Any) -> Any:
    """A deep copy of optimizer state, with arrays on the host (a state dict is device-neutral, as checkpoints)."""
    if isinstance(value, Tensor):
        value = value._data
    if device_of(value).type == "cuda":
        return to_device(value, "cpu")
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy_state(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_state(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy_state(v) for v in value)
    return value


def _cast_state(param: Any, value: Any, index: Any, key: Any = None, shaped: frozenset = frozenset()) -> Any:
    """Deep-copy a loaded per-parameter state value, casting floating arrays to the parameter's dtype.

    Arrays under a key in ``shaped`` must have the parameter's shape.
    """
    value = _to_numpy(value)
    if key == "step" and isinstance(value, float) and value.is_integer():
        return int(value)
    if key in shaped and isinstance(value, (list, tuple, int, float)):  # an array that went through JSON
        value = np.asarray(value)
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if key == "step":
            # torch keeps the step count as a 0-d float tensor; gradlab keeps a Python int.
            if arr.size != 1:
                raise ValueError(f"state 'step' of parameter {index} must be a scalar, got shape {arr.shape}")
            scalar = arr.reshape(()).item()
            return int(scalar) if float(scalar).is_integer() else scalar
        pdata = param._data
        if key in shaped and arr.shape != pdata.shape:
            raise ValueError(
                f"loaded state {key!r} of parameter {index} has shape {arr.shape}, "
                f"but the parameter has shape {pdata.shape}"
            )
        if arr.dtype.kind == "f" and pdata.dtype.kind == "f":
            return to_device(np.array(arr, dtype=pdata.dtype, copy=True), device_of(pdata))
        return to_device(np.array(arr, copy=True), device_of(pdata))
    if isinstance(value, dict):
        return {k: _cast_state(param, v, index, key=k, shaped=shaped) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, index, shaped=shaped) for v in value)
    return value


def check_adam_args(lr: float, eps: float, betas: Any, weight_decay: float) -> None:
    """ValueError, with torch's messages, for an Adam-family optimizer's ``lr``, ``eps``, ``betas`` and
    ``weight_decay``.

    >>> check_adam_args(1e-3, 1e-8, (0.9, 1.0), 0.0)
    Traceback (most recent call last):
    ValueError: Invalid beta parameter at index 1: 1.0
    """
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
