"""``gradlab train --distributed``: :func:`run_training_distributed`, the data-parallel twin of
:func:`~gradlab.train.experiment.run_training`, for ``mpirun -n N gradlab train ... --distributed``.

It is :func:`~gradlab.train.experiment.run_training` with a
:class:`~gradlab.train.experiment.ParallelPlan`, so both share the checks (all made before the folder is touched,
by every rank, which agree on the outcome: a failed check raises on every rank and nobody waits), the run-folder
rules, the strict JSON files and the divergence guard. Every rank loads the dataset, builds the model from the
same config, and trains on its shard
(a :class:`~gradlab.data.DistributedSampler` with the run's seed) with a
:class:`~gradlab.nn.parallel.DistributedDataParallel` model; ``config['batch_size']`` stays the *global* batch, so
each rank takes ``batch_size / N`` samples per step and N ranks follow the same recipe as one process. Rank 0
alone writes the run folder (config, checkpoint, weights, history, curves, results), in the format of a
one-process run, plus ``distributed.json`` with N: ``--resume`` must use the same N, since the shards and the
per-rank batch depend on it. ``on_nan`` is ``"raise"`` only: ``"stop"`` and ``"skip-batch"`` decide on one
rank's loss, and the other ranks would wait for it.

>>> from gradlab import distributed as dist
>>> import tempfile
>>> rng = np.random.default_rng(0); x = rng.standard_normal((64, 1, 2, 2)).astype(np.float32)
>>> from gradlab.train.experiment import register_dataset
>>> register_dataset("tiny-doc", lambda train=True, root=None: (x, (x[:, 0, 0, 0] > 0).astype(np.int64),
...                  {"input_shape": [1, 2, 2], "num_classes": 2}))
>>> from gradlab.train.experiment import make_config
>>> cfg = make_config(dataset="tiny-doc", model="mlp", hidden=(8,), epochs=2, batch_size=16, seed=0)
>>> with tempfile.TemporaryDirectory() as d:
...     res = run_training_distributed(cfg, d, progress=False, log=None)
>>> res["world_size"], res["epochs"]
(1, 2)
>>> dist.destroy_process_group(); from gradlab.train.experiment import DATASETS; _ = DATASETS.pop("tiny-doc")
"""
from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradlab.data import DistributedSampler
from gradlab.distributed import process_group as pg
from gradlab.nn.parallel import DistributedDataParallel
from gradlab.tensor import Tensor
from gradlab.train.checkpoint import CHECKPOINT_DIRNAME, has_checkpoint
from gradlab.train.distributed import fit_distributed
from gradlab.train.experiment import ParallelPlan, run_training
from gradlab.train.jsonfile import read_json, write_json

__all__ = ["run_training_distributed", "DISTRIBUTED_FILENAME", "OtherRankFailed"]

DISTRIBUTED_FILENAME = "distributed.json"


class OtherRankFailed(RuntimeError):
    """The checks before training failed on another rank (which reports its own error); raised on this one so that
    every rank stops together.

    >>> isinstance(OtherRankFailed("rank 1 failed"), RuntimeError)
    True
    """


class _Agreed(Exception):
    """Carries the error each rank raises after the ranks agreed that the checks failed (no MPI abort needed)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


@contextlib.contextmanager
def _agree() -> Iterator[None]:
    """Run the checks, then tell every rank which ranks failed: rank 0 (or, if rank 0 passed, a failing rank)
    raises its own error, the others :class:`OtherRankFailed`; all leave before anything is written."""
    error: BaseException | None = None
    try:
        yield
    except Exception as e:  # noqa: BLE001 - every check's error is shared, then raised again
        error = e
    mine = Tensor._make(np.array([0.0 if error is None else 1.0]), False)
    failed = [Tensor._make(np.zeros(1), False) for _ in range(pg.get_world_size())]
    pg.all_gather(failed, mine)
    ranks = [r for r, f in enumerate(failed) if f._data[0]]
    if not ranks:
        return
    if error is not None and (pg.get_rank() == 0 or 0 not in ranks):
        raise _Agreed(error)
    raise _Agreed(OtherRankFailed(f"the checks before training failed on rank(s) {ranks} (see the error there)"))


def _check_resume(out: Path, world: int, resume: bool) -> None:
    """``--resume`` of a data-parallel run continues with the number of ranks it was trained on."""
    info = out / DISTRIBUTED_FILENAME
    if not (resume and has_checkpoint(out / CHECKPOINT_DIRNAME)):
        return
    if not info.is_file():
        raise ValueError(f"{out}: its checkpoint comes from a one-process run (no {DISTRIBUTED_FILENAME}); "
                         "resume it without --distributed")
    saved = read_json(info)
    saved = saved.get("world_size") if isinstance(saved, dict) else None
    if saved != world:
        raise ValueError(f"{out} was trained on {saved} ranks; resume it with the same number (mpiexec -n {saved}), "
                         f"not {world}: the shards and the per-rank batch depend on it")


def run_training_distributed(
    config: dict[str, Any], out: str | os.PathLike, data_dir: str | None = None, resume: bool = False,
    progress: bool = True, log: Callable[[str], None] | None = print, callbacks: Sequence[Any] = (),
    check_weights: bool = False, backend: str | None = None, on_nan: str = "raise", overwrite: bool = False,
) -> dict[str, Any]:
    """Train as ``config`` says on every rank of the job (starting the process group if none is); returns the
    results on every rank (test loss/accuracy, timing, ``comm_time_s``, ``rank``, ``world_size``).

    ``check_weights``: compare a hash of the weights over the ranks after every epoch (a debug mode).
    ``backend``: for :func:`~gradlab.distributed.init_process_group` (``"mpi"`` from the command line, so a
    missing mpi4py is an error naming the install; ``None``: MPI under a launcher, else one process).
    ``resume``, ``overwrite``, ``on_nan`` (``"raise"`` only), ``callbacks``: as
    :func:`~gradlab.train.experiment.run_training`'s.

    A failed check before training raises on every rank (its own error, or :class:`OtherRankFailed`). After
    that, an exception on any rank aborts the whole job (:func:`~gradlab.distributed.abort_on_failure`), even
    when the caller catches it: the other ranks would otherwise wait for this one forever.

    >>> from gradlab.train.experiment import make_config
    >>> run_training_distributed(make_config(), "out", on_nan="stop")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: on_nan='stop' is not available in a data-parallel run (...): use 'raise'
    >>> from gradlab import distributed as dist
    >>> dist.destroy_process_group()  # the one-process group the call started
    """
    if not pg.is_initialized():
        pg.init_process_group(backend)
    rank, world = pg.get_rank(), pg.get_world_size()
    out = Path(out)
    bs = int(config.get("batch_size", 0))

    @contextlib.contextmanager
    def checks() -> Iterator[None]:
        with _agree():
            if on_nan != "raise":
                raise ValueError(f"on_nan={on_nan!r} is not available in a data-parallel run (it would decide on "
                                 "one rank's loss while the others wait): use 'raise'")
            _check_resume(out, world, resume)
            yield

    def wrap(model: Any) -> Any:
        ddp = DistributedDataParallel(model)  # broadcasts rank 0's weights
        pg.comm_seconds(reset=True)  # from here on: training's communication
        return ddp

    def on_start(folder: Path) -> None:
        write_json(folder / DISTRIBUTED_FILENAME, {"world_size": world, "per_rank_batch_size": bs // world})

    plan = ParallelPlan(
        world_size=world, main=rank == 0,
        sampler=lambda ds: DistributedSampler(ds, world, rank, shuffle=True, seed=int(config["seed"]) + 1),
        wrap_model=wrap, fit=functools.partial(fit_distributed, check_weights=check_weights),
        checks=checks, barrier=pg.barrier, on_start=on_start,
        extra_results=lambda: {"comm_time_s": pg.comm_seconds(), "world_size": world},
        note=f", over {world} rank(s) (batch {bs // max(world, 1)} per rank, {bs} global)",
    )
    agreed: _Agreed | None = None
    with pg.abort_on_failure():
        try:
            results = run_training(config, out, data_dir=data_dir, resume=resume, progress=progress, log=log,
                                   callbacks=callbacks, on_nan=on_nan, overwrite=overwrite, plan=plan)
        except _Agreed as e:  # every rank leaves here together: no rank waits, no abort
            agreed = e
    if agreed is not None:
        raise agreed.error from None
    return {**results, "rank": rank}
