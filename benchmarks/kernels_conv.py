"""The conv-side kernels of ``gradlab.kernels`` (max-pool 2x2, col2im, BatchNorm), NumPy against numba.

    python benchmarks/kernels_conv.py                 # all three parts
    python benchmarks/kernels_conv.py --part kernels  # per op, in this process: numpy vs numba paths, alternating
    python benchmarks/kernels_conv.py --part steps    # gradlab's LeNet-5/conv3x3 steps, numpy vs numba, one process
    python benchmarks/kernels_conv.py --part models   # LeNet-5 and conv3x3 steps vs torch (harness.py processes)
    python benchmarks/kernels_conv.py --part startup  # first use of all the kernels, fresh process, temp cache

Per-op figures time the op's own forward/backward (``gradlab.ops``) under ``kernels.use("numpy")`` and
``kernels.use("numba")``, alternating the two sets call by call, and print the medians and their ratio. The model
part runs ``benchmarks/harness.py`` once per library per round, as ``benchmarks/run.py`` does, with
``GRADLAB_KERNELS`` set in the environment for the two gradlab sides, and reports medians of the per-process medians.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

__all__ = ["bench_kernels", "bench_steps", "bench_models", "bench_startup", "bench_first_step", "main"]


class _Ctx:
    """A stand-in for the autograd context: enough for calling an op's forward and backward directly."""

    def __init__(self, n_inputs: int) -> None:
        self.needs_input_grad = (True,) * n_inputs
        self._saved: tuple = ()

    def save_for_backward(self, *arrays: Any) -> None:
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        return self._saved


def _op_cases() -> list[tuple[str, Callable[[], Callable[[], Any]]]]:
    from gradlab.ops import nn as ops_nn
    from gradlab.ops import pooling
    from gradlab.ops._im2col import _col2im

    rng = np.random.default_rng(0)

    def f32(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    def pool(shape: tuple) -> Callable[[], Any]:
        x = f32(*shape)
        g = f32(shape[0], shape[1], shape[2] // 2, shape[3] // 2)

        def run() -> None:
            ctx = _Ctx(1)
            pooling.MaxPool2d.forward(ctx, x, (2, 2), (2, 2), (0, 0), (1, 1), False)
            pooling.MaxPool2d.backward(ctx, g)

        return run

    def col2im_strided() -> Callable[[], Any]:  # 3x3 stride 2 pad 1, 64 channels, 32x32 -> 16x16, batch 32
        cols = f32(64 * 9, 32 * 16 * 16)
        return lambda: _col2im(cols, (32, 64, 32, 32), 3, 3, (2, 2), (1, 1, 1, 1), (1, 1), 16, 16)

    def bn(shape: tuple) -> Callable[[], Any]:
        x, g = f32(*shape), f32(*shape)
        w, b = f32(shape[1]), f32(shape[1])
        rm, rv = np.zeros(shape[1], np.float32), np.ones(shape[1], np.float32)

        def run() -> None:
            ctx = _Ctx(3)
            ops_nn.BatchNorm.forward(ctx, x, w, b, rm, rv, True, 0.1, 1e-5)
            ops_nn.BatchNorm.backward(ctx, g)

        return run

    return [
        ("max-pool 2x2 fwd+bwd (128,6,28,28)", lambda: pool((128, 6, 28, 28))),
        ("max-pool 2x2 fwd+bwd (128,16,10,10)", lambda: pool((128, 16, 10, 10))),
        ("max-pool 2x2 fwd+bwd (32,64,32,32)", lambda: pool((32, 64, 32, 32))),
        ("col2im strided 3x3/2 (32,64,32,32)", col2im_strided),
        ("batch norm fwd+bwd (128,64,16,16)", lambda: bn((128, 64, 16, 16))),
        ("batch norm fwd+bwd (32,64,32,32)", lambda: bn((32, 64, 32, 32))),
        ("batch norm fwd+bwd (256,512)", lambda: bn((256, 512))),
        ("batch norm fwd+bwd (128,64)", lambda: bn((128, 64))),
    ]


def _alternate(run: Callable[[], Any], reps: int, warm: int) -> dict[str, float]:
    """Median ms of ``run`` on each kernel set, ``warm`` untimed calls on each first (they compile), then ``reps``
    timed calls each, alternating call by call (who goes first swaps every round)."""
    from gradlab import kernels

    times: dict[str, list[float]] = {"numpy": [], "numba": []}
    for kset in times:
        with kernels.use(kset):
            for _ in range(warm):
                run()
    for r in range(reps):
        for kset in ("numpy", "numba") if r % 2 == 0 else ("numba", "numpy"):
            with kernels.use(kset):
                t0 = time.perf_counter()
                run()
                times[kset].append((time.perf_counter() - t0) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def bench_kernels(reps: int = 21) -> list[dict]:
    """Per op: median ms on each kernel set, alternating call by call (after a warm-up that compiles)."""

    rows = []
    for name, make in _op_cases():
        med = _alternate(make(), reps, warm=2)
        rows.append({"op": name, **med, "speedup": med["numpy"] / med["numba"]})
        print(f"{name:40s} numpy {med['numpy']:8.3f} ms  numba {med['numba']:8.3f} ms  "
              f"x{med['numpy'] / med['numba']:.2f}", flush=True)
    return rows


def _harness(workload: str, lib: str, kset: str | None, threads: int) -> float:
    """Median step ms of one harness process (``run.run_once``), ``kset`` its GRADLAB_KERNELS."""
    sys.path.insert(0, str(HERE))
    from run import run_once

    res = run_once(workload, lib, None, threads, kset)
    if "median_ms" not in res:
        raise RuntimeError(f"{workload} {lib} {kset}: {res}")
    return float(res["median_ms"])


def bench_models(rounds: int = 5, threads: int = 2, workloads: tuple = ("lenet5", "conv3x3")) -> list[dict]:
    """Per workload: medians over rounds of torch, gradlab-numpy and gradlab-numba step times (rotating order)."""
    sides = [("torch", "torch", None), ("numpy", "gradlab", "numpy"), ("numba", "gradlab", "numba")]
    rows = []
    for wl in workloads:
        _harness(wl, "gradlab", "numba", threads)  # fills the on-disk numba cache before timing
        times: dict[str, list[float]] = {s[0]: [] for s in sides}
        for r in range(rounds):
            for label, lib, kset in sides[r % 3:] + sides[:r % 3]:
                times[label].append(_harness(wl, lib, kset, threads))
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"workload": wl, **med})
        print(f"{wl:10s} torch {med['torch']:7.2f} ms  gradlab-numpy {med['numpy']:7.2f} ms "
              f"({med['numpy'] / med['torch']:.2f}x)  gradlab-numba {med['numba']:7.2f} ms "
              f"({med['numba'] / med['torch']:.2f}x)", flush=True)
    return rows


def bench_steps(workloads: tuple = ("lenet5", "conv3x3"), reps: int = 15) -> list[dict]:
    """gradlab's own step on both kernel sets in one process, alternating step by step (robust to machine load
    drifting, unlike separate processes): medians and ratio."""

    sys.path.insert(0, str(HERE))
    import importlib

    rows = []
    for wl in workloads:
        med = _alternate(importlib.import_module(f"workloads.{wl}").setup_gradlab(), reps, warm=3)
        rows.append({"workload": wl, **med})
        print(f"{wl:10s} in one process, alternating: numpy {med['numpy']:7.2f} ms  numba {med['numba']:7.2f} ms "
              f"(numba/numpy {med['numba'] / med['numpy']:.3f})", flush=True)
    return rows


_STARTUP = """
import time, numpy as np
t0 = time.perf_counter()
import gradlab
from gradlab import kernels
from gradlab.kernels import conv, norm
t1 = time.perf_counter()
c1 = time.process_time()
with kernels.use("numba"):
    x = np.ones((2, 3, 4, 4), np.float32)
    out, arg = conv.max_pool2x2(x)
    conv.max_pool2x2_backward(out, arg, x.shape)
    conv.col2im(np.ones((3 * 4, 2 * 2 * 2), np.float32), (2, 3, 4, 4), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (2, 2))
    o, m, v, s = norm.batch_norm_train(x, np.ones(3, np.float32), np.zeros(3, np.float32), 1e-5)
    norm.batch_norm_train_backward(o, x, m, s, np.ones(3, np.float32))
print(t1 - t0, time.perf_counter() - t1, time.process_time() - c1)
"""


_FIRST_STEP = """
import sys, time
sys.path[:0] = [{bench!r}, {root!r}]
from workloads import lenet5
step = lenet5.setup_gradlab()
t0, c0 = time.perf_counter(), time.process_time()
step()
t1, c1 = time.perf_counter(), time.process_time()
step()
print(t1 - t0, c1 - c0, time.perf_counter() - t1)
"""


def bench_first_step(runs: int = 3) -> dict:
    """LeNet-5's first training step in a fresh process (the kernels a model really uses: 2x2 max-pool forward and
    backward), on numpy, and on numba uncached / cached; the second step for scale."""
    code = _FIRST_STEP.format(bench=str(HERE), root=str(ROOT))
    res: dict[str, list[float]] = {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            for label, kset in (("numpy", "numpy"), ("numba uncached", "numba"), ("numba cached", "numba")):
                env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT), GRADLAB_KERNELS=kset)
                out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                     check=True).stdout.split()
                for key, v in zip(("", " cpu", " second step"), out):
                    res.setdefault(label + key, []).append(float(v))
    med = {k: statistics.median(v) for k, v in res.items()}
    print("LeNet-5 first step: " + "; ".join(
        f"{lab} {med[lab]:.2f} s ({med[lab + ' cpu']:.2f} s CPU)" for lab in ("numpy", "numba uncached",
                                                                             "numba cached"))
        + f"; a later step {med['numpy second step'] * 1e3:.0f} ms (median of {runs})", flush=True)
    return med


def bench_startup(runs: int = 3) -> dict:
    """First use of every kernel here (float32) in a fresh process: uncached (empty NUMBA_CACHE_DIR) then cached;
    wall seconds, and the process's CPU seconds (what a loaded machine does not inflate)."""
    res: dict[str, list[float]] = {"import": [], "uncached": [], "cached": [], "uncached_cpu": [], "cached_cpu": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
            for label in ("uncached", "cached"):
                out = subprocess.run([sys.executable, "-c", _STARTUP], capture_output=True, text=True, env=env,
                                     check=True).stdout.split()
                res["import"].append(float(out[0]))
                res[label].append(float(out[1]))
                res[label + "_cpu"].append(float(out[2]))
    med = {k: statistics.median(v) for k, v in res.items()}
    print(f"start-up: import gradlab {med['import']:.2f} s; first use of all conv/norm kernels: uncached "
          f"{med['uncached']:.2f} s ({med['uncached_cpu']:.2f} s CPU), cached {med['cached']:.2f} s "
          f"({med['cached_cpu']:.2f} s CPU) (median of {runs})", flush=True)
    return med


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("kernels", "steps", "models", "startup"), action="append")
    parser.add_argument("--rounds", type=int, default=5, help="harness rounds per side (models)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", action="append", choices=("lenet5", "conv3x3"), help="model workload(s)")
    args = parser.parse_args(argv)
    parts = args.part or ["kernels", "steps", "models", "startup"]
    print(f"load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    if "kernels" in parts:
        bench_kernels()
    if "steps" in parts:
        bench_steps(tuple(args.only or ("lenet5", "conv3x3")))
    if "startup" in parts:
        bench_startup()
        bench_first_step()
    if "models" in parts:
        bench_models(args.rounds, args.threads, tuple(args.only or ("lenet5", "conv3x3")))
    print(f"load average {os.getloadavg()[0]:.2f} at the end", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
