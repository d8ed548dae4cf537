"""Run by the tests under ``mpiexec -n 2``: ``python mpi_worker.py MODE OUTDIR`` (each rank writes rank<R>.npz)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import gradlab
from gradlab import distributed as dist
from gradlab import nn, optim
from gradlab.nn.parallel import DistributedDataParallel


def make_model(seed: int) -> nn.Module:
    gradlab.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3)).double()


def make_bn_model(seed: int, sync: bool) -> nn.Module:
    gradlab.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3)).double()
    if sync:
        from gradlab.nn import SyncBatchNorm

        model = SyncBatchNorm.convert_sync_batchnorm(model)
    return model


def batches(steps: int, global_batch: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    return [(rng.standard_normal((global_batch, 5)), rng.integers(0, 3, global_batch)) for _ in range(steps)]


def ddp_steps(out: Path) -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    model = DistributedDataParallel(make_model(seed=rank), bucket_cap_mb=0.0005)  # several tiny buckets
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for x, y in batches(steps=4, global_batch=8 * size):
        part = slice(rank * 8, (rank + 1) * 8)
        opt.zero_grad()
        loss_fn(model(gradlab.from_numpy(x[part])), gradlab.from_numpy(y[part])).backward()
        opt.step()
    arrays = {k: v._data for k, v in model.module.state_dict().items()}
    np.savez(out / f"rank{rank}.npz", buckets=np.array(len(model._buckets)), **arrays)


def syncbn_steps(out: Path) -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    model = DistributedDataParallel(make_bn_model(seed=rank, sync=True))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches(steps=4, global_batch=6 * size):
        part = slice(rank * 6, (rank + 1) * 6)
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(gradlab.from_numpy(x[part])), gradlab.from_numpy(y[part])).backward()
        opt.step()
    np.savez(out / f"rank{rank}.npz", **{k: v._data for k, v in model.module.state_dict().items()})


def fit_run(out: Path) -> None:
    from gradlab.data import DataLoader, DistributedSampler, TensorDataset
    from gradlab.train.distributed import fit_distributed

    rank = dist.get_rank()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((90, 5))
    y = (x[:, 0] > 0).astype(np.int64)
    ds = TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy(y))
    model = DistributedDataParallel(make_model(seed=rank))
    loader = DataLoader(ds, batch_size=10, sampler=DistributedSampler(ds, seed=1))
    hist = fit_distributed(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), loader,
                           epochs=3, progress=True, check_weights=True, checkpoint_dir=out / "ckpt")
    arrays = {k: v._data for k, v in model.module.state_dict().items()}
    np.savez(out / f"rank{rank}.npz", loss=np.array(hist.history["loss"]), **arrays)


def raise_on_rank1(out: Path) -> None:
    if dist.get_rank() == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.barrier()  # rank 0 would wait here forever without the abort
    (out / "rank0-passed-barrier").write_text("bad")


def caught(out: Path) -> None:
    """Rank 1 fails inside abort_on_failure; its caller catches the error and exits 4, as a CLI would."""
    try:
        with dist.abort_on_failure():
            if dist.get_rank() == 1:
                raise ValueError("rank 1 fails on purpose")
    except ValueError:
        sys.exit(4)
    dist.barrier()
    (out / "rank0-passed-barrier").write_text("bad")


def engine(out: Path, epochs: int = 2, resume: bool = False) -> None:
    """The ``gradlab train --distributed`` engine on a small registered dataset."""
    from gradlab.train.distributed_run import run_training_distributed
    from gradlab.train.experiment import make_config, register_dataset

    rng = np.random.default_rng(5)
    x = rng.standard_normal((120, 1, 3, 3)).astype(np.float32)
    y = (x[:, 0, 0, 0] + x[:, 0, 1, 1] > 0).astype(np.int64)
    register_dataset("tiny", lambda train=True, root=None: (x, y, {"input_shape": [1, 3, 3], "num_classes": 2}))
    cfg = make_config(dataset="tiny", model="mlp", hidden=(16,), epochs=epochs, batch_size=20, seed=3,
                      optimizer="adam", lr=0.01, val_split=0.2)
    res = run_training_distributed(cfg, out, resume=resume, progress=False, check_weights=True)
    if res["rank"] == 0:
        print(f"test accuracy {res['test_accuracy']:.4f}")


if __name__ == "__main__":
    mode, outdir = sys.argv[1], Path(sys.argv[2])
    dist.init_process_group("mpi")
    if mode.startswith("engine"):  # engine:EPOCHS[:resume]
        parts = mode.split(":")
        engine(outdir, int(parts[1]), resume=parts[-1] == "resume")
    else:
        modes = {"ddp_steps": ddp_steps, "syncbn": syncbn_steps, "fit": fit_run, "raise": raise_on_rank1,
                 "caught": caught}
        modes[mode](outdir)
    dist.barrier()
    dist.destroy_process_group()
