"""Flat state dicts (name -> Tensor or array) in safetensors files: :func:`save`, :func:`load`, :func:`load_metadata`.

Writes are atomic (:mod:`gradlab.io.atomic`). Reads accept regular files only, and read the 8-byte header length
and the JSON header first: a file whose size does not match what its header describes is refused before its data
is read, so a damaged or hostile file can never make gradlab allocate more than the file's size. Nothing is ever
unpickled (no pickle, no NumPy object arrays). ``save(..., checksum=True)`` adds a SHA-256 of the arrays and the
metadata to the header, which :func:`load` verifies whenever it is present.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import safetensors.numpy as _st

from ..creation import from_numpy
from ..tensor import Tensor
from .atomic import atomic_write_bytes
from .reading import open_regular_file

__all__ = [
    "save",
    "load",
    "load_metadata",
    "load_arrays",
    "read_safetensors_bytes",
    "serialize_arrays",
    "deserialize_arrays",
    "as_storable_array",
    "SUPPORTED_DTYPES",
    "ORDER_KEY",
    "CHECKSUM_KEY",
]

PathLike = str | os.PathLike

ORDER_KEY = "gradlab.key_order"  #: reserved metadata entry: the state dict's key order (safetensors sorts keys)
CHECKSUM_KEY = "gradlab.sha256"  #: reserved metadata entry: the optional digest written by ``save(checksum=True)``
_RESERVED_METADATA = (ORDER_KEY, CHECKSUM_KEY)
_MAX_HEADER = 100_000_000  # the safetensors format's own limit on the JSON header
#: The dtypes safetensors can store.
SUPPORTED_DTYPES = frozenset(
    np.dtype(d)
    for d in (
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
        np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.complex64,
    )
)
_LITTLE = sys.byteorder == "little"


def as_storable_array(value: Any, name: str) -> np.ndarray:
    """The numpy array behind ``value`` (a Tensor or array-like), little-endian, C-contiguous, of a storable dtype.

    ``TypeError`` naming ``name`` for anything else (objects, strings, unsupported dtypes).

    >>> as_storable_array([1.0, 2.0], "w").dtype, as_storable_array(np.arange(3, dtype=">i4"), "b").dtype.str
    (dtype('float64'), '<i4')
    """
    arr = value._data if isinstance(value, Tensor) else value
    if not isinstance(arr, np.ndarray):
        if isinstance(arr, (np.generic, int, float, bool, list, tuple)):
            arr = np.asarray(arr)
        else:
            raise TypeError(f"cannot save {name!r}: expected a Tensor or numpy array, got {type(value).__name__}")
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not _LITTLE):
        arr = arr.astype(arr.dtype.newbyteorder("<"))  # safetensors stores little-endian
    if arr.dtype.newbyteorder("=") not in SUPPORTED_DTYPES:
        raise TypeError(
            f"cannot save {name!r}: dtype {arr.dtype} is not storable in safetensors "
            f"(supported: {', '.join(sorted(str(d) for d in SUPPORTED_DTYPES))})"
        )
    # (np.ascontiguousarray would turn a 0-d array into shape (1,))
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


def serialize_arrays(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding ``arrays`` (see :func:`as_storable_array`) and ``metadata``.

    >>> blob = serialize_arrays({"a": np.ones(2, np.float32)}, {"k": "v"})
    >>> deserialize_arrays(blob, "<memory>")[1]
    {'k': 'v'}
    """
    return _st.save(dict(arrays), metadata=dict(metadata) if metadata is not None else None)


def deserialize_arrays(blob: bytes, path: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Arrays (writable copies) and metadata of a safetensors file's bytes; ``ValueError`` naming ``path`` if bad.

    >>> deserialize_arrays(b"garbage!", "x.safetensors")
    Traceback (most recent call last):
    ...
    ValueError: x.safetensors is not a valid safetensors file (corrupt or truncated?): ...
    """
    try:
        raw = _st.load(blob)
        (n,) = struct.unpack("<Q", blob[:8])
        header = json.loads(blob[8 : 8 + n].decode("utf-8"))
        metadata = header.get("__metadata__") or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise ValueError("its __metadata__ is not a map of strings")
    except Exception as e:  # safetensors raises SafetensorError (an Exception); also bad JSON, struct errors
        raise ValueError(f"{os.fspath(path)!s} is not a valid safetensors file (corrupt or truncated?): {e}") from None
    arrays = {k: np.array(v, copy=True) for k, v in raw.items()}
    return arrays, dict(metadata)


def _bad(path: PathLike, why: str) -> ValueError:
    return ValueError(f"{os.fspath(path)!s} is not a valid safetensors file (corrupt or truncated?): {why}")


def _data_length(header: Any, path: PathLike) -> int:
    """The number of data bytes a parsed safetensors header describes (the largest end offset)."""
    if not isinstance(header, dict):
        raise _bad(path, "its header is not a JSON object")
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if (
            not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
            or offsets[0] > offsets[1]
        ):
            raise _bad(path, f"tensor {key!r} has no valid data_offsets")
        end = max(end, offsets[1])
    return end


def read_safetensors_bytes(path: PathLike) -> bytes:
    """The bytes of the safetensors file at ``path``, read only after its header has been checked against its size.

    ``path`` must be a regular file (``ValueError`` for a FIFO, device or directory; ``FileNotFoundError`` if
    missing). Its header length and data offsets must describe exactly the file's size, else ``ValueError``:
    never more than the file's size is read or allocated.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.safetensors"); save({"a": np.zeros(2)}, p)
    >>> len(read_safetensors_bytes(p)) == os.path.getsize(p)
    True
    """
    with open_regular_file(path) as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        if len(head) < 8:
            raise _bad(path, f"{size} bytes, shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > _MAX_HEADER:
            raise _bad(path, f"header length {n} exceeds the file size ({size} bytes)")
        header_bytes = f.read(n)
        try:
            header = json.loads(header_bytes.decode("utf-8"))
        except (ValueError, RecursionError) as e:
            raise _bad(path, f"its header is not valid JSON ({type(e).__name__})") from None
        expected = 8 + n + _data_length(header, path)
        if expected != size:
            raise _bad(path, f"its header describes {expected} bytes but the file has {size}")
        rest = f.read(size - 8 - n)
        if len(rest) != size - 8 - n:
            raise _bad(path, "the file shrank while being read")
    return head + header_bytes + rest


def _digest(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> str:
    """SHA-256 over the metadata (without the digest itself), every array's name, dtype, shape and bytes."""
    h = hashlib.sha256()
    names = sorted(arrays)
    layout = [[k, np.dtype(arrays[k].dtype).newbyteorder("<").str, list(arrays[k].shape)] for k in names]
    meta = {k: v for k, v in metadata.items() if k != CHECKSUM_KEY}
    h.update(json.dumps({"metadata": meta, "tensors": layout}, sort_keys=True).encode("utf-8"))
    for k in names:
        a = arrays[k]
        if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and not _LITTLE):
            a = a.astype(a.dtype.newbyteorder("<"))
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def save(
    state_dict: Mapping[str, Any],
    path: PathLike,
    metadata: Mapping[str, str] | None = None,
    *,
    checksum: bool = False,
) -> None:
    """Save a flat ``state_dict`` (str -> Tensor or numpy array) to ``path`` in safetensors format, atomically.

    ``metadata`` is an optional ``dict[str, str]`` stored in the file's header (see :func:`load_metadata`).
    Names of the form ``__name__`` (``__metadata__`` is the format's own header entry) and the metadata keys
    ``gradlab.key_order`` / ``gradlab.sha256`` are reserved: ``ValueError``. With ``checksum=True`` a SHA-256 of
    the arrays and metadata goes into the header; :func:`load` verifies it (``ValueError`` on a mismatch).

    >>> import os, tempfile, numpy as np, gradlab
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> save({"w": gradlab.tensor([[1.0, 2.0]]), "steps": np.array([3])}, path, metadata={"note": "demo"})
    >>> sd = load(path)
    >>> list(sd), sd["w"].tolist(), sd["steps"].dtype, load_metadata(path)
    (['w', 'steps'], [[1.0, 2.0]], dtype('int64'), {'note': 'demo'})
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of names to Tensors, got {type(state_dict).__name__}")
    arrays: dict[str, np.ndarray] = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"state_dict keys must be strings, got {name!r} ({type(name).__name__})")
        if len(name) > 4 and name.startswith("__") and name.endswith("__"):
            raise ValueError(f"state_dict key {name!r} is reserved by the safetensors format (names like __x__)")
        arrays[name] = as_storable_array(value, name)
    meta: dict[str, str] = {}
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"metadata must map str to str, got {k!r}: {v!r}")
            if k in _RESERVED_METADATA:
                raise ValueError(f"metadata key {k!r} is reserved")
            meta[k] = v
    meta[ORDER_KEY] = json.dumps(list(arrays))
    if checksum:
        meta[CHECKSUM_KEY] = _digest(arrays, meta)
    atomic_write_bytes(path, serialize_arrays(arrays, meta))


def load_arrays(path: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays (numpy, in saved order) and the user metadata of a safetensors file; the checksum verified.

    A corrupt, truncated or mismatched file raises ``ValueError`` naming it.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.safetensors"); save({"b": np.ones(1), "a": np.zeros(1)}, p)
    >>> arrays, meta = load_arrays(p); list(arrays), meta
    (['b', 'a'], {})
    """
    arrays, metadata = deserialize_arrays(read_safetensors_bytes(path), path)
    stored = metadata.get(CHECKSUM_KEY)
    if stored is not None and _digest(arrays, metadata) != stored:
        raise ValueError(f"{os.fspath(path)!s} does not match its stored SHA-256 (corrupt file)")
    metadata.pop(CHECKSUM_KEY, None)
    order = metadata.pop(ORDER_KEY, None)
    if order is not None:
        try:
            names = json.loads(order)
        except (ValueError, RecursionError):
            names = []
        if isinstance(names, list) and all(isinstance(k, str) for k in names) and sorted(names) == sorted(arrays):
            arrays = {k: arrays[k] for k in names}
    return arrays, metadata


def load(path: PathLike) -> dict[str, Any]:
    """Load a safetensors file written by :func:`save` (or any safetensors file) as a dict name -> Tensor.

    Keys come back in the order they were saved. A corrupt or truncated file raises ``ValueError`` naming it.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.safetensors"); save({"w": np.ones(2)}, p, checksum=True)
    >>> load(p)["w"].tolist()
    [1.0, 1.0]
    """
    arrays, _ = load_arrays(path)
    return {k: from_numpy(v) for k, v in arrays.items()}


def load_metadata(path: PathLike) -> dict[str, str]:
    """The ``metadata`` dict stored by :func:`save` (empty if none).

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.safetensors"); save({"w": np.ones(2)}, p, metadata={"k": "v"})
    >>> load_metadata(p)
    {'k': 'v'}
    """
    _, metadata = load_arrays(path)
    return metadata
