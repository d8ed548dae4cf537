"""Nested state <-> (JSON tree, dict of arrays): :func:`flatten_state` and :func:`unflatten_state`.

The split behind checkpoints and saved estimators: the arrays go to a safetensors file, the tree (plain numbers,
strings, lists, dicts and a few ``{"__marker__": ...}`` records) to JSON. ints stay ints, floats floats (inf and
nan included), tuples tuples, numpy scalars keep their dtype, dicts with non-string keys keep their keys.
:func:`unflatten_state` checks every record it reads and raises ``ValueError`` naming the place for anything a
damaged file could hold (a wrong type, an unknown marker, a nesting deeper than :data:`MAX_DEPTH`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..creation import from_numpy
from ..tensor import Tensor
from .safetensors import SUPPORTED_DTYPES, as_storable_array

__all__ = ["flatten_state", "unflatten_state", "encode_float", "MAX_DEPTH"]

#: The deepest nesting of lists, tuples and dicts the tree may have (deeper: ValueError, never RecursionError).
MAX_DEPTH = 200

_FLOAT_NAMES = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_float(x: float) -> Any:
    """``x`` itself if finite, else the JSON record ``{"__float__": "nan" | "inf" | "-inf"}``.

    >>> encode_float(0.5), encode_float(float("-inf"))
    (0.5, {'__float__': '-inf'})
    """
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _is_hashable_leaf(k: Any) -> bool:
    if k is None or isinstance(k, (bool, int, float, str, np.generic)):
        return True
    if isinstance(k, tuple):
        return all(_is_hashable_leaf(v) for v in k)
    return False


def flatten_state(obj: Any, prefix: str = "") -> tuple[Any, dict[str, np.ndarray]]:
    """Split a nested structure into a JSON-able tree and a dict of arrays (to store with safetensors).

    Arrays and Tensors become ``{"__ndarray__": key}`` / ``{"__tensor__": key}``; tuples ``{"__tuple__": [...]}``;
    non-finite floats ``{"__float__": "inf"}``; numpy scalars ``{"__scalar__": dtype, "value": ...}``; dicts whose
    keys are not all plain strings ``{"__dict__": [[key, value], ...]}``. Anything else raises ``TypeError``
    naming where it is (a nesting deeper than :data:`MAX_DEPTH`: ``ValueError``). :func:`unflatten_state`
    reverses this exactly.

    >>> import numpy as np
    >>> tree, arrays = flatten_state({"step": 3, "betas": (0.9, 0.999), "state": {0: np.zeros(2)}})
    >>> tree["betas"], sorted(arrays)
    ({'__tuple__': [0.9, 0.999]}, ['state/0'])
    >>> unflatten_state(tree, arrays)["state"][0]
    array([0., 0.])
    """
    arrays: dict[str, np.ndarray] = {}

    def key_for(path: str) -> str:
        key = path or "_"
        if key in arrays:
            n = 1
            while f"{key}#{n}" in arrays:
                n += 1
            key = f"{key}#{n}"
        return key

    def enc(x: Any, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError(f"cannot store a structure nested deeper than {MAX_DEPTH} levels (at {path!r})")
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int):
            return int(x)
        if isinstance(x, float):
            return encode_float(float(x))
        if isinstance(x, Tensor):
            key = key_for(path)
            arrays[key] = as_storable_array(x, path)
            return {"__tensor__": key}
        if isinstance(x, np.ndarray):
            key = key_for(path)
            arrays[key] = as_storable_array(x, path)
            return {"__ndarray__": key}
        if isinstance(x, np.generic):
            if x.dtype not in SUPPORTED_DTYPES:
                raise TypeError(f"cannot store a numpy scalar of dtype {x.dtype} at {path or '<root>'!r}")
            item = x.item()
            value = encode_float(item) if isinstance(item, float) else item
            if isinstance(item, complex):
                value = [item.real, item.imag]
            return {"__scalar__": x.dtype.str, "value": value}
        sub = (lambda i: f"{path}/{i}" if path else str(i))
        if isinstance(x, tuple):
            return {"__tuple__": [enc(v, sub(i), depth + 1) for i, v in enumerate(x)]}
        if isinstance(x, list):
            return [enc(v, sub(i), depth + 1) for i, v in enumerate(x)]
        if isinstance(x, Mapping):
            if all(isinstance(k, str) and not k.startswith("__") for k in x):
                return {k: enc(v, sub(k), depth + 1) for k, v in x.items()}
            items = []
            for k, v in x.items():
                if isinstance(k, (Tensor, np.ndarray)) or not _is_hashable_leaf(k):
                    raise TypeError(f"cannot store dict key {k!r} of type {type(k).__name__} at {path or '<root>'!r}")
                items.append([enc(k, path, depth + 1), enc(v, sub(k), depth + 1)])
            return {"__dict__": items}
        raise TypeError(
            f"cannot store an object of type {type(x).__name__} at {path or '<root>'!r} without pickle; "
            "convert it to numbers, strings, lists, dicts or arrays first"
        )

    tree = enc(obj, prefix, 0)
    return tree, arrays


def _freeze(k: Any) -> Any:
    return tuple(_freeze(v) for v in k) if isinstance(k, (list, tuple)) else k


def _scalar(x: dict, where: str) -> Any:
    code, value = x["__scalar__"], x["value"]
    if not isinstance(code, str):
        raise ValueError(f"{where}: '__scalar__' must be a dtype string, got {type(code).__name__}")
    try:
        dtype = np.dtype(code)
    except TypeError:
        raise ValueError(f"{where}: '__scalar__' {code[:40]!r} is not a dtype") from None
    if dtype not in SUPPORTED_DTYPES:
        raise ValueError(f"{where}: '__scalar__' dtype {dtype} is not a storable dtype")
    if isinstance(value, dict) and set(value) == {"__float__"} and dtype.kind == "f":
        value = _named_float(value["__float__"], where)
    if dtype.kind == "c":
        if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)):
            raise ValueError(f"{where}: a complex '__scalar__' needs 'value': [real, imag]")
        return dtype.type(complex(*value))
    if dtype.kind == "b":
        ok = isinstance(value, bool)
    elif dtype.kind in "iu":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = _is_number(value)
    if not ok:
        raise ValueError(f"{where}: '__scalar__' of dtype {dtype} has a value of type {type(value).__name__}")
    if dtype.kind in "iu" and not np.iinfo(dtype).min <= value <= np.iinfo(dtype).max:
        raise ValueError(f"{where}: '__scalar__' value {value} does not fit dtype {dtype}")
    try:
        return dtype.type(value)
    except (OverflowError, ValueError, TypeError):
        raise ValueError(f"{where}: '__scalar__' value does not fit dtype {dtype}") from None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _named_float(name: Any, where: str) -> float:
    if not isinstance(name, str) or name not in _FLOAT_NAMES:
        raise ValueError(f"{where}: '__float__' must be one of 'nan', 'inf', '-inf', got {str(name)[:40]!r}")
    return _FLOAT_NAMES[name]


def unflatten_state(
    tree: Any, arrays: Mapping[str, np.ndarray], tensor_factory: Callable[[np.ndarray], Any] | None = None
) -> Any:
    """Rebuild the structure :func:`flatten_state` split; ``{"__tensor__": k}`` leaves become
    ``tensor_factory(arrays[k])`` (default :func:`gradlab.from_numpy`), ``{"__ndarray__": k}`` plain arrays.

    A malformed tree (a marker with a value of the wrong type, an unknown ``__marker__``, a key naming no stored
    array, a nesting deeper than :data:`MAX_DEPTH`) raises ``ValueError`` saying where.

    >>> unflatten_state({"t": {"__tuple__": [1, {"__float__": "inf"}]}}, {})
    {'t': (1, inf)}
    >>> unflatten_state({"t": {"__tuple__": 5}}, {})
    Traceback (most recent call last):
    ...
    ValueError: at 't': '__tuple__' must hold a list, got int
    """
    factory: Callable[[np.ndarray], Any] = tensor_factory if tensor_factory is not None else from_numpy

    def array(key: Any, where: str) -> np.ndarray:
        if not isinstance(key, str):
            raise ValueError(f"{where}: an array reference must be a string, got {type(key).__name__}")
        try:
            return arrays[key]
        except KeyError:
            raise ValueError(f"{where}: refers to array {key[:80]!r}, which is not among the stored arrays") from None

    def dec(x: Any, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError(f"at {path or '<root>'!r}: nested deeper than {MAX_DEPTH} levels")
        where = f"at {path or '<root>'!r}"
        sub = (lambda i: f"{path}/{i}" if path else str(i))
        if isinstance(x, list):
            return [dec(v, sub(i), depth + 1) for i, v in enumerate(x)]
        if not isinstance(x, dict):
            return x
        if not any(isinstance(k, str) and k.startswith("__") for k in x):
            return {k: dec(v, sub(k), depth + 1) for k, v in x.items()}
        if set(x) == {"__scalar__", "value"}:
            return _scalar(x, where)
        if len(x) != 1:
            raise ValueError(f"{where}: unknown record with keys {sorted(x)[:5]}")
        ((tag, val),) = x.items()
        if tag == "__tensor__":
            return factory(array(val, where))
        if tag == "__ndarray__":
            return array(val, where)
        if tag == "__float__":
            return _named_float(val, where)
        if tag == "__tuple__":
            if not isinstance(val, list):
                raise ValueError(f"{where}: '__tuple__' must hold a list, got {type(val).__name__}")
            return tuple(dec(v, sub(i), depth + 1) for i, v in enumerate(val))
        if tag == "__dict__":
            if not isinstance(val, list) or not all(isinstance(kv, list) and len(kv) == 2 for kv in val):
                raise ValueError(f"{where}: '__dict__' must hold a list of [key, value] pairs")
            out = {}
            for k, v in val:
                key = _freeze(dec(k, path, depth + 1))
                try:
                    hash(key)
                except TypeError:
                    raise ValueError(f"{where}: '__dict__' has a key of type {type(key).__name__}") from None
                out[key] = dec(v, sub(key), depth + 1)
            return out
        raise ValueError(f"{where}: unknown record marker {str(tag)[:40]!r}")

    return dec(tree, "", 0)
