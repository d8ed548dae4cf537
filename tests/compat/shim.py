"""Run a PyTorch-style program with ``import torch`` resolving to gradlab (or to torch), for the compat suite.

The program is plain torch code in a string. :func:`run_program` executes it with an ``__import__`` that maps each
module name ``torch.X`` to ``gradlab.X`` (``torch`` -> ``gradlab``, ``torch.nn.functional`` ->
``gradlab.nn.functional``, ``torch.utils.data`` -> ``gradlab.utils.data``, ...), without touching ``sys.modules``
(real torch runs in the same process as the reference). The program's globals:

- ``INIT``: name -> numpy array, the shared initial weights (filled by the torch run, read by the gradlab run);
- ``load_init(model, prefix='')``: loads ``INIT`` (its entries under ``prefix``) into ``model``, drawing any
  missing entry from a generator seeded by its name, as a default initialisation would, so that every program
  starts from the same weights on both libraries;
- ``DATA``: name -> numpy array; ``LOSSES``: where the program appends its losses.
"""

from __future__ import annotations

import builtins
import importlib
import math
import zlib
from typing import Any

import numpy as np

SPECIAL = {"torch.utils.data": "gradlab.utils.data"}
UNMAPPED = ("torch.distributed", "torch.cuda.amp", "torch.multiprocessing", "torchvision")


def gradlab_name(name: str) -> str:
    """The gradlab module a torch module name maps to."""
    if name in SPECIAL:
        return SPECIAL[name]
    if name.startswith(UNMAPPED):
        raise ImportError(f"the compat shim has no mapping for {name}")
    return "gradlab" + name[len("torch"):]


def _importer(lib: str) -> Any:
    real = builtins.__import__

    def imp(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if lib == "gradlab" and (name == "torch" or name.startswith("torch.")):
            target = gradlab_name(name)
            try:
                module = importlib.import_module(target)
            except ModuleNotFoundError as e:
                raise ImportError(f"the compat shim has no mapping for {name} ({e})") from None
            return module if fromlist else importlib.import_module("gradlab")
        return real(name, globals, locals, fromlist, level)

    return imp


def _draw(name: str, shape: tuple, dtype: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked" or dtype.startswith("int"):
        return np.zeros(shape, dtype=np.int64)
    if leaf == "running_var":
        return np.ones(shape, dtype=np.float32)
    if leaf == "running_mean":
        return np.zeros(shape, dtype=np.float32)
    fan_in = math.prod(shape[1:]) if len(shape) > 1 else max(shape[0] if shape else 1, 1)
    bound = 1.0 / math.sqrt(fan_in)
    a = rng.uniform(-bound, bound, shape)
    if len(shape) == 1 and leaf == "weight":  # norm layers' scales
        a = 1.0 + a * 0.1
    return a.astype(np.float32 if "float32" in dtype else np.float64)


def _load_init(init: dict, lib: Any) -> Any:
    def load_init(model: Any, prefix: str = "") -> Any:
        state = model.state_dict()
        for k, v in state.items():
            if prefix + k not in init:
                init[prefix + k] = _draw(prefix + k, tuple(v.shape), str(v.dtype))
        model.load_state_dict({k: lib.tensor(init[prefix + k].copy()) for k in state})
        return model

    return load_init


def run_program(source: str, lib: str, init: dict, data: dict) -> list[float]:
    """Execute ``source`` against ``lib`` ("torch" or "gradlab") and return its ``LOSSES``."""
    env_builtins = dict(vars(builtins))
    env_builtins["__import__"] = _importer(lib)
    module = importlib.import_module(lib)
    ns: dict[str, Any] = {"__builtins__": env_builtins, "INIT": init, "DATA": data, "LOSSES": [],
                          "load_init": _load_init(init, module), "__name__": "__compat__"}
    exec(compile(source, f"<compat program on {lib}>", "exec"), ns)
    return [float(x) for x in ns["LOSSES"]]
