"""Whole training checkpoints without pickle: :func:`save_checkpoint` and :func:`load_checkpoint`.

A checkpoint is a JSON file (``checkpoint.json`` in a folder, or any ``*.json``) plus one safetensors file beside
it. The JSON holds the nested state (:mod:`gradlab.io.flatten`), the tensor file's bare name, its SHA-256 and its
keys, and (format version 2) ``json_sha256``: the SHA-256 of the document's own canonical form (everything but
that field, ``json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)`` in UTF-8), so a
damaged JSON file is refused instead of loading a silently different state. Version-1 checkpoints (written
before the checksum existed) have no ``json_sha256`` field and still load; a version-2 one must have it.

Loading trusts nothing in the file: every field is type-checked (``ValueError`` naming the file and the field),
the tensor file must be a regular file directly inside the checkpoint's folder, and its size is checked against
its header before it is read.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .atomic import atomic_write_bytes
from .flatten import flatten_state, unflatten_state
from .reading import confined_path, open_regular_file
from .safetensors import deserialize_arrays, read_safetensors_bytes, serialize_arrays

__all__ = [
    "save_checkpoint", "load_checkpoint", "checkpoint_json_path", "remove_stale_tensor_files", "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
]

PathLike = str | os.PathLike

CHECKPOINT_FORMAT = "gradlab-checkpoint"  #: the ``format`` field of every checkpoint JSON
CHECKPOINT_VERSION = 2  #: written by :func:`save_checkpoint`; versions 1 and 2 load
_FIELDS_V1 = {"format", "version", "tensor_file", "sha256", "tensor_keys", "content"}
_CONTENT = ("model_state", "optimizer_state", "scheduler_state", "epoch", "rng_state", "extra")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def checkpoint_json_path(path: PathLike) -> Path:
    """The JSON file of the checkpoint at ``path``: ``path`` itself if it ends in ``.json``, else
    ``path/checkpoint.json``.

    >>> checkpoint_json_path("runs/a/checkpoint").as_posix(), checkpoint_json_path("ck/epoch3.json").as_posix()
    ('runs/a/checkpoint/checkpoint.json', 'ck/epoch3.json')
    """
    p = Path(path)
    return p if p.suffix == ".json" else p / "checkpoint.json"


def _canonical(doc: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "json_sha256"}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


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
    RNG state, ``extra``) into the JSON, which names the tensor file, its SHA-256 and its keys, and carries its
    own checksum.

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
    json_path = checkpoint_json_path(path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    stem = json_path.stem
    content = {
        "model_state": dict(model_state),
        "optimizer_state": optimizer_state,
        "scheduler_state": scheduler_state,
        "epoch": epoch,
        "rng_state": rng_state,
        "extra": extra,
    }
    tree, arrays = flatten_state(content)
    blob = serialize_arrays(arrays, {"format": CHECKPOINT_FORMAT})
    digest = hashlib.sha256(blob).hexdigest()
    tensor_name = f"{stem}.{digest[:16]}.safetensors"
    directory = json_path.parent
    atomic_write_bytes(directory / tensor_name, blob)

    doc: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "tensor_file": tensor_name,
        "sha256": digest,
        "tensor_keys": sorted(arrays),
        "content": tree,
    }
    doc["json_sha256"] = hashlib.sha256(_canonical(doc)).hexdigest()
    text = json.dumps(doc, allow_nan=False, indent=1)
    atomic_write_bytes(json_path, text.encode("utf-8"))

    _remove_tensor_files(json_path, keep=tensor_name)
    return json_path


def _remove_tensor_files(json_path: Path, keep: str) -> list[str]:
    stem, directory = json_path.stem, json_path.parent
    stale = re.compile(re.escape(stem) + r"\.[0-9a-f]{16}\.safetensors")
    removed = []
    for old in sorted(directory.glob(f"{glob.escape(stem)}.*.safetensors")):  # earlier saves' files, unnamed now
        if old.name != keep and stale.fullmatch(old.name):
            try:
                old.unlink()
                removed.append(old.name)
            except OSError:
                pass
    return removed


def remove_stale_tensor_files(path: PathLike) -> list[str]:
    """Remove the tensor files of earlier saves that the checkpoint at ``path`` no longer names; returns their names.

    :func:`save_checkpoint` removes them itself, but a save killed between replacing the JSON and removing the
    old file leaves one behind; a resumed run calls this after loading the checkpoint. Only names of the form
    ``<stem>.<16 hex digits>.safetensors`` are touched, and nothing at all unless the JSON is a valid checkpoint.

    >>> import os, tempfile, gradlab
    >>> d = os.path.join(tempfile.mkdtemp(), "ckpt")
    >>> _ = save_checkpoint(d, model_state={"w": gradlab.ones(2)}, optimizer_state=None, epoch=0, rng_state=None)
    >>> _ = open(os.path.join(d, "checkpoint.0123456789abcdef.safetensors"), "wb").close()
    >>> remove_stale_tensor_files(d), len(os.listdir(d))
    (['checkpoint.0123456789abcdef.safetensors'], 2)
    """
    json_path = checkpoint_json_path(path)
    doc = _read_document(json_path, path)
    _check_document(doc, json_path)
    return _remove_tensor_files(json_path, keep=doc["tensor_file"])


def _read_document(json_path: Path, path: PathLike) -> Any:
    try:
        with open_regular_file(json_path) as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint at {os.fspath(path)!s} (expected {json_path})") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError(f"{json_path} is not a valid checkpoint file: its JSON is nested too deeply") from None
    except ValueError as e:
        raise ValueError(f"{json_path} is not a valid checkpoint file (corrupt or truncated JSON): {e}") from None


def _check_document(doc: Any, json_path: Path) -> None:
    """Type-check the top-level fields of a checkpoint document; ValueError naming the file and the field."""

    def bad(field: str, why: str) -> ValueError:
        return ValueError(f"{json_path} is not a valid checkpoint file: field {field!r} {why}")

    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{json_path} is not a gradlab checkpoint (no 'format': {CHECKPOINT_FORMAT!r})")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad("version", f"must be an integer, got {type(version).__name__}")
    if version > CHECKPOINT_VERSION:
        raise ValueError(f"{json_path} has checkpoint format version {version}, newer than this gradlab")
    if version < 1:
        raise bad("version", f"must be 1 or {CHECKPOINT_VERSION}, got {version}")
    expected = _FIELDS_V1 | ({"json_sha256"} if version >= 2 else set())
    for key in sorted(expected - set(doc)):
        raise bad(key, "is missing")
    for key in sorted(set(doc) - expected):
        raise ValueError(f"{json_path} is not a valid checkpoint file: unexpected field {key[:40]!r}")
    if version >= 2:
        stored = doc["json_sha256"]
        if not isinstance(stored, str) or not _HEX64.fullmatch(stored):
            raise bad("json_sha256", "must be 64 lowercase hex digits")
        try:
            actual = hashlib.sha256(_canonical(doc)).hexdigest()
        except ValueError:  # e.g. a number too large for a float (1e999 parses as inf)
            actual = ""
        if actual != stored:
            raise ValueError(f"{json_path} does not match its own checksum (field 'json_sha256'): corrupt file")
    if not isinstance(doc["tensor_file"], str):
        raise bad("tensor_file", f"must be a string, got {type(doc['tensor_file']).__name__}")
    if not isinstance(doc["sha256"], str) or not _HEX64.fullmatch(doc["sha256"]):
        raise bad("sha256", "must be 64 lowercase hex digits")
    keys = doc["tensor_keys"]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise bad("tensor_keys", "must be a list of strings")


def load_checkpoint(path: PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns a dict with ``model_state`` (name -> Tensor), ``optimizer_state`` and ``scheduler_state`` (as their
    ``state_dict()`` gave them: arrays as numpy arrays, ints as ints, tuples as tuples), ``epoch``, ``rng_state``
    and ``extra``. A damaged JSON (bad syntax, a field of the wrong type, a failed ``json_sha256``), a tensor file
    that is missing, not a regular file inside the folder, corrupt or mismatched raises ``ValueError`` naming the
    file; no checkpoint at all raises ``FileNotFoundError``.

    >>> import os, tempfile
    >>> d = os.path.join(tempfile.mkdtemp(), "ck")
    >>> _ = save_checkpoint(d, model_state={}, optimizer_state=None, epoch=1, rng_state=None, extra={"k": (1, 2)})
    >>> load_checkpoint(d)["extra"]
    {'k': (1, 2)}
    """
    json_path = checkpoint_json_path(path)
    doc = _read_document(json_path, path)
    _check_document(doc, json_path)
    try:
        tensor_path = confined_path(json_path.parent, doc["tensor_file"], what="tensor_file")
    except ValueError as e:
        raise ValueError(f"{json_path} is not a valid checkpoint file: field {e}") from None
    try:
        blob = read_safetensors_bytes(tensor_path)
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
    arrays, _ = deserialize_arrays(blob, tensor_path)
    if sorted(arrays) != sorted(doc["tensor_keys"]):
        raise ValueError(f"tensor file {tensor_path} does not hold the arrays checkpoint {json_path} lists")
    try:
        content = unflatten_state(doc["content"], arrays)
    except ValueError as e:
        raise ValueError(f"{json_path} is not a valid checkpoint file: field 'content' {e}") from None
    if not isinstance(content, dict) or set(content) != set(_CONTENT):
        raise ValueError(f"{json_path} is not a valid checkpoint file: field 'content' must hold exactly {_CONTENT}")
    if not isinstance(content["model_state"], dict) or not all(isinstance(k, str) for k in content["model_state"]):
        raise ValueError(f"{json_path} is not a valid checkpoint file: field 'model_state' must map names to arrays")
    epoch = content["epoch"]
    if epoch is not None and (not isinstance(epoch, int) or isinstance(epoch, bool)):
        raise ValueError(f"{json_path} is not a valid checkpoint file: field 'epoch' must be an integer or null")
    return content
