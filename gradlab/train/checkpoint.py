"""Saving and restoring weights and full training state, through :mod:`gradlab.io` (safetensors + JSON, atomic).

A training checkpoint (a folder, ``checkpoint/`` in a run) holds the model's and optimizer's state, the scheduler's,
the epoch just finished, the random state (``gradlab.backend.default_generator``, which drives initialisation,
dropout and, without an own generator, shuffling; and the training loader's shuffle generator), the History so
far and the callbacks' counters. Restoring all of it makes a resumed run bit-identical to an uninterrupted one.

>>> import tempfile, os, gradlab
>>> from gradlab import nn
>>> m = nn.Linear(3, 2)
>>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
>>> save_weights(m, path)
>>> m2 = nn.Linear(3, 2)
>>> load_weights(m2, path)
>>> bool((m2.weight.data == m.weight.data).all())
True
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import gradlab
from gradlab import backend
from gradlab import io as gio
from gradlab.train.finite import check_finite

__all__ = [
    "CHECKPOINT_DIRNAME", "save_weights", "load_weights", "load_weights_into", "has_checkpoint",
    "save_training_checkpoint", "load_training_checkpoint", "loader_generator",
]

CHECKPOINT_DIRNAME = "checkpoint"


def save_weights(model: Any, path: str | os.PathLike, check: bool = True) -> None:
    """``model.state_dict()`` to a safetensors file (written atomically; parent folders created).

    ``check``: refuse (FloatingPointError naming the parameter) to save NaN or infinite weights.

    >>> import tempfile
    >>> from gradlab import nn
    >>> tmp = tempfile.TemporaryDirectory()
    >>> save_weights(nn.Linear(2, 3), Path(tmp.name) / "sub" / "w.safetensors")  # the folder is created
    >>> sorted(gio.load(Path(tmp.name) / "sub" / "w.safetensors"))
    ['bias', 'weight']
    >>> bad = nn.Linear(2, 3)
    >>> with gradlab.no_grad():
    ...     _ = bad.bias.fill_(float("nan"))
    >>> save_weights(bad, Path(tmp.name) / "bad.safetensors")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    FloatingPointError: ...bias...
    >>> tmp.cleanup()
    """
    if check:
        check_finite(model, f"when saving {Path(path).name}")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    gio.save(model.state_dict(), path)


def load_weights(model: Any, path: str | os.PathLike, strict: bool = True) -> None:
    """Load a safetensors file written by :func:`save_weights` into ``model``.

    >>> import tempfile
    >>> from gradlab import nn
    >>> a, b = nn.Linear(2, 3), nn.Linear(2, 3)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_weights(a, Path(d) / "w.safetensors")
    ...     load_weights(b, Path(d) / "w.safetensors")
    >>> bool((a.weight == b.weight).all())
    True
    """
    model.load_state_dict(gio.load(path), strict=strict)


def load_weights_into(model: Any, arrays: dict[str, np.ndarray]) -> None:
    """Load a dict of numpy arrays (e.g. a snapshot of ``state_dict``) into ``model``.

    >>> from gradlab import nn
    >>> m = nn.Linear(2, 1)
    >>> load_weights_into(m, {"weight": np.ones((1, 2), np.float32), "bias": np.zeros(1, np.float32)})
    >>> m.weight.tolist(), m.bias.tolist()
    ([[1.0, 1.0]], [0.0])
    """
    model.load_state_dict({k: gradlab.from_numpy(np.array(v, copy=True)) for k, v in arrays.items()})


def has_checkpoint(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a training checkpoint (a folder with ``checkpoint.json``, or that file).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     before = has_checkpoint(d)
    ...     _ = (Path(d) / "checkpoint.json").write_text("{}")
    ...     after = has_checkpoint(d)
    >>> before, after
    (False, True)
    """
    p = Path(path)
    return (p / "checkpoint.json").is_file() if p.suffix != ".json" else p.is_file()


def loader_generator(loader: Any) -> Any:
    """The ``gradlab.Generator`` a loader shuffles with (its own, or its sampler's), or ``None`` (default one).

    >>> from gradlab.data import DataLoader
    >>> g = gradlab.Generator().manual_seed(0)
    >>> loader_generator(DataLoader(list(range(8)), batch_size=4, shuffle=True, generator=g)) is g
    True
    >>> loader_generator(DataLoader(list(range(8)), batch_size=4)) is None
    True
    """
    gen = getattr(loader, "generator", None)
    if gen is None:
        gen = getattr(getattr(loader, "sampler", None), "generator", None)
    return gen if hasattr(gen, "get_state") else None


def save_training_checkpoint(path: str | os.PathLike, state: Any, epoch: int) -> Path:
    """Write the full training state of a running :func:`~gradlab.train.fit` (``state``: its FitState).

    Raises FloatingPointError (naming the parameter, the epoch and the step) instead of saving NaN/inf weights.

    >>> import tempfile
    >>> from gradlab import nn, optim
    >>> from gradlab.train.loop import FitState
    >>> model = nn.Linear(2, 1)
    >>> state = FitState(model=model, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=5)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_training_checkpoint(Path(d) / "ck", state, epoch=2)
    ...     found = has_checkpoint(Path(d) / "ck")
    >>> found
    True
    """
    check_finite(state.model, f"after epoch {epoch + 1} (step {getattr(state, 'step', 0)})")
    gen = loader_generator(state.train_loader)
    rng = {"default": backend.default_generator.get_state(), "loader": gen.get_state() if gen is not None else None}
    extra = {
        "history": state.history.state_dict(),
        "callbacks": state.callbacks.state_dict() if state.callbacks is not None else {},
        "stop_training": bool(state.stop_training),
        "epochs": int(state.epochs),
        "step": int(getattr(state, "step", 0)),
    }
    return gio.save_checkpoint(
        path,
        model_state=state.model.state_dict(),
        optimizer_state=state.optimizer.state_dict(),
        scheduler_state=state.scheduler.state_dict() if state.scheduler is not None else None,
        epoch=int(epoch),
        rng_state=rng,
        extra=extra,
    )


def load_training_checkpoint(path: str | os.PathLike, state: Any) -> int:
    """Restore everything :func:`save_training_checkpoint` wrote into ``state``'s objects; returns its epoch.

    >>> import tempfile
    >>> from gradlab import nn, optim
    >>> from gradlab.train.loop import FitState
    >>> a, b = nn.Linear(2, 1), nn.Linear(2, 1)
    >>> sa = FitState(model=a, optimizer=optim.SGD(a.parameters(), lr=0.1), epochs=5, step=7)
    >>> sb = FitState(model=b, optimizer=optim.SGD(b.parameters(), lr=0.1), epochs=5)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_training_checkpoint(Path(d) / "ck", sa, epoch=2)
    ...     epoch = load_training_checkpoint(Path(d) / "ck", sb)
    >>> epoch, sb.step, bool((a.weight == b.weight).all())
    (2, 7, True)
    """
    ck = gio.load_checkpoint(path)
    gio.remove_stale_tensor_files(path)  # a save killed after its JSON was replaced leaves the old tensor file
    state.model.load_state_dict(ck["model_state"])
    state.optimizer.load_state_dict(ck["optimizer_state"])
    if ck["scheduler_state"] is not None:
        if state.scheduler is None:
            warnings.warn(f"{path}: the checkpoint holds a scheduler state but this run has no scheduler")
        else:
            state.scheduler.load_state_dict(ck["scheduler_state"])
    elif state.scheduler is not None:
        warnings.warn(f"{path}: this run has a scheduler but the checkpoint holds no scheduler state")
    rng = ck["rng_state"] or {}
    if rng.get("default") is not None:
        backend.default_generator.set_state(rng["default"])
    gen = loader_generator(state.train_loader)
    if gen is not None and rng.get("loader") is not None:
        gen.set_state(rng["loader"])
    extra = ck["extra"] or {}
    if "history" in extra:
        state.history.load_state_dict(extra["history"])
    if state.callbacks is not None and extra.get("callbacks"):
        state.callbacks.load_state_dict(extra["callbacks"])
    state.stop_training = bool(extra.get("stop_training", False))
    state.step = int(extra.get("step", 0))
    return int(ck["epoch"])
