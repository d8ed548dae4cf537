"""Saving and loading without pickle: safetensors files for arrays, JSON for everything else, atomic writes.

* :func:`save` / :func:`load`: a flat ``state_dict`` (name -> Tensor or array) in one safetensors file, like
  ``torch.save(model.state_dict(), path)`` / ``torch.load(path)``.
* :func:`save_checkpoint` / :func:`load_checkpoint`: a whole training checkpoint (model, optimizer and scheduler
  state, epoch, RNG state, extras). Arrays go into a safetensors file, the nested structure into a JSON file that
  names the arrays by key and records the tensor file's SHA-256.
* :func:`flatten_state` / :func:`unflatten_state`: the generic split of nested dicts/lists/tuples holding arrays,
  Tensors, numbers, strings and None into (JSON-able tree, dict of arrays), and back; ints stay ints, floats floats
  (including inf/nan), tuples tuples, dicts with non-string keys keep their keys.

Every file is written to a temporary name in the same directory, flushed and fsync'ed, then moved over the target
with ``os.replace``, so an interrupted save leaves the previous file intact. Nothing is ever unpickled
(``np.load(allow_pickle=True)`` is never used): loading a file cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import struct
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
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
def _encode_float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def flatten_state(obj: Any, prefix: str = "") -> tuple[Any, dict[str, np.ndarray]]:
    """Split a nested structure into a JSON-able tree and a dict of arrays (to store with safetensors).

    Arrays and Tensors become ``{"__ndarray__": key}`` / ``{"__tensor__": key}``; tuples ``{"__tuple__": [...]}``;
    non-finite floats ``{"__float__": "inf"}``; numpy scalars ``{"__scalar__": dtype, "value": ...}``; dicts whose
    keys are not all plain strings ``{"__dict__": [[key, value], ...]}``. Anything else raises ``TypeError``
    naming where it is. :func:`unflatten_state` reverses this exactly.

    >>> import numpy as np
    >>> tree, arrays = flatten_state({"step": 3, "betas": (0.9, 0.999), "state": {0: np.zeros(2)}})
    >>> tree["betas"], sorted(arrays)
    ({'__tuple__': [0.9, 0.999]}, ['state/0'])
    >>> unflatten_state(tree, arrays)["state"][0]
    array([0., 0.])
    """
    Tensor = _tensor_class()
    arrays: dict[str, np.ndarray] = {}

    def key_for(path: str) -> str:
        key = path or "_"
        if key in arrays:
            n = 1
            while f"{key}#{n}" in arrays:
                n += 1
            key = f"{key}#{n}"
        return key

    def enc(x: Any, path: str) -> Any:
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int) and not isinstance(x, bool):
            return int(x)
        if isinstance(x, float):
            return _encode_float(float(x))
        if isinstance(x, Tensor):
            key = key_for(path)
            arrays[key] = _as_array(x, path)
            return {"__tensor__": key}
        if isinstance(x, np.ndarray):
            key = key_for(path)
            arrays[key] = _as_array(x, path)
            return {"__ndarray__": key}
        if isinstance(x, np.generic):
            if x.dtype not in _SUPPORTED_DTYPES:
                raise TypeError(f"cannot store a numpy scalar of dtype {x.dtype} at {path or '<root>'!r}")
            item = x.item()
            value = _encode_float(item) if isinstance(item, float) else item
            if isinstance(item, complex):
                value = [item.real, item.imag]
            return {"__scalar__": x.dtype.str, "value": value}
        if isinstance(x, tuple):
            return {"__tuple__": [enc(v, f"{path}/{i}" if path else str(i)) for i, v in enumerate(x)]}
        if isinstance(x, list):
            return [enc(v, f"{path}/{i}" if path else str(i)) for i, v in enumerate(x)]
        if isinstance(x, Mapping):
            plain = all(isinstance(k, str) and not k.startswith("__") for k in x)
            if plain:
                return {k: enc(v, f"{path}/{k}" if path else k) for k, v in x.items()}
            items = []
            for k, v in x.items():
                if isinstance(k, (Tensor, np.ndarray)) or not _is_hashable_leaf(k):
                    raise TypeError(f"cannot store dict key {k!r} of type {type(k).__name__} at {path or '<root>'!r}")
                items.append([enc(k, path), enc(v, f"{path}/{k}" if path else str(k))])
            return {"__dict__": items}
        raise TypeError(
            f"cannot store an object of type {type(x).__name__} at {path or '<root>'!r} without pickle; "
            "convert it to numbers, strings, lists, dicts or arrays first"
        )

    tree = enc(obj, prefix)
    return tree, arrays


def _is_hashable_leaf(k: Any) -> bool:
    if k is None or isinstance(k, (bool, int, float, str, np.generic)):
        return True
    if isinstance(k, tuple):
        return all(_is_hashable_leaf(v) for v in k)
    return False


def unflatten_state(
    tree: Any, arrays: Mapping[str, np.ndarray], tensor_factory: Callable[[np.ndarray], Any] | None = None
) -> Any:
    """Rebuild the structure :func:`flatten_state` split; ``{"__tensor__": k}`` leaves become
    ``tensor_factory(arrays[k])`` (default :func:`gradlab.from_numpy`), ``{"__ndarray__": k}`` plain arrays."""
    if tensor_factory is None:
        from . import from_numpy

        tensor_factory = from_numpy
    factory: Callable[[np.ndarray], Any] = tensor_factory

    def array(key: str) -> np.ndarray:
        try:
            return arrays[key]
        except KeyError:
            raise ValueError(f"the structure refers to array {key!r}, which is not among the stored arrays") from None

    def dec(x: Any) -> Any:
        if isinstance(x, list):
            return [dec(v) for v in x]
        if not isinstance(x, dict):
            return x
        if len(x) == 1:
            ((tag, val),) = x.items()
            if tag == "__tensor__":
                return factory(array(val))
            if tag == "__ndarray__":
                return array(val)
            if tag == "__tuple__":
                return tuple(dec(v) for v in val)
            if tag == "__float__":
                return float(val)
            if tag == "__dict__":
                return {_freeze(dec(k)): dec(v) for k, v in val}
        if set(x) == {"__scalar__", "value"}:
            dtype = np.dtype(x["__scalar__"])
            value = dec(x["value"])
            if dtype.kind == "c":
                value = complex(*value)
            return dtype.type(value)
        return {k: dec(v) for k, v in x.items()}

    return dec(tree)


def _freeze(k: Any) -> Any:
    return tuple(_freeze(v) for v in k) if isinstance(k, (list, tuple)) else k


# ---------------------------------------------------------------------------------------------- checkpoints
def _checkpoint_paths(path: PathLike, create: bool) -> tuple[Path, str]:
    """(JSON path, tensor-file stem) for a checkpoint at ``path``: a ``.json`` file, else a directory."""
    p = Path(path)
    if p.suffix == ".json":
        if create:
            p.parent.mkdir(parents=True, exist_ok=True)
        return p, p.stem
    if create:
        p.mkdir(parents=True, exist_ok=True)
    return p / "checkpoint.json", "checkpoint"


def save_checkpoint(
    path: PathLike,
    *,
    model_state: Mapping[str, Any],
    optimizer_state: Mapping[str, Any] | None,
    scheduler_state: Mapping[str, Any] | None = None,
    epoch: int | None,
    rng_state: Any,
    extra: Any = None,
) -> Path:
    """Write a full training checkpoint without pickle; returns the path of its JSON file.

    ``path`` is a directory (created if needed; the checkpoint is ``checkpoint.json`` in it) or a ``*.json``
    file name. The arrays (model tensors, optimizer state arrays, any array elsewhere) go into
    ``<stem>.<hash>.safetensors`` beside it; the rest (parameter groups, step counts, scheduler state, epoch,
    RNG state, ``extra``) into the JSON, which names the tensor file, its SHA-256 and its keys.

    The tensor file is written first under a new, content-addressed name, then the JSON replaces the old one
    atomically, then older tensor files are removed: at every moment the JSON on disk names a complete tensor
    file, so an interrupted save leaves the previous checkpoint loadable.

    >>> import os, tempfile, gradlab
    >>> from gradlab.optim import SGD
    >>> w = gradlab.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> w.grad = gradlab.tensor([1.0, 1.0]); opt.step()
    >>> d = os.path.join(tempfile.mkdtemp(), "ckpt")
    >>> _ = save_checkpoint(d, model_state={"w": w}, optimizer_state=opt.state_dict(), epoch=3,
    ...                     rng_state=gradlab.backend.default_generator.get_state())
    >>> ck = load_checkpoint(d)
    >>> ck["epoch"], ck["model_state"]["w"].tolist(), ck["optimizer_state"]["state"][0]["momentum_buffer"]
    (3, [0.8999999761581421, 1.899999976158142], array([1., 1.], dtype=float32))
    """
    json_path, stem = _checkpoint_paths(path, create=True)
    content = {
        "model_state": dict(model_state),
        "optimizer_state": optimizer_state,
        "scheduler_state": scheduler_state,
        "epoch": epoch,
        "rng_state": rng_state,
        "extra": extra,
    }
    tree, arrays = flatten_state(content)
    blob = _serialize(arrays, {"format": _CHECKPOINT_FORMAT})
    digest = hashlib.sha256(blob).hexdigest()
    tensor_name = f"{stem}.{digest[:16]}.safetensors"
    directory = json_path.parent
    atomic_write_bytes(directory / tensor_name, blob)

    doc = {
        "format": _CHECKPOINT_FORMAT,
        "version": _CHECKPOINT_VERSION,
        "tensor_file": tensor_name,
        "sha256": digest,
        "tensor_keys": sorted(arrays),
        "content": tree,
    }
    text = json.dumps(doc, allow_nan=False, indent=1)
    atomic_write_bytes(json_path, text.encode("utf-8"))

    stale = re.compile(re.escape(stem) + r"\.[0-9a-f]{16}\.safetensors")
    for old in directory.glob(f"{stem}.*.safetensors"):  # tensor files of earlier saves, no longer named
        if old.name != tensor_name and stale.fullmatch(old.name):
            try:
                old.unlink()
            except OSError:
                pass
    return json_path


def load_checkpoint(path: PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns a dict with ``model_state`` (name -> Tensor), ``optimizer_state`` and ``scheduler_state`` (as their
    ``state_dict()`` gave them: arrays as numpy arrays, ints as ints, tuples as tuples), ``epoch``, ``rng_state``
    and ``extra``. A missing, corrupt or mismatched tensor file raises ``ValueError`` naming the file.
    """
    json_path, _ = _checkpoint_paths(path, create=False)
    try:
        text = json_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint at {os.fspath(path)!s} (expected {json_path})") from None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ValueError(f"{json_path} is not a valid checkpoint file (corrupt or truncated JSON): {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"{json_path} is not a gradlab checkpoint (no 'format': {_CHECKPOINT_FORMAT!r})")
    if doc.get("version", 0) > _CHECKPOINT_VERSION:
        raise ValueError(f"{json_path} has checkpoint format version {doc['version']}, newer than this gradlab")
    for key in ("tensor_file", "sha256", "tensor_keys", "content"):
        if key not in doc:
            raise ValueError(f"{json_path} is not a valid checkpoint file: missing {key!r}")

    tensor_path = json_path.parent / doc["tensor_file"]
    try:
        blob = _read_bytes(tensor_path)
    except FileNotFoundError:
        raise ValueError(
            f"checkpoint {json_path} names tensor file {tensor_path}, which does not exist "
            "(incomplete copy, or a half-written checkpoint)"
        ) from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != doc["sha256"]:
        raise ValueError(
            f"tensor file {tensor_path} does not match checkpoint {json_path} "
            f"(sha256 {digest[:16]}... instead of {doc['sha256'][:16]}...): corrupt, or from another save"
        )
    arrays, _ = _deserialize(blob, tensor_path)
    if sorted(arrays) != sorted(doc["tensor_keys"]):
        raise ValueError(f"tensor file {tensor_path} does not hold the arrays checkpoint {json_path} lists")
    content = unflatten_state(doc["content"], arrays)
    expected = ("model_state", "optimizer_state", "scheduler_state", "epoch", "rng_state", "extra")
    if not isinstance(content, dict) or any(k not in content for k in expected):
        raise ValueError(f"{json_path} is not a valid checkpoint file: its content lacks {expected}")
    return content
