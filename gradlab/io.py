"""Saving and loading without pickle: safetensors files for arrays, JSON for everything else, atomic writes.

* :func:`save` / :func:`load`: a flat ``state_dict`` (name -> Tensor or array) in one safetensors file, like
  saving and loading a state_dict in PyTorch, but in safetensors format.
* :func:`save_checkpoint` / :func:`load_checkpoint`: a whole training checkpoint (model, optimizer and scheduler
  state, epoch, RNG state, extras). Arrays go into a safetensors file, the nested structure into a JSON file that
  names the arrays by key and records the tensor file's SHA-256.
* :func:`flatten_state` / :func:`unflatten_state`: the generic split of nested dicts/lists/tuples holding arrays,
  Tensors, numbers, strings and None into (JSON-able tree, dict of arrays), and back; ints stay ints, floats floats
  (including inf/nan), tuples tuples, dicts with non-string keys keep their keys.

Every file is written to a temporary name in the same directory, flushed and fsync'ed, then moved over the target
with ``os.replace``, so an interrupted save leaves the previous file intact. Nothing is ever unpickled
(no pickle, no NumPy object arrays): loading a file cannot run code.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import safetensors.numpy as _st

__all__ = [
    "save",
    "load",
    "load_metadata",
    "save_checkpoint",
    "load_checkpoint",
    "flatten_state",
    "unflatten_state",
    "atomic_write_bytes",
]

PathLike = str | os.PathLike

_ORDER_KEY = "gradlab.key_order"  # reserved metadata entry: the state dict's key order (safetensors sorts keys)
_CHECKPOINT_FORMAT = "gradlab-checkpoint"
_CHECKPOINT_VERSION = 1
_SUPPORTED_DTYPES = frozenset(
    np.dtype(d)
    for d in (
        np.float16,
        np.float32,
        np.float64,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
        np.bool_,
        np.complex64,
    )
)


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
_LITTLE = sys.byteorder == "little"


# ---------------------------------------------------------------------------------------------- atomic writes
def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory, fsync, ``os.replace``.

    If anything fails (or the process dies) before the replace, ``path`` keeps its old content and the temporary
    file is removed (on an exception) or left as an unmistakable ``.<name>.*.tmp`` (on a crash).

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> atomic_write_bytes(os.path.join(d, "x.bin"), b"abc")
    >>> open(os.path.join(d, "x.bin"), "rb").read(), os.listdir(d)
    (b'abc', ['x.bin'])
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


# ---------------------------------------------------------------------------------------------- arrays
def _tensor_class() -> Any:
    from .tensor import Tensor

    return Tensor


def _as_array(value: Any, name: str) -> np.ndarray:
    """The numpy array behind ``value`` (a Tensor or array-like), C-contiguous and of a storable dtype."""
    Tensor = _tensor_class()
    arr = value.data if isinstance(value, Tensor) else value
    if not isinstance(arr, np.ndarray):
        if isinstance(arr, (np.generic, int, float, bool, list, tuple)):
            arr = np.asarray(arr)
        else:
            raise TypeError(f"cannot save {name!r}: expected a Tensor or numpy array, got {type(value).__name__}")
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not _LITTLE):
        arr = arr.astype(arr.dtype.newbyteorder("<"))  # safetensors stores little-endian
    if arr.dtype.newbyteorder("=") not in _SUPPORTED_DTYPES:
        raise TypeError(
            f"cannot save {name!r}: dtype {arr.dtype} is not storable in safetensors "
            f"(supported: {', '.join(sorted(str(d) for d in _SUPPORTED_DTYPES))})"
        )
    # (np.ascontiguousarray would turn a 0-d array into shape (1,))
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


def _serialize(arrays: dict[str, np.ndarray], metadata: dict[str, str] | None) -> bytes:
    return _st.save(arrays, metadata=metadata)


def _header_metadata(blob: bytes) -> dict[str, str]:
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    return dict(header.get("__metadata__") or {})


def _deserialize(blob: bytes, path: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Arrays (writable copies) and metadata of a safetensors file's bytes; ValueError naming ``path`` if bad."""
    try:
        raw = _st.load(blob)
        metadata = _header_metadata(blob)
    except Exception as e:  # safetensors raises SafetensorError (an Exception); also bad JSON, struct errors
        raise ValueError(f"{os.fspath(path)!s} is not a valid safetensors file (corrupt or truncated?): {e}") from None
    arrays = {k: np.array(v, copy=True) for k, v in raw.items()}
    return arrays, metadata


def _read_bytes(path: PathLike) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def save(state_dict: Mapping[str, Any], path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Save a flat ``state_dict`` (str -> Tensor or numpy array) to ``path`` in safetensors format, atomically.

    ``metadata`` is an optional ``dict[str, str]`` stored in the file's header (see :func:`load_metadata`).

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
        arrays[name] = _as_array(value, name)
    meta: dict[str, str] = {}
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"metadata must map str to str, got {k!r}: {v!r}")
            if k == _ORDER_KEY:
                raise ValueError(f"metadata key {_ORDER_KEY!r} is reserved")
            meta[k] = v
    meta[_ORDER_KEY] = json.dumps(list(arrays))
    atomic_write_bytes(path, _serialize(arrays, meta))


def _load_arrays(path: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    arrays, metadata = _deserialize(_read_bytes(path), path)
    order = metadata.pop(_ORDER_KEY, None)
    if order is not None:
        try:
            names = json.loads(order)
        except ValueError:
            names = []
        if sorted(names) == sorted(arrays):
            arrays = {k: arrays[k] for k in names}
    return arrays, metadata


def load(path: PathLike) -> dict[str, Any]:
    """Load a safetensors file written by :func:`save` (or any safetensors file) as a dict name -> Tensor.

    Keys come back in the order they were saved. A corrupt or truncated file raises ``ValueError`` naming it.
    """
    from . import from_numpy

    arrays, _ = _load_arrays(path)
    return {k: from_numpy(v) for k, v in arrays.items()}


def load_metadata(path: PathLike) -> dict[str, str]:
    """The ``metadata`` dict stored by :func:`save` (empty if none)."""
    _, metadata = _load_arrays(path)
    return metadata


# ---------------------------------------------------------------------------------------------- nested state


# The nested-state flattening and whole checkpoints live in io_checkpoint (imported last: it uses the above).
from .io_checkpoint import (  # noqa: E402, F401
    _checkpoint_paths,
    _encode_float,
    _freeze,
    _is_hashable_leaf,
    flatten_state,
    load_checkpoint,
    save_checkpoint,
    unflatten_state,
)
