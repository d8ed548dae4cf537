"""``gradlab.save`` / ``gradlab.load`` with torch's signatures, without pickle.

``save(obj, f)`` takes a path or a binary file object. A flat ``{name: Tensor}`` dict is written as a plain
safetensors file (readable by any safetensors reader); any other nesting of dicts, lists and tuples of Tensors,
arrays, numbers, strings and None, such as ``{"model": sd, "optimizer": opt_sd, "epoch": 3}``, is split by
:func:`~gradlab.io.flatten.flatten_state`: the arrays go into the safetensors file, the structure as JSON into its
header metadata (key :data:`TREE_KEY`), so one file holds the whole object.

``load(f, weights_only=True)`` reverses it. gradlab never unpickles, so ``weights_only=True`` (torch's default) is
the only behaviour; ``weights_only=False`` raises a ``ValueError`` that says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..creation import from_numpy
from ..tensor import Tensor
from .atomic import atomic_write_bytes
from .flatten import flatten_state, unflatten_state
from .safetensors import (  # _digest: the checksum gradlab.io.save writes, verified the same way here
    CHECKSUM_KEY,
    ORDER_KEY,
    _digest,
    as_storable_array,
    deserialize_arrays,
    read_safetensors_bytes,
    serialize_arrays,
)

__all__ = ["save", "load", "TREE_KEY"]

TREE_KEY = "gradlab.tree"  #: header metadata entry holding the JSON structure of a nested object

_MAX_FILE_OBJECT_BYTES = 1 << 40


def _is_flat(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping)
        and len(obj) > 0
        and all(isinstance(k, str) for k in obj)
        and all(isinstance(v, (Tensor, np.ndarray)) for v in obj.values())
    )


def _user_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    meta: dict[str, str] = {}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"metadata must map str to str, got {k!r}: {v!r}")
        if k in (ORDER_KEY, CHECKSUM_KEY, TREE_KEY):
            raise ValueError(f"metadata key {k!r} is reserved")
        meta[k] = v
    return meta


def save(obj: Any, f: Any, metadata: Mapping[str, str] | None = None, *, checksum: bool = False,
         pickle_module: Any = None, pickle_protocol: Any = None, **kwargs: Any) -> None:
    """Save ``obj`` (a state dict, or a nested dict/list/tuple holding tensors) to ``f`` (a path or a binary file
    object), in safetensors plus JSON; a path is written atomically. ``metadata`` (str -> str) goes into the
    header; ``checksum=True`` adds a SHA-256 that :func:`load` verifies.

    >>> import io, gradlab
    >>> buf = io.BytesIO()
    >>> gradlab.save({"model": {"w": gradlab.ones(2)}, "epoch": 3}, buf)
    >>> _ = buf.seek(0)
    >>> ck = gradlab.load(buf)
    >>> ck["epoch"], ck["model"]["w"].tolist()
    (3, [1.0, 1.0])
    """
    if pickle_module is not None or pickle_protocol is not None:
        raise ValueError("gradlab.save never pickles: pickle_module and pickle_protocol are not supported")
    kwargs.pop("_use_new_zipfile_serialization", None)
    if kwargs:
        raise TypeError(f"save() got unexpected keyword arguments {sorted(kwargs)}")
    if not hasattr(f, "write") and not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"save() expects a path or a binary file object, got {type(f).__name__}")
    meta = _user_metadata(metadata)
    if _is_flat(obj):
        arrays = {}
        for name, value in obj.items():
            if len(name) > 4 and name.startswith("__") and name.endswith("__"):
                raise ValueError(f"state_dict key {name!r} is reserved by the safetensors format (names like __x__)")
            arrays[name] = as_storable_array(value, name)
    else:
        tree, arrays = flatten_state(obj)
        meta[TREE_KEY] = json.dumps(tree, allow_nan=False)
    meta[ORDER_KEY] = json.dumps(list(arrays))
    if checksum:
        meta[CHECKSUM_KEY] = _digest(arrays, meta)
    blob = serialize_arrays(arrays, meta)
    if hasattr(f, "write"):
        f.write(blob)
    else:
        atomic_write_bytes(f, blob)


def _read(f: Any) -> tuple[bytes, str]:
    if hasattr(f, "read"):
        blob = f.read(_MAX_FILE_OBJECT_BYTES)
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            raise TypeError("load() expects a binary file object (opened with 'rb')")
        return bytes(blob), getattr(f, "name", "<file object>")
    if isinstance(f, (str, os.PathLike)):
        return read_safetensors_bytes(f), os.fspath(f)
    raise TypeError(f"load() expects a path or a binary file object, got {type(f).__name__}")


def load(f: Any, map_location: Any = None, pickle_module: Any = None, *, weights_only: Any = True,
         mmap: Any = None, **kwargs: Any) -> Any:
    """Load what :func:`save` wrote (or any safetensors file) from a path or a binary file object.

    ``map_location`` (a device or device string) moves every tensor there. ``weights_only`` must be True (or None,
    the same): gradlab never unpickles, so there is nothing else to allow.

    >>> import io, gradlab
    >>> gradlab.load(io.BytesIO(b""), weights_only=False)
    Traceback (most recent call last):
    ...
    ValueError: gradlab.load never unpickles: ... (got weights_only=False)
    """
    if weights_only is not None and weights_only is not True:
        raise ValueError(
            "gradlab.load never unpickles: files hold safetensors and JSON only, so weights_only=True is the only "
            f"behaviour (got weights_only={weights_only!r})"
        )
    if pickle_module is not None:
        raise ValueError("gradlab.load never unpickles: pickle_module is not supported")
    kwargs.pop("encoding", None)
    if kwargs:
        raise TypeError(f"load() got unexpected keyword arguments {sorted(kwargs)}")
    if map_location is not None and not isinstance(map_location, str) and type(map_location).__name__ != "device":
        raise TypeError("map_location must be a device or a device string (callables and dicts are not supported)")
    blob, name = _read(f)
    arrays, metadata = deserialize_arrays(blob, name)
    if CHECKSUM_KEY in metadata:  # written with checksum=True: verify it
        if _digest(arrays, metadata) != metadata[CHECKSUM_KEY]:
            raise ValueError(f"{name} does not match its stored SHA-256 (corrupt file)")

    def factory(arr: np.ndarray) -> Tensor:
        t = from_numpy(arr)
        return t if map_location is None else t.to(map_location)

    tree = metadata.get(TREE_KEY)
    if tree is None:
        order = metadata.get(ORDER_KEY)
        names = list(arrays)
        if order is not None:
            try:
                saved = json.loads(order)
            except ValueError:
                saved = None
            if isinstance(saved, list) and sorted(map(str, saved)) == sorted(arrays):
                names = saved
        return {k: factory(arrays[k]) for k in names}
    try:
        doc = json.loads(tree)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{name}: its {TREE_KEY} entry is not valid JSON ({type(e).__name__})") from None
    return unflatten_state(doc, arrays, factory)
