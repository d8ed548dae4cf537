"""``gradlab train --distributed``: :func:`run_training_distributed`, the data-parallel twin of
:func:`~gradlab.train.experiment.run_training`, for ``mpirun -n N gradlab train ... --distributed``.

Every rank loads the dataset, builds the model from the same config, and trains on its shard
(a :class:`~gradlab.data.DistributedSampler` with the run's seed) with a
:class:`~gradlab.nn.parallel.DistributedDataParallel` model; ``config['batch_size']`` stays the *global* batch, so
each rank takes ``batch_size / N`` samples per step and N ranks follow the same recipe as one process. Rank 0
alone writes the run folder (config, checkpoint, weights, history, curves, results), in the format of a
one-process run, plus ``distributed.json`` with N: ``--resume`` must use the same N, since the shards and the
per-rank batch depend on it.

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

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.data import DataLoader, DistributedSampler, TensorDataset, random_split
from gradlab.distributed import process_group as pg
from gradlab.nn.parallel import DistributedDataParallel
from gradlab.tensor import Tensor
from gradlab.train.checkpoint import CHECKPOINT_DIRNAME, has_checkpoint, save_weights
from gradlab.train.distributed import fit_distributed
from gradlab.train.experiment import _write_json, build_from_config, build_optimizer, build_scheduler, load_dataset
from gradlab.train.loop import evaluate

__all__ = ["run_training_distributed", "DISTRIBUTED_FILENAME"]

DISTRIBUTED_FILENAME = "distributed.json"


def _check_resume(out: Path, world: int, resume: bool) -> None:
    info = out / DISTRIBUTED_FILENAME
    if not (resume and has_checkpoint(out / CHECKPOINT_DIRNAME)):
        return
    if not info.is_file():
        raise ValueError(f"{out}: its checkpoint comes from a one-process run (no {DISTRIBUTED_FILENAME}); "
                         "resume it without --distributed")
    saved = json.loads(info.read_text()).get("world_size")
    if saved != world:
        raise ValueError(f"{out} was trained on {saved} ranks; resume it with the same number (mpirun -n {saved}), "
                         f"not {world}: the shards and the per-rank batch depend on it")


def run_training_distributed(
    config: dict[str, Any], out: str | os.PathLike, data_dir: str | None = None, resume: bool = False,
    progress: bool = True, log: Callable[[str], None] | None = print, callbacks: Sequence[Any] = (),
    check_weights: bool = False, backend: str | None = None,
) -> dict[str, Any]:
    """Train as ``config`` says on every rank of the job (starting the process group if none is); returns the
    results on every rank (test loss/accuracy, timing, ``rank``, ``world_size``).

    ``check_weights``: compare a hash of the weights over the ranks after every epoch (a debug mode).
    ``backend``: for :func:`~gradlab.distributed.init_process_group` (``"mpi"`` from the command line, so a
    missing mpi4py is an error naming the install; ``None``: MPI under a launcher, else one process).

    An exception on any rank aborts the whole job (:func:`~gradlab.distributed.abort_on_failure`), even when the
    caller catches it: the other ranks would otherwise wait for this one forever.
    """
    if not pg.is_initialized():
        pg.init_process_group(backend)
    with pg.abort_on_failure():
        return _run(config, Path(out), data_dir, resume, progress, log, callbacks, check_weights)


def _run(config: dict[str, Any], out: Path, data_dir: str | None, resume: bool, progress: bool,
         log: Callable[[str], None] | None, callbacks: Sequence[Any], check_weights: bool) -> dict[str, Any]:
    rank, world = pg.get_rank(), pg.get_world_size()
    main = rank == 0
    say = log if (log is not None and main) else (lambda s: None)
    bs = int(config["batch_size"])
    if bs % world:
        raise ValueError(f"batch_size {bs} (the global batch) must be divisible by the {world} ranks")
    _check_resume(out, world, resume)
    if main:
        out.mkdir(parents=True, exist_ok=True)
        _write_json(out / "config.json", config)
        _write_json(out / DISTRIBUTED_FILENAME, {"world_size": world, "per_rank_batch_size": bs // world})
    gradlab.manual_seed(config["seed"])
    x, y, info = load_dataset(config["dataset"], train=True, root=data_dir, limit=config.get("limit"))
    full = TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy(y))
    n_val = int(round(len(full) * float(config.get("val_split") or 0.0)))
    train_ds: Any = full
    val_ds: Any = None
    if n_val > 0:
        train_ds, val_ds = random_split(full, [len(full) - n_val, n_val], generator=gradlab.Generator(config["seed"]))
    sampler = DistributedSampler(train_ds, world, rank, shuffle=True, seed=int(config["seed"]) + 1)
    train_loader = DataLoader(train_ds, batch_size=bs // world, sampler=sampler)
    val_loader = DataLoader(val_ds, batch_size=1000) if val_ds is not None else None
    model = build_from_config(config, info)
    ddp = DistributedDataParallel(model)
    optimizer = build_optimizer(config["optimizer"], ddp.parameters(), config["lr"], config.get("momentum", 0.0),
                                config.get("weight_decay", 0.0))
    scheduler = build_scheduler(config.get("scheduler"), optimizer, config["epochs"], len(train_loader), config["lr"])
    loss_fn = nn.CrossEntropyLoss()
    ckpt = out / CHECKPOINT_DIRNAME
    resume_from = ckpt if resume and has_checkpoint(ckpt) else None
    if resume and resume_from is None:
        say(f"no checkpoint in {ckpt}: starting from scratch")
    say(f"training {config['model']} on {config['dataset']} over {world} rank(s): {len(sampler)} of {len(train_ds)} "
        f"train samples per rank, batch {bs // world} per rank ({bs} global), {config['epochs']} epochs"
        + (f", resuming from {resume_from}" if resume_from else ""))
    pg.comm_seconds(reset=True)
    t0 = time.perf_counter()
    history = fit_distributed(ddp, loss_fn, optimizer, train_loader, val_loader, epochs=config["epochs"],
                              callbacks=list(callbacks), scheduler=scheduler, checkpoint_dir=ckpt,
                              resume_from=resume_from, progress=progress, check_weights=check_weights,
                              clip_grad_norm=config.get("clip_grad_norm"))
    train_time = time.perf_counter() - t0
    comm = pg.comm_seconds()
    test = np.zeros(2)
    if main:
        save_weights(model, out / "weights.safetensors")
        history.to_json(out / "history.json")
        if len(history):
            history.plot(out / "curves.png", title=f"{config['model']} on {config['dataset']} ({world} ranks)")
        xt, yt, _ = load_dataset(config["dataset"], train=False, root=data_dir)
        res = evaluate(model, loss_fn, DataLoader(TensorDataset(gradlab.from_numpy(xt), gradlab.from_numpy(yt)),
                                                  batch_size=1000))
        test[:] = res["loss"], res["accuracy"]
    pg.broadcast(Tensor._make(test, False), src=0)
    results = {"test_loss": float(test[0]), "test_accuracy": float(test[1]), "epochs": len(history),
               "train_time_s": train_time, "comm_time_s": comm, "rank": rank, "world_size": world,
               "history": history}
    if main:
        _write_json(out / "results.json", {k: v for k, v in results.items() if k not in ("history", "rank")})
    pg.barrier()
    return results
