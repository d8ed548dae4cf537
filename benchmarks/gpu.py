"""gradlab on a GPU (CuPy): an MNIST MLP epoch against gradlab on the CPU, LeNet-5 and LSTM steps against torch CUDA.

    python benchmarks/gpu.py [--data DIR] [--rounds 3] [--cpu-threads N]

Targets (issue 24): the MLP epoch >= 10x faster on the GPU than gradlab on the CPU; LeNet-5 and LSTM steps within
2x of torch CUDA on the same GPU. Every measurement runs in its own process (a library never shares a process or
the GPU with the other), the order alternating every round; the table shows medians over rounds and the median of
the per-round ratios. GPU times are taken between device synchronisations.

- MLP epoch: 784-512-512-10 ReLU (gradlab.models.MLP), Adam(1e-3), batch 128, shuffled, MNIST's 60,000 training
  images scaled to [0, 1], batches moved by ``DataLoader(..., device="cuda")`` (torch: ``.to("cuda")`` per batch);
  the epoch's mean loss is read once at the end (gradlab on the CPU runs the same loop with ``device="cpu"``).
- LeNet-5: batch 128 of 1x28x28 on the device, Adam(1e-3), zero_grad + forward + cross-entropy + backward + step.
- MLP epoch, data on the GPU: the same, with the training set copied to the GPU once and each shuffled batch
  indexed there (both libraries).
- LSTM: one layer, input 32, hidden 128, batch 64, sequence 50, forward + ``output.sum()`` + backward (torch: cuDNN).

MNIST is read from ``--data`` (or ``$GRADLAB_MNIST``; default ``../shared/datasets/mnist``): the gzip IDX files
``train-images-idx3-ubyte.gz`` and ``train-labels-idx1-ubyte.gz``. Exits with a note (status 0) without a GPU.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "mnist"


# ---- workers (one measurement per process) -----------------------------------------------------------------------
def _mnist(folder: str) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(Path(folder) / "train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
    with gzip.open(Path(folder) / "train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return x, y


def _sync(lib: str, device: str) -> None:
    if device == "cuda":
        if lib == "torch":
            import torch

            torch.cuda.synchronize()
        else:
            import gradlab

            gradlab.cuda.synchronize()


def _resident_batches(lib: str, x, y, device: str):
    """Shuffled batches of 128 indexed on the device (the whole training set lives there)."""
    if lib == "torch":
        import torch

        xd, yd = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)

        def epoch():
            perm = torch.randperm(len(x), device=device)
            for i in range(0, len(x), 128):
                idx = perm[i:i + 128]
                yield xd[idx], yd[idx]
    else:
        import gradlab

        xd, yd = gradlab.tensor(x, device=device), gradlab.tensor(y, device=device)

        def epoch():
            perm = gradlab.randperm(len(x), device=device)
            for i in range(0, len(x), 128):
                idx = perm[i:i + 128]
                yield xd[idx], yd[idx]

    class _Loader:
        def __iter__(self):
            return epoch()

    return _Loader()


def _mlp_epoch(lib: str, device: str, data: str, resident: bool = False) -> dict:
    x, y = _mnist(data)
    if lib == "torch":
        import torch
        from torch import nn

        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                              nn.Linear(512, 10)).to(device)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                             batch_size=128, shuffle=True)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        move = (lambda t: t.to(device, non_blocking=True)) if device == "cuda" else (lambda t: t)
        if resident:
            loader = _resident_batches(lib, x, y, device)
    else:
        import gradlab
        from gradlab import nn
        from gradlab.data import DataLoader, TensorDataset
        from gradlab.models import MLP

        gradlab.manual_seed(0)
        model = MLP(784, hidden=(512, 512), out_features=10).to(device)
        loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True, device=device)
        opt = gradlab.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        if resident:
            loader = _resident_batches(lib, x, y, device)

        def move(t):
            return t

    def run(limit: int | None) -> tuple[float, float]:
        total, n = None, 0
        for i, (xb, yb) in enumerate(loader):
            if limit is not None and i >= limit:
                break
            loss = loss_fn(model(move(xb)), move(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total = loss.detach() if total is None else total + loss.detach()
            n += 1
        return float(total.item()) / n, n

    run(30)  # warm-up: kernels compiled, memory pools filled
    _sync(lib, device)
    t0 = time.perf_counter()
    mean_loss, steps = run(None)
    _sync(lib, device)
    return {"s": time.perf_counter() - t0, "loss": mean_loss, "steps": steps}


def _step_times(step, lib: str, device: str, steps: int, reps: int = 5) -> float:
    for _ in range(5):
        step()
    _sync(lib, device)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        _sync(lib, device)
        times.append((time.perf_counter() - t0) / steps * 1e3)
    return statistics.median(times)


def _lenet5(lib: str, device: str) -> dict:
    rng = np.random.default_rng(0)
    xn, yn = rng.standard_normal((128, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 128)
    if lib == "torch":
        import torch
        from torch import nn

        torch.backends.cudnn.benchmark = True
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                              nn.ReLU(), nn.Linear(84, 10)).to(device)
        x, y = torch.from_numpy(xn).to(device), torch.from_numpy(yn).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
    else:
        import gradlab
        from gradlab import nn
        from gradlab.models import LeNet5

        gradlab.manual_seed(0)
        model = LeNet5().to(device)
        x, y = gradlab.tensor(xn, device=device), gradlab.tensor(yn, device=device)
        opt = gradlab.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return {"ms": _step_times(step, lib, device, 50)}


def _lstm(lib: str, device: str) -> dict:
    xn = np.random.default_rng(0).standard_normal((50, 64, 32), dtype=np.float32)
    if lib == "torch":
        import torch

        torch.manual_seed(0)
        model = torch.nn.LSTM(32, 128).to(device)
        x = torch.from_numpy(xn).to(device)
    else:
        import gradlab

        gradlab.manual_seed(0)
        model = gradlab.nn.LSTM(32, 128).to(device)
        x = gradlab.tensor(xn, device=device)
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        out, _ = model(x)
        out.sum().backward()

    return {"ms": _step_times(step, lib, device, 30)}


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(REPO))
    if args.workload in ("mlp", "mlp-resident"):
        res = _mlp_epoch(args.lib, args.device, args.data, resident=args.workload == "mlp-resident")
    elif args.workload == "lenet5":
        res = _lenet5(args.lib, args.device)
    else:
        res = _lstm(args.lib, args.device)
    print(json.dumps(res))


# ---- driver ------
def _run(workload: str, lib: str, device: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--worker", "--workload", workload, "--lib", lib, "--device", device]
    cmd += ["--data", args.data]
    env = dict(os.environ)
    if device == "cpu":
        env.update({f"{v}_NUM_THREADS": str(args.cpu_threads) for v in ("OMP", "OPENBLAS", "MKL")})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"{workload}/{lib}/{device} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"  {workload} {lib} {device}: {res}", file=sys.stderr, flush=True)
    return res


def _pairs(workload: str, a: tuple[str, str], b: tuple[str, str], key: str, args: argparse.Namespace) -> tuple:
    """Median of a's and b's values and the median of the per-round ratios a/b (alternating order)."""
    va, vb, ratios = [], [], []
    for r in range(args.rounds):
        first, second = (a, b) if r % 2 == 0 else (b, a)
        res = {first: _run(workload, *first, args)[key], second: _run(workload, *second, args)[key]}
        va.append(res[a])
        vb.append(res[b])
        ratios.append(res[a] / res[b])
    return statistics.median(va), statistics.median(vb), statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.environ.get("GRADLAB_MNIST", str(DEFAULT_DATA)))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cpu-rounds", type=int, default=1, help="rounds of the (slow) CPU epoch")
    p.add_argument("--cpu-threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--only", nargs="*", default=["mlp", "mlp-resident", "lenet5", "lstm"])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--workload", help=argparse.SUPPRESS)
    p.add_argument("--lib", help=argparse.SUPPRESS)
    p.add_argument("--device", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    sys.path.insert(0, str(REPO))
    import gradlab

    if not gradlab.cuda.is_available():
        print("benchmarks/gpu.py: no CUDA GPU (or no CuPy): nothing measured. Install gradlab[cuda] on a GPU machine.")
        return 0
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    print(f"GPU: {props['name'].decode()}, CuPy {cupy.__version__}, CPU threads for the CPU side: {args.cpu_threads}")
    rows = []
    if "mlp" in args.only:
        gpu_s = [_run("mlp", "gradlab", "cuda", args)["s"] for _ in range(args.rounds)]
        cpu_s = [_run("mlp", "gradlab", "cpu", args)["s"] for _ in range(args.cpu_rounds)]
        g, c = statistics.median(gpu_s), statistics.median(cpu_s)
        rows.append(("MNIST MLP epoch (s)", f"{g:.3f}", f"gradlab CPU {c:.2f}", f"{c / g:.1f}x faster", ">= 10x"))
        try:
            t_s = statistics.median([_run("mlp", "torch", "cuda", args)["s"] for _ in range(args.rounds)])
            rows.append(("MNIST MLP epoch (s)", f"{g:.3f}", f"torch CUDA {t_s:.3f}",
                         f"{g / t_s:.2f}x torch's time", "(context)"))
        except RuntimeError as e:
            print(f"torch CUDA MLP epoch not measured: {str(e).splitlines()[0]}", file=sys.stderr)
    if "mlp-resident" in args.only:
        try:
            g, t_s, ratio = _pairs("mlp-resident", ("gradlab", "cuda"), ("torch", "cuda"), "s", args)
            rows.append(("MLP epoch, data on the GPU (s)", f"{g:.3f}", f"torch CUDA {t_s:.3f}",
                         f"{ratio:.2f}x torch's time", "(context)"))
            if "mlp" in args.only:
                rows.append(("MLP epoch, data on the GPU (s)", f"{g:.3f}", f"gradlab CPU {c:.2f}",
                             f"{c / g:.1f}x faster",
                             ">= 10x"))
        except RuntimeError as e:
            print(f"resident MLP epoch not measured: {str(e)[:2000]}", file=sys.stderr)
    for name, label in (("lenet5", "LeNet-5 step (ms)"), ("lstm", "LSTM step (ms)")):
        if name in args.only:
            g, t, ratio = _pairs(name, ("gradlab", "cuda"), ("torch", "cuda"), "ms", args)
            rows.append((label, f"{g:.3f}", f"torch CUDA {t:.3f}", f"{ratio:.2f}x torch's time", "<= 2x"))
    print("\n| workload | gradlab GPU | reference | ratio (median of rounds) | target |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
