"""Run a PyTorch-style program with ``import torch`` resolving to gradlab (or to torch), for the compat suite.

The program is plain torch code in a string. :func:`run_program` executes it with an ``__import__`` that maps
``torch`` -> ``gradlab``, ``torch.nn`` -> ``gradlab.nn``, ``torch.nn.functional`` -> ``gradlab.nn.functional``,
``torch.optim`` -> ``gradlab.optim`` and ``torch.utils.data`` -> ``gradlab.data``, without touching ``sys.modules``
(real torch runs in the same process as the reference). The program's globals ``INIT`` (name -> numpy array, the
shared initial weights) and ``DATA`` (name -> numpy array) are given; it leaves its losses in ``LOSSES``.
"""

from __future__ import annotations

import builtins
import importlib
from typing import Any

MAPPING = {
    "torch": "gradlab",
    "torch.nn": "gradlab.nn",
    "torch.nn.functional": "gradlab.nn.functional",
    "torch.optim": "gradlab.optim",
    "torch.utils.data": "gradlab.data",
    "torch.autograd": "gradlab.autograd",
}


def _importer(lib: str) -> Any:
    real = builtins.__import__

    def imp(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if lib == "gradlab" and (name == "torch" or name.startswith("torch.")):
            if name not in MAPPING:
                raise ImportError(f"the compat shim has no mapping for {name}")
            if fromlist:
                return importlib.import_module(MAPPING[name])
            importlib.import_module(MAPPING[name])
            return importlib.import_module("gradlab")
        return real(name, globals, locals, fromlist, level)

    return imp


def run_program(source: str, lib: str, init: dict, data: dict) -> list[float]:
    """Execute ``source`` against ``lib`` ("torch" or "gradlab") and return its ``LOSSES``."""
    env_builtins = dict(vars(builtins))
    env_builtins["__import__"] = _importer(lib)
    ns: dict[str, Any] = {"__builtins__": env_builtins, "INIT": init, "DATA": data, "LOSSES": []}
    exec(compile(source, f"<compat program on {lib}>", "exec"), ns)
    return [float(x) for x in ns["LOSSES"]]
