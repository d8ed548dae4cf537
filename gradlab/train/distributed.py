"""Data-parallel training with :func:`~gradlab.train.fit`: :func:`fit_distributed` and its callback.

:func:`fit_distributed` runs ``fit`` on every rank of the default process group with a
:class:`~gradlab.nn.parallel.DistributedDataParallel` model and a loader over a
:class:`~gradlab.data.DistributedSampler`. It calls the sampler's ``set_epoch`` every epoch, averages the epoch logs
over the ranks (so ``History``, early stopping and schedulers see the same numbers everywhere and decide alike), and
leaves printing, checkpoints and plots to rank 0: on the other ranks the progress bar and ``ModelCheckpoint`` are
replaced by a silent stand-in (the callback list keeps its order, so a checkpoint's callback states line up).
With ``check_weights=True`` a hash of the weights is compared over the ranks after every epoch.

>>> import gradlab
>>> from gradlab import distributed as dist, nn, optim
>>> from gradlab.data import DataLoader, DistributedSampler, TensorDataset
>>> from gradlab.nn.parallel import DistributedDataParallel
>>> dist.init_process_group("self"); _ = gradlab.manual_seed(0)
>>> X = gradlab.randn(32, 2); y = (X[:, 0] > 0).long(); ds = TensorDataset(X, y)
>>> model = DistributedDataParallel(nn.Linear(2, 2))
>>> loader = DataLoader(ds, batch_size=8, sampler=DistributedSampler(ds))
>>> h = fit_distributed(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader, epochs=2,
...                     progress=False, check_weights=True)
>>> len(h.history["loss"])
2
>>> dist.destroy_process_group()
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from gradlab.distributed import process_group as pg
from gradlab.tensor import Tensor
from gradlab.train.base import Callback
from gradlab.train.callbacks import ModelCheckpoint
from gradlab.train.loop import fit
from gradlab.train.reporting import ProgressBar

__all__ = ["is_main_process", "weights_digest", "DistributedCallback", "fit_distributed"]

_MAIN_ONLY = (ProgressBar, ModelCheckpoint)


def is_main_process() -> bool:
    """True on rank 0 (and in a process with no process group).

    >>> is_main_process()
    True
    """
    return pg.get_rank() == 0


def weights_digest(model: Any) -> bytes:
    """SHA-256 over the model's state dict (names, dtypes, shapes and bytes), 32 bytes.

    >>> from gradlab import nn
    >>> len(weights_digest(nn.Linear(2, 2)))
    32
    """
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        arr = np.ascontiguousarray(t._data if isinstance(t, Tensor) else t)
        h.update(f"{name}:{arr.dtype.str}:{arr.shape};".encode())
        h.update(arr.tobytes())
    return h.digest()


class _Silent(Callback):
    """Stands in on ranks other than 0 for a callback that only rank 0 runs (keeps the list's order)."""

    def __init__(self, wrapped: Callback) -> None:
        self.wrapped = wrapped


class DistributedCallback(Callback):
    """``set_epoch`` on the training sampler, the epoch logs averaged over the ranks, an optional weight check.

    Put it first, so the callbacks after it see the averaged logs (:func:`fit_distributed` does).

    >>> cb = DistributedCallback(check_weights=True)
    >>> cb.check_weights
    True
    """

    def __init__(self, check_weights: bool = False) -> None:
        self.check_weights = check_weights

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        sampler: Any = getattr(getattr(self.state, "train_loader", None), "sampler", None)
        set_epoch = getattr(sampler, "set_epoch", None)
        if set_epoch is not None:
            set_epoch(epoch)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if pg.get_world_size() == 1 or logs is None:
            self._check(epoch)
            return
        keys = sorted(k for k, v in logs.items() if isinstance(v, (int, float)) and k not in ("time", "lr"))
        if keys:
            vals = Tensor._make(np.array([float(logs[k]) for k in keys]), False)
            pg.all_reduce(vals, pg.ReduceOp.AVG)
            logs.update(zip(keys, vals._data.tolist()))
        if "time" in logs:
            t = Tensor._make(np.array([float(logs["time"])]), False)
            pg.all_reduce(t, pg.ReduceOp.MAX)
            logs["time"] = float(t._data[0])
        self._check(epoch)

    def _check(self, epoch: int) -> None:
        if not self.check_weights or self.state is None:
            return
        mine = Tensor._make(np.frombuffer(weights_digest(self.state.model), dtype=np.uint8).copy(), False)
        if pg.get_world_size() == 1:
            return
        parts = [Tensor._make(np.empty_like(mine._data), False) for _ in range(pg.get_world_size())]
        pg.all_gather(parts, mine)
        differ = [r for r, p in enumerate(parts) if not np.array_equal(p._data, parts[0]._data)]
        if differ:
            raise RuntimeError(f"after epoch {epoch + 1} the weights of rank(s) {differ} differ from rank 0's "
                               "(DistributedDataParallel should keep them identical)")


def fit_distributed(model: Any, loss_fn: Any, optimizer: Any, train_loader: Iterable,
                    val_loader: Iterable | None = None, epochs: int = 1, callbacks: Sequence[Callback] | None = None,
                    *, progress: bool = True, check_weights: bool = False,
                    checkpoint_dir: str | os.PathLike | None = None, **fit_kwargs: Any) -> Any:
    """:func:`~gradlab.train.fit` on every rank; returns the History (the same, averaged, on every rank).

    ``model`` should be a ``DistributedDataParallel`` and ``train_loader``'s sampler a ``DistributedSampler``;
    ``checkpoint_dir`` is written by rank 0 only (``resume_from`` is read by every rank). Other keyword
    arguments go to ``fit`` unchanged.

    >>> callable(fit_distributed)
    True
    """
    main = is_main_process()
    cbs: list[Callback] = [DistributedCallback(check_weights)]
    user = list(callbacks or [])
    if progress and not any(isinstance(c, ProgressBar) for c in user):
        user.insert(0, ProgressBar())
    for c in user:
        cbs.append(c if main or not isinstance(c, _MAIN_ONLY) else _Silent(c))
    return fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=epochs, callbacks=cbs, progress=False,
               checkpoint_dir=checkpoint_dir if main else None, **fit_kwargs)
