"""Saving and loading without pickle: safetensors files for arrays, JSON for everything else, atomic writes.

One module per concern, each with its own public surface:

* :mod:`gradlab.io.safetensors`: :func:`save` / :func:`load` / :func:`load_metadata` of a flat ``state_dict``
  (name -> Tensor or array) in one safetensors file, like a PyTorch state_dict but in safetensors format.
* :mod:`gradlab.io.checkpoint`: :func:`save_checkpoint` / :func:`load_checkpoint`, a whole training checkpoint
  (model, optimizer and scheduler state, epoch, RNG state, extras): arrays in a safetensors file, the nested
  structure in a checksummed JSON file that names the arrays by key and records the tensor file's SHA-256.
* :mod:`gradlab.io.flatten`: :func:`flatten_state` / :func:`unflatten_state`, the split of nested
  dicts/lists/tuples of arrays, Tensors, numbers, strings and None into (JSON-able tree, dict of arrays).
* :mod:`gradlab.io.atomic`: :func:`atomic_write_bytes` (temporary file, fsync, ``os.replace``; orphans of killed
  writes are removed at the next write into the folder).
* :mod:`gradlab.io.reading`: regular files only, names confined to their folder.
* :mod:`gradlab.io.torch_style`: ``gradlab.save`` / ``gradlab.load`` with torch's signatures (paths or file objects,
  nested checkpoints in one safetensors file with a JSON tree, ``weights_only=True`` only).

Nothing is ever unpickled (no pickle, no NumPy object arrays): loading a file cannot run code, and a damaged
or hostile file raises ``ValueError`` naming it.

>>> import os, tempfile, gradlab
>>> p = os.path.join(tempfile.mkdtemp(), "m.safetensors")
>>> gradlab.io.save({"w": gradlab.ones(2)}, p); gradlab.io.load(p)["w"].tolist()
[1.0, 1.0]
"""

from .atomic import atomic_write_bytes, remove_orphan_temp_files, save_figure
from .checkpoint import checkpoint_json_path, load_checkpoint, remove_stale_tensor_files, save_checkpoint
from .flatten import flatten_state, unflatten_state
from .reading import confined_path, open_regular_file
from .safetensors import load, load_arrays, load_metadata, save

__all__ = [
    "save",
    "load",
    "load_metadata",
    "load_arrays",
    "save_checkpoint",
    "load_checkpoint",
    "checkpoint_json_path",
    "remove_stale_tensor_files",
    "flatten_state",
    "unflatten_state",
    "atomic_write_bytes",
    "save_figure",
    "remove_orphan_temp_files",
    "open_regular_file",
    "confined_path",
]
