"""Nested state <-> (JSON tree, arrays) flattening and whole training checkpoints (re-exported by :mod:`gradlab.io`)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .io import (
    _CHECKPOINT_FORMAT,
    _CHECKPOINT_VERSION,
    _SUPPORTED_DTYPES,
    PathLike,
    _as_array,
    _deserialize,
    _read_bytes,
    _serialize,
    _tensor_class,
    atomic_write_bytes,
)


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
