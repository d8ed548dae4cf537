"""How much of a gradlab training step is its own GEMMs: record them, replay them alone, compare with torch's step.

    python benchmarks/gemm_floor.py                          # every workload below, 5 rounds: the full table
    python benchmarks/gemm_floor.py --only mlp --rounds 2    # a quick look
    python benchmarks/gemm_floor.py --only lstm --show       # also list each workload's GEMMs (shape, layout, site)

For each workload (``--only``, default: mlp, lenet5, conv3x3, lstm, gru):

1. ``gemm_record.py`` records, in a process of its own, every matrix product one gradlab step makes (after two warm-up
   steps), once per kernel set (``GRADLAB_KERNELS=numpy`` and ``numba``); the two lists are compared (the table notes
   when they differ; the replay uses the numpy set's list).
2. The step times come from ``run.bench_workload`` (gradlab on both kernel sets and torch, each in its own process,
   alternating rounds, median of per-process medians, the same thread count everywhere).
3. ``--replay`` processes run exactly those products, operands rebuilt with the recorded layouts (strides, transposed
   views, row slices of wider buffers, ``out=`` buffers), as one "step" timed with ``harness.time_steps``: through
   NumPy (its BLAS, OpenBLAS in the wheels) and, in a torch process, through ``torch.matmul`` on the same layouts
   (``torch.from_numpy`` views: torch's BLAS on the same shapes). Replay rounds alternate numpy / torch.

Columns: the gradlab steps; "own GEMMs", the NumPy replay (the BLAS floor of the step as gradlab does it); step / GEMMs
(1.0 would mean the step is nothing but its GEMMs); torch's full step; GEMMs / torch step (above 1.0: the GEMMs alone
are slower than torch's whole step, so no non-GEMM work can close the gap); the same GEMMs through torch's BLAS.
The table is printed and, for a run over every default workload, written to benchmarks/results/gemm_floor.md.
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
import tempfile
from pathlib import Path

from gemm_record import rebuild
from harness import time_steps
from run import Skipped, bench_workload

__all__ = ["WORKLOADS", "signature", "flops", "record", "replay_step", "summary", "main"]

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "gemm_floor.md"
WORKLOADS = ("mlp", "lenet5", "conv3x3", "lstm", "gru")


def signature(gemm: dict) -> tuple:
    """What makes two recorded products the same work: function, operand and output layouts (not the call site).

    >>> signature({"fn": "@", "site": "x.py:1", "operands": [{"shape": [2, 3]}], "out": None})
    ('@', '[{"shape": [2, 3]}]', 'null')
    """
    return gemm["fn"], json.dumps(gemm["operands"]), json.dumps(gemm["out"])


def flops(gemm: dict) -> int | None:
    """2*M*N*K (times the batch) of a matmul / ``@`` / ``dot`` record; None for einsum and tensordot.

    >>> flops({"fn": "@", "operands": [{"shape": [128, 784]}, {"shape": [784, 512]}]})
    102760448
    """
    if gemm["fn"] not in ("@", "matmul", "dot"):
        return None
    a, b = (o["shape"] for o in gemm["operands"])
    m, k = (a[-2] if len(a) > 1 else 1), a[-1]
    n = b[-1] if len(b) > 1 else 1
    batch = 1
    for d in (a[:-2] if len(a) > len(b) else b[:-2]):
        batch *= d
    return 2 * m * n * k * batch


def _env(threads: int, kernels: str | None = None) -> dict[str, str]:
    env = dict(os.environ, **{f"{v}_NUM_THREADS": str(threads) for v in ("OMP", "OPENBLAS", "MKL")})  # as run.run_once
    if kernels is not None:
        env["GRADLAB_KERNELS"] = kernels
    return env


def _child(args: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def record(workload: str, kernels: str, threads: int) -> list[dict]:
    """The GEMMs of one gradlab step of ``workload`` with ``GRADLAB_KERNELS=kernels``, recorded in a child process."""
    return _child([str(HERE / "gemm_record.py"), "--workload", workload], _env(threads, kernels))["gemms"]


def replay_step(gemms: list[dict], lib: str = "numpy"):
    """A function that runs every recorded product once, on operands rebuilt with the recorded layouts.

    >>> import numpy as np
    >>> from gemm_record import layout
    >>> a, b = np.ones((4, 3), np.float32), np.ones((5, 3), np.float32)
    >>> step = replay_step([{"fn": "@", "operands": [layout(a), layout(b.T)], "out": None}])
    >>> step()[0].shape
    (4, 5)
    """
    import numpy as np

    rng = np.random.default_rng(0)
    calls = []
    for g in gemms:
        ops = [rebuild(o, rng) for o in g["operands"]]
        out = rebuild(g["out"], rng) if g["out"] else None
        calls.append((g["fn"], ops, out, g.get("subscripts"), g.get("axes")))
    if lib == "torch":
        import torch

        def conv(a):
            return torch.from_numpy(a if all(s >= 0 for s in a.strides) else a.copy())

        calls = [(fn, [conv(o) for o in ops], None if out is None else conv(out), sub, axes)
                 for fn, ops, out, sub, axes in calls]
        mm, tdot, esum = torch.matmul, torch.tensordot, torch.einsum
    else:
        mm, tdot, esum = np.matmul, np.tensordot, np.einsum

    def step():
        results = []
        for fn, ops, out, sub, axes in calls:
            if fn == "einsum":
                results.append(esum(sub, *ops) if out is None or lib == "torch" else esum(sub, *ops, out=out))
            elif fn == "tensordot":
                results.append(tdot(ops[0], ops[1], axes if isinstance(axes, int) else tuple(axes)))
            elif fn == "dot" and lib == "numpy":
                results.append(np.dot(ops[0], ops[1]) if out is None else np.dot(ops[0], ops[1], out=out))
            else:
                results.append(mm(ops[0], ops[1]) if out is None else mm(ops[0], ops[1], out=out))
        return results

    return step


def _replay_main(path: str, lib: str, threads: int, steps: int, warmup: int) -> int:
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
    gemms = json.loads(Path(path).read_text())
    times = time_steps(replay_step(gemms, lib), steps, warmup)
    print(json.dumps({"lib": lib, "median_ms": statistics.median(times), "min_ms": min(times)}))
    return 0


def summary(gemms: list[dict]) -> str:
    """One line: count, GFLOP, dtypes, and the products NumPy cannot hand to BLAS as they are.

    >>> summary([{"fn": "@", "operands": [{"shape": [2, 2], "dtype": "float32"}] * 2, "blas": True}])
    '1 GEMMs, 0.000 GFLOP, float32'
    """
    total = sum(f for f in map(flops, gemms) if f)
    dtypes = sorted({o["dtype"] for g in gemms for o in g["operands"]})
    text = f"{len(gemms)} GEMMs, {total / 1e9:.3f} GFLOP, {'/'.join(dtypes)}"
    odd = [g for g in gemms if not g["blas"]]
    return text + (f", {len(odd)} not BLAS-ready (copied or looped): {odd[0]['site']}" if odd else "")


def _shape(o: dict) -> str:
    return str(o["shape"]) + ("" if o["contiguous"] == "C" else f" {o['contiguous']} strides {o['strides']}")


def _listing(gemms: list[dict]) -> str:
    counts: dict[tuple, list] = {}
    for g in gemms:
        key = (g["fn"], g["site"], *signature(g)[1:])
        counts.setdefault(key, [0, g])[0] += 1
    lines = []
    for n, g in counts.values():
        ops = " x ".join(_shape(o) for o in g["operands"])
        out = f" out={g['out']['shape']} strides {g['out']['strides']}" if g["out"] else ""
        lines.append(f"    {n:3d} x {g['fn']:6s} {g['site']:18s} {ops}{out} {g['operands'][0]['dtype']}"
                     f"{'' if g['blas'] else ' NOT BLAS-READY'}")
    return "\n".join(lines)


def _replays(gemms: list[dict], rounds: int, threads: int, steps: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(gemms, f)
    try:
        ms: dict[str, list[float]] = {"numpy": [], "torch": []}
        for r in range(rounds):
            for lib in ("numpy", "torch") if r % 2 == 0 else ("torch", "numpy"):
                args = [__file__, "--replay", f.name, "--lib", lib, "--threads", str(threads), "--steps", str(steps)]
                ms[lib].append(_child(args, _env(threads))["median_ms"])
        return {lib: statistics.median(v) for lib, v in ms.items()}
    finally:
        os.unlink(f.name)


def _row(name: str, step: dict[str, float], rep: dict[str, float]) -> str:
    np_, nb, t, g = step["gradlab[numpy]"], step["gradlab[numba]"], step["torch"], rep["numpy"]
    cells = [name, f"{np_:.3f}", f"{nb:.3f}", f"{g:.3f}", f"{np_ / g:.2f} / {nb / g:.2f}", f"{t:.3f}", f"{g / t:.2f}",
             f"{rep['torch']:.3f}"]
    return "| " + " | ".join(cells) + " |"


HEAD = ("| workload | gradlab step (numpy) ms | gradlab step (numba) ms | own GEMMs (numpy BLAS) ms | step / GEMMs "
        "(numpy / numba) | torch step ms | GEMMs / torch step | same GEMMs in torch ms |\n"
        "| --- |" + " ---: |" * 7)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=WORKLOADS, help="this workload only (repeatable)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="timed steps per process (default: per workload)")
    parser.add_argument("--replay-steps", type=int, default=30, help="timed replays of the GEMMs per process")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--show", action="store_true", help="list every workload's GEMMs")
    parser.add_argument("--replay", help=argparse.SUPPRESS)  # child process: JSON file of GEMMs to time
    parser.add_argument("--lib", default="numpy", choices=("numpy", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.replay:
        return _replay_main(args.replay, args.lib, args.threads, args.steps or args.replay_steps, 3)

    rows, notes = [], []
    for name in args.only or WORKLOADS:
        sets = {k: record(name, k, args.threads) for k in ("numpy", "numba")}
        same = [signature(g) for g in sets["numpy"]] == [signature(g) for g in sets["numba"]]
        notes.append(f"- {name}: {summary(sets['numpy'])}; numba kernel set: "
                     + ("the same GEMMs" if same else f"DIFFERENT GEMMs ({summary(sets['numba'])})"))
        if args.show:
            notes.append(_listing(sets["numpy"]))
        print(notes[-1], file=sys.stderr)
        try:
            step = bench_workload(name, args.rounds, args.steps, args.threads, "both")
        except (Skipped, RuntimeError) as exc:
            notes.append(f"- {name}: step not timed: {exc}")
            continue
        rows.append(_row(name, step, _replays(sets["numpy"], args.rounds, args.threads, args.replay_steps)))

    header = (f"GEMM floor, {datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, python "
              f"{platform.python_version()}, {args.threads} threads, {args.rounds} rounds (median of per-process "
              f"medians); load average {os.getloadavg()[0]:.2f} at the end")
    report = "\n\n".join([header, HEAD + "\n" + "\n".join(rows), "GEMMs per step:\n\n" + "\n".join(notes)]) + "\n"
    print(report)
    if not args.only or set(args.only) == set(WORKLOADS):
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
