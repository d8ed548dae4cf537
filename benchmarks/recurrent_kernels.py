"""The fused LSTM/GRU gate-step kernels (``gradlab.kernels.recurrent``): NumPy passes against the numba loops.

    python benchmarks/recurrent_kernels.py steps   [--rounds 7]   # per-step times, both kernel sets, one process
    python benchmarks/recurrent_kernels.py kernels                # the gate-step calls alone, no GEMM
    python benchmarks/recurrent_kernels.py torch   [--rounds 5]   # the lstm/gru workloads of run.py vs torch CPU
    python benchmarks/recurrent_kernels.py startup                # first use of the loops: uncached, then cached

``steps``: one layer (``LSTMLayer``/``GRULayer``), float32, sequence 32, batch 64/128, hidden 64/128/256, input 32;
forward (with the graph) and backward timed separately, divided by the sequence length. The two kernel sets
alternate within each round (who goes first alternates too); the table gives each set's median and the median of
the per-round ratios numba / numpy. ``kernels``: the four gate-step calls alone on warm float32 arrays, best of
five batches (the numpy twin against the loop; each call includes resetting the arrays it overwrites).
``--clock cpu`` times process CPU time with one BLAS thread instead of wall time (steadier on a shared machine).

``torch``: the ``lstm`` and ``gru`` workloads of ``benchmarks/workloads`` through ``harness.py``, each library and
kernel set in its own process (``GRADLAB_KERNELS=numpy`` / ``numba``), alternating; ratios are medians of
per-round ratios to torch. ``startup``: a fresh process with an empty ``NUMBA_CACHE_DIR`` times the first LSTM and
GRU forward + backward with the loops forced (compile included) against the second; a second fresh process on the
same cache times it again (cache load).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHAPES = [(64, 64), (64, 128), (64, 256), (128, 64), (128, 128), (128, 256)]  # (batch, hidden)
SEQ, IN = 32, 32


def _layer_fns(kind: str, batch: int, hidden: int):
    import numpy as np

    import gradlab
    from gradlab.ops.recurrent import GRULayer, LSTMLayer

    rng = np.random.default_rng(0)
    gates = 4 if kind == "lstm" else 3
    layer = LSTMLayer if kind == "lstm" else GRULayer
    x = gradlab.tensor(rng.standard_normal((SEQ, batch, IN), dtype=np.float32))
    ws = [gradlab.tensor(rng.standard_normal(s, dtype=np.float32) * 0.1, requires_grad=True)
          for s in ((gates * hidden, IN), (gates * hidden, hidden), (gates * hidden,), (gates * hidden,))]
    seed = np.ones((SEQ + (2 if kind == "lstm" else 1), batch, hidden), dtype=np.float32)

    def forward():
        return layer.apply(x, None, None, *ws)

    def backward(out):
        out.backward(gradlab.tensor(seed))

    return forward, backward


CLOCK = time.perf_counter


def _time_pair(forward, backward, reps: int) -> tuple[float, float]:
    fw, bw = [], []
    for _ in range(reps):
        t0 = CLOCK()
        out = forward()
        t1 = CLOCK()
        backward(out)
        t2 = CLOCK()
        fw.append(t1 - t0)
        bw.append(t2 - t1)
    return statistics.median(fw), statistics.median(bw)


def bench_steps(rounds: int, reps: int) -> str:
    from gradlab import kernels

    rows = ["| layer | batch x hidden | numpy fwd us | numba fwd us | numpy bwd us | numba bwd us | "
            "fwd ratio | bwd ratio | fwd+bwd ratio |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for kind in ("lstm", "gru"):
        for batch, hidden in SHAPES:
            fns = _layer_fns(kind, batch, hidden)
            times: dict[str, list[tuple[float, float]]] = {"numpy": [], "numba": []}
            for name in ("numpy", "numba"):  # warm-up (and compile) outside the timing
                with kernels.use(name):
                    _time_pair(*fns, 2)
            for r in range(rounds):
                for name in ("numpy", "numba") if r % 2 == 0 else ("numba", "numpy"):
                    with kernels.use(name):
                        times[name].append(_time_pair(*fns, reps))
            med = {k: [statistics.median(t[i] for t in v) * 1e6 / SEQ for i in (0, 1)] for k, v in times.items()}
            ratio = [statistics.median(b[i] / a[i] for a, b in zip(times["numpy"], times["numba"])) for i in (0, 1)]
            both = statistics.median(sum(b) / sum(a) for a, b in zip(times["numpy"], times["numba"]))
            rows.append(f"| {kind} | {batch}x{hidden} | {med['numpy'][0]:.1f} | {med['numba'][0]:.1f} | "
                        f"{med['numpy'][1]:.1f} | {med['numba'][1]:.1f} | {ratio[0]:.3f} | {ratio[1]:.3f} | "
                        f"{both:.3f} |")
            print(rows[-1], file=sys.stderr)
    return "\n".join(rows)


def bench_torch(rounds: int, steps: int | None, threads: int) -> str:
    sys.path.insert(0, str(HERE))
    from run import run_once

    sides = (("gradlab", "numpy"), ("gradlab", "numba"), ("torch", ""))
    rows = ["| workload | numpy ms | numba ms | torch ms | numpy/torch | numba/torch | numba/numpy |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for workload in ("lstm", "gru"):
        ms: dict[str, list[float]] = {s[1] or "torch": [] for s in sides}
        for r in range(rounds):
            for lib, kset in sides if r % 2 == 0 else tuple(reversed(sides)):
                res = run_once(workload, lib, steps, threads, kset or None)  # the child's GRADLAB_KERNELS
                if "median_ms" not in res:
                    raise RuntimeError(f"{workload} {lib} {kset}: {res}")
                ms[kset or "torch"].append(res["median_ms"])

        def per_round(a: str, b: str, ms: dict[str, list[float]] = ms) -> float:
            return statistics.median(x / y for x, y in zip(ms[a], ms[b]))

        med = {k: statistics.median(v) for k, v in ms.items()}
        rows.append(f"| {workload} | {med['numpy']:.2f} | {med['numba']:.2f} | {med['torch']:.2f} | "
                    f"{per_round('numpy', 'torch'):.3f} | {per_round('numba', 'torch'):.3f} | "
                    f"{per_round('numba', 'numpy'):.3f} |")
        print(rows[-1], file=sys.stderr)
    return "\n".join(rows)


def _kernel_calls(N: int, H: int, rng) -> dict:
    """The four gate-step calls on (batch N, hidden H) float32 arrays; each resets what the step overwrites, so every
    call sees the same inputs. Called with ``numba`` False (the twin) or True (the loop)."""
    import numpy as np

    from gradlab.kernels import recurrent as R

    r = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    g0, c0, m, k, a0, gh0 = r(4 * H, N), r(H, N), r(4 * H, N), r(H, N), r(3 * H, N), r(3 * H, N)
    g, c_prev, a, gh, c, out, z = g0.copy(), c0.copy(), a0.copy(), gh0.copy(), r(H, N), r(N, H), r(N, H + 33)
    d3, dgx, dgh, m3, zdh, b = r(4 * H, SEQ, N), r(3 * H, SEQ, N), r(3 * H, SEQ, N), r(3 * H, N), r(H, N), r(H)
    w3, w2, w1 = r(3 * H, N), r(2 * H, N), r(H, N)
    return {
        "lstm fwd": lambda f: (np.copyto(g, g0), np.copyto(c_prev, c0),
                               R.lstm_forward_step(g, c_prev, c, out, z[:, :H], m, k, w3, f)),
        "lstm bwd": lambda f: (np.copyto(c, c0), R.lstm_backward_step(k, c0, k, m, k, c, d3, 1, w2, f)),
        "gru fwd": lambda f: (np.copyto(a, a0), np.copyto(gh, gh0), R.gru_forward_step(a, gh, b, c0, c, m3, w2, f)),
        "gru bwd": lambda f: (np.copyto(zdh, k), R.gru_backward_step(c0, k, zdh, m3, a0, dgx, dgh, 1, w1, f)),
    }


def _best(fn, reps: int) -> float:
    fn()
    out = []
    for _ in range(5):
        t0 = CLOCK()
        for _ in range(reps):
            fn()
        out.append((CLOCK() - t0) / reps * 1e6)
    return min(out)


def bench_kernels(reps: int) -> str:
    """The gate-step calls alone (no GEMM), on warm arrays: microseconds per call, best of 5 batches of ``reps``."""
    import numpy as np

    rows = ["| batch x hidden | call | numpy us | numba us | numba / numpy |", "| --- | --- | ---: | ---: | ---: |"]
    rng = np.random.default_rng(0)
    for N, H in SHAPES + [(256, 256)]:
        for name, call in _kernel_calls(N, H, rng).items():
            t = [_best(lambda f=f, call=call: call(f), reps) for f in (False, True)]
            rows.append(f"| {N}x{H} | {name} | {t[0]:.1f} | {t[1]:.1f} | {t[1] / t[0]:.3f} |")
            print(rows[-1], file=sys.stderr)
    return "\n".join(rows)


_STARTUP_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import gradlab
from gradlab import kernels
sys.path.insert(0, {here!r})
from recurrent_kernels import _layer_fns
t1 = time.perf_counter()
with kernels.use("numba"):
    fns = [_layer_fns(kind, 64, 64) for kind in ("lstm", "gru")]
    t2 = time.perf_counter()
    for f, b in fns:
        b(f())
    t3 = time.perf_counter()
    for f, b in fns:
        b(f())
    t4 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "first_s": t3 - t2, "second_s": t4 - t3}}))
"""


def bench_startup() -> str:
    rows = ["| numba cache | import gradlab s | first LSTM+GRU fwd+bwd s | second s | first use cost s |",
            "| --- | ---: | ---: | ---: | ---: |"]
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(REPO))
        for label in ("empty (uncached)", "warm (cached)"):
            out = subprocess.run([sys.executable, "-c", _STARTUP_CHILD.format(here=str(HERE))], env=env,
                                 capture_output=True, text=True, check=True).stdout
            res = json.loads(out.strip().splitlines()[-1])
            rows.append(f"| {label} | {res['import_s']:.2f} | {res['first_s']:.2f} | {res['second_s']:.3f} | "
                        f"{res['first_s'] - res['second_s']:.2f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("steps", "kernels", "torch", "startup"))
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--reps", type=int, default=5, help="layer calls per kernel set per round (steps)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per process (torch)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="torch: BLAS threads and torch.set_num_threads for every process")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="steps: wall time, or this process's CPU time with one BLAS thread (steadier when the "
                             "machine is shared)")
    args = parser.parse_args(argv)
    if args.what in ("steps", "kernels") and args.clock == "cpu":
        global CLOCK
        CLOCK = time.process_time
        for var in ("OMP", "OPENBLAS", "MKL"):
            os.environ[f"{var}_NUM_THREADS"] = "1"  # read when numpy loads, which is after this
    if args.what == "steps":
        print(bench_steps(args.rounds or 7, args.reps))
    elif args.what == "kernels":
        print(bench_kernels(args.reps * 40))
    elif args.what == "torch":
        print(bench_torch(args.rounds or 5, args.steps, args.threads))
    else:
        print(bench_startup())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
