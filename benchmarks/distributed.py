"""Data-parallel training over MPI: MNIST MLP at global batch 256 on 1 and 2 ranks, Allreduce on loopback, and a
speed-up model for 8, 64 and 256 ranks.

    python benchmarks/distributed.py                  # everything (a few minutes on 2 cores)
    python benchmarks/distributed.py --epochs 2 --limit 20000

Parts, each in its own processes:
1. ``mpiexec -n 2`` Allreduce ping: the fastest and the median time of an in-place float32 ``MPI_Allreduce`` from
   8 B to 16 MB; least squares over the fastest gives the latency ``alpha`` and the bandwidth ``beta`` of
   ``t = alpha + bytes / beta`` (the medians on 2 shared, busy cores are dominated by a busy-polling rank waiting
   for the other to be scheduled, milliseconds, and say more about the machine than about MPI).
2. Compute per step (forward + backward + Adam) of the MLP and LeNet-5 at batches 32 and 256, one process.
3. Training: one plain process (``run_training``), then ``mpiexec -n 1`` and ``-n 2`` of
   ``run_training_distributed`` with the same config and global batch: per-epoch times (max over ranks), the share
   of training time spent in collectives on rank 0 (``gradlab.distributed.comm_seconds``: includes waiting for
   the slower rank), and the test accuracy against the one-process run (target: within 0.2 points).
4. The model (docs/distributed.md): ring Allreduce ``2 (P-1) alpha + 2 (P-1)/P * bytes / beta`` against
   ``compute(b) = c0 + b * c1`` per step, strong scaling at global batch 256 and weak scaling at 256 per rank.

The table goes to stdout and ``benchmarks/results/distributed.md``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # this checkout's gradlab

CONFIG = dict(dataset="mnist", model="mlp", hidden=(512, 512), activation="relu", dropout=0.2, optimizer="adam",
              lr=1e-3, batch_size=256, scheduler="cosine", val_split=0.0, seed=0)


def _mpiexec() -> str:
    local = Path(sys.executable).parent / "mpiexec"
    if local.is_file():
        return str(local)
    import shutil

    found = shutil.which("mpiexec")
    if found is None:
        sys.exit("no mpiexec: pip install 'gradlab[mpi]'")
    return found


def _launch(n: int, role: list[str]) -> list[dict]:
    exe = _mpiexec()
    cmd = [exe, "-n", str(n)]
    if "Open MPI" in subprocess.run([exe, "--version"], capture_output=True, text=True).stdout:
        cmd += ["--oversubscribe", "--allow-run-as-root"]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(cmd + [sys.executable, __file__, *role], capture_output=True, text=True, env=env)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd + role)} failed:\n{proc.stdout}\n{proc.stderr}")
    return [json.loads(line[5:]) for line in proc.stdout.splitlines() if line.startswith("JSON ")]


# ---------------------------------------------------------------- roles run inside the launched processes
def role_allreduce() -> None:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rows = []
    for nbytes in [8 * 4**k for k in range(11)] + [16 * 2**20]:
        buf = np.ones(nbytes // 4, dtype=np.float32)
        reps = max(5, min(200, int(2e7 // max(nbytes, 1))))
        times = []
        for _ in range(reps):
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            times.append(time.perf_counter() - t0)
        med = comm.allreduce(statistics.median(times), op=MPI.MAX)
        best = comm.allreduce(min(times), op=MPI.MAX)
        rows.append({"bytes": nbytes, "seconds": best, "median": med})
    if comm.rank == 0:
        print("JSON " + json.dumps({"allreduce": rows, "ranks": comm.size}))


def role_train(epochs: int, limit: int | None, data_dir: str | None, plain: bool) -> None:
    import tempfile

    from gradlab.train.distributed_run import run_training_distributed
    from gradlab.train.experiment import make_config, run_training

    cfg = make_config(**CONFIG, epochs=epochs, limit=limit)
    with tempfile.TemporaryDirectory() as out:
        if plain:
            res = run_training(cfg, out, data_dir=data_dir, progress=False, log=None)
            res.update(rank=0, world_size=0, comm_time_s=0.0)
        else:
            res = run_training_distributed(cfg, out, data_dir=data_dir, progress=False, log=None)
    if res["rank"] == 0:
        hist = res.pop("history").history
        print("JSON " + json.dumps({**res, "epoch_times": hist["time"]}))


def role_compute() -> None:
    import gradlab
    from gradlab import nn, optim
    from gradlab.models import build_model

    rows = {}
    for name, kwargs, shape in [("mlp", dict(in_features=784, hidden=(512, 512), out_features=10), (784,)),
                                ("lenet5", dict(num_classes=10), (1, 28, 28))]:
        model = build_model(name, **kwargs)
        opt = optim.Adam(model.parameters(), lr=1e-3)
        nparams = sum(p.numel() for p in model.parameters())
        for batch in (32, 256):
            x = gradlab.randn(batch, *shape)
            y = gradlab.from_numpy(np.random.default_rng(0).integers(0, 10, batch))
            times = []
            for _ in range(12):
                t0 = time.perf_counter()
                opt.zero_grad()
                nn.CrossEntropyLoss()(model(x), y).backward()
                opt.step()
                times.append(time.perf_counter() - t0)
            rows[f"{name}@{batch}"] = statistics.median(times[2:])
        rows[f"{name}_params"] = nparams
    print("JSON " + json.dumps(rows))


# ---------------------------------------------------------------- the model
def fit_alpha_beta(rows: list[dict], nbytes: float) -> tuple[float, float]:
    """Latency ``alpha`` (the fastest 8-byte Allreduce) and the bandwidth ``beta`` (bytes/s) at the message size
    ``nbytes``, from the fastest 2-rank times interpolated in log-log: a 2-rank ring takes ``2 alpha + n / beta``.

    One bandwidth for all sizes would mislead: on this machine messages that fit in the caches move several times
    faster than a 2.7 MB gradient.
    """
    b = np.array([r["bytes"] for r in rows], dtype=np.float64)
    t = np.array([r["seconds"] for r in rows])
    alpha = float(t[np.argmin(b)]) / 2
    t_n = float(np.exp(np.interp(np.log(nbytes), np.log(b), np.log(t))))
    return alpha, nbytes / max(t_n - 2 * alpha, 1e-9)


def ring_allreduce(p: int, nbytes: float, alpha: float, beta: float) -> float:
    return 0.0 if p == 1 else 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes / beta


def speedups(c32: float, c256: float, nbytes: float, alpha: float, beta: float) -> list[tuple[int, float, float, int]]:
    """(P, strong-scaling speed-up at global batch 256, weak-scaling efficiency at 256 per rank, break-even batch)."""
    c1 = (c256 - c32) / (256 - 32)
    c0 = max(c256 - 256 * c1, 0.0)
    out = []
    for p in (2, 8, 64, 256):
        comm = ring_allreduce(p, nbytes, alpha, beta)
        strong = c256 / (c0 + 256 / p * c1 + comm)
        weak = c256 / (c256 + comm)
        breakeven = int(np.ceil(max(comm - c0, 0.0) / c1)) if c1 > 0 else 0  # per-rank batch where compute = comm
        out.append((p, strong, weak, breakeven))
    return out


def _training_table(common: list[str], env: dict) -> list[str]:
    plain = json.loads(subprocess.run([sys.executable, __file__, "--role", "train", "--plain", *common],
                                      capture_output=True, text=True, env=env, check=True).stdout.split("JSON ")[1])
    runs = {0: plain}
    for n in (1, 2):
        runs[n] = _launch(n, ["--role", "train", *common])[0]
    lines = ["## MNIST MLP 784-512-512-10, Adam + cosine, global batch 256 (1 BLAS thread per process)", "",
             "| run | median epoch (s) | collectives share | test accuracy | vs one process (points) |",
             "| --- | --- | --- | --- | --- |"]
    for n, label in ((0, "one process (fit)"), (1, "1 rank (DDP)"), (2, "2 ranks (DDP)")):
        r = runs[n]
        share = r["comm_time_s"] / r["train_time_s"] if r["train_time_s"] else 0.0
        diff = 100 * (r["test_accuracy"] - plain["test_accuracy"])
        lines.append(f"| {label} | {statistics.median(r['epoch_times']):.2f} | {100 * share:.1f}% | "
                     f"{100 * r['test_accuracy']:.2f}% | {diff:+.2f} |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--role", choices=["allreduce", "train", "compute"])
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None, help="train on the first N images")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--skip-training", action="store_true", help="only the Allreduce ping, compute and model")
    args = ap.parse_args()
    if args.role == "allreduce":
        role_allreduce()
        return 0
    if args.role == "train":
        role_train(args.epochs, args.limit, args.data_dir, args.plain)
        return 0
    if args.role == "compute":
        role_compute()
        return 0

    common = ["--epochs", str(args.epochs)] + (["--limit", str(args.limit)] if args.limit else []) + (
        ["--data-dir", args.data_dir] if args.data_dir else [])
    pings = [_launch(2, ["--role", "allreduce"])[0]["allreduce"] for _ in range(3)]  # fastest of 3 launches
    ar = [{"bytes": rs[0]["bytes"], "seconds": min(r["seconds"] for r in rs),
           "median": statistics.median(r["median"] for r in rs)} for rs in zip(*pings)]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    comp = json.loads(subprocess.run([sys.executable, __file__, "--role", "compute"], capture_output=True, text=True,
                                     env=env, check=True).stdout.split("JSON ", 1)[1])
    lines = [f"# Data-parallel training (benchmarks/distributed.py), {datetime.date.today()}, "
             f"{platform.machine()}, {os.cpu_count()} cores (shared), {args.epochs} epochs"
             + (f" on {args.limit} images" if args.limit else ""), ""]
    if not args.skip_training:
        lines += _training_table(common, env)

    lines += ["", "## Allreduce on loopback, 2 ranks (fastest of 3 launches; median of their medians)", "",
              "| bytes | fastest (us) | median (us) |", "| --- | --- | --- |"]
    lines += [f"| {r['bytes']} | {1e6 * r['seconds']:.1f} | {1e6 * r['median']:.1f} |" for r in ar]
    lines += ["", "## Model: ring Allreduce vs compute per step (speed-up over one process)", "",
              "| model | gradient | alpha (us) | beta (GB/s) | step @32 (ms) | step @256 (ms) | P | strong @256 global "
              "| weak eff. @256/rank | per-rank batch where compute = comm |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in ("mlp", "lenet5"):
        nbytes = 4 * comp[f"{name}_params"]
        alpha, beta = fit_alpha_beta(ar, nbytes)
        for p, strong, weak, be in speedups(comp[f"{name}@32"], comp[f"{name}@256"], nbytes, alpha, beta):
            lines.append(f"| {name} | {nbytes / 1e6:.2f} MB | {1e6 * alpha:.1f} | {beta / 1e9:.2f} | "
                         f"{1e3 * comp[f'{name}@32']:.1f} | {1e3 * comp[f'{name}@256']:.1f} | {p} | {strong:.2f}x | "
                         f"{100 * weak:.0f}% | {be} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = HERE / "results" / "distributed.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
