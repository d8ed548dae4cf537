"""Benchmark gradlab against torch: every workload, each library in its own process, alternating rounds.

    python benchmarks/run.py [--only NAME ...] [--rounds 5] [--steps N] [--threads T] [--kernels numpy|numba|both]

Each round starts one gradlab and one torch process (the order swaps every round, so slow drift hits both);
each process reports its median step time; the table shows the median of those medians. Both libraries get
the same thread count: the BLAS threads numpy uses (OPENBLAS/OMP/MKL_NUM_THREADS) and torch.set_num_threads.
``--kernels`` sets ``GRADLAB_KERNELS`` for the gradlab process (gradlab.kernels: NumPy only, or the numba kernels at
every size); ``both`` runs a gradlab process per kernel set in each round, a column each. Without it the gradlab
process inherits the environment (``auto`` unless GRADLAB_KERNELS is set). Kernels compile during the warm-up steps.
The table is printed and written to benchmarks/results/latest.md.
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
from pathlib import Path

from harness import EXIT_UNAVAILABLE, list_workloads

__all__ = ["Skipped", "KERNEL_CHOICES", "columns", "run_once", "bench_workload", "main"]

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "latest.md"


KERNEL_CHOICES = ("numpy", "numba", "both")


def columns(kernels: str | None) -> list[tuple[str, str, str | None]]:
    """The processes of one round as ``(column label, harness lib, GRADLAB_KERNELS or None to inherit)``; torch last.

    >>> [c[0] for c in columns("both")]
    ['gradlab[numpy]', 'gradlab[numba]', 'torch']
    """
    if kernels is None:
        gradlab = [("gradlab", "gradlab", None)]
    else:
        if kernels not in KERNEL_CHOICES:
            raise ValueError(f"--kernels must be one of {', '.join(KERNEL_CHOICES)}, got {kernels!r}")
        sets = ["numpy", "numba"] if kernels == "both" else [kernels]
        gradlab = [(f"gradlab[{k}]", "gradlab", k) for k in sets]
    return [*gradlab, ("torch", "torch", None)]


def run_once(workload: str, lib: str, steps: int | None, threads: int, kernel_set: str | None = None) -> dict:
    """One harness process; its JSON result (with ``unavailable`` or ``error`` set when it could not time).
    ``kernel_set`` becomes the process's ``GRADLAB_KERNELS``."""
    cmd = [sys.executable, str(HERE / "harness.py"), "--workload", workload, "--lib", lib, "--threads", str(threads)]
    if steps:
        cmd += ["--steps", str(steps)]
    env = dict(os.environ, **{f"{v}_NUM_THREADS": str(threads) for v in ("OMP", "OPENBLAS", "MKL")})
    if kernel_set is not None:
        env["GRADLAB_KERNELS"] = kernel_set
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode in (0, EXIT_UNAVAILABLE):
        return json.loads(proc.stdout.strip().splitlines()[-1])
    last_line = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
    return {"workload": workload, "lib": lib, "error": last_line[0]}


class Skipped(Exception):
    """A library side of the workload cannot be set up yet (e.g. gradlab.nn has not landed)."""


def bench_workload(workload: str, rounds: int, steps: int | None, threads: int,
                   kernels: str | None = None) -> dict[str, float]:
    """Median step time per column (see :func:`columns`). Raises Skipped, or RuntimeError when a process fails."""
    cols = columns(kernels)
    medians: dict[str, list[float]] = {label: [] for label, _, _ in cols}
    for r in range(rounds):
        for label, lib, kernel_set in cols if r % 2 == 0 else reversed(cols):
            res = run_once(workload, lib, steps, threads, kernel_set)
            if "unavailable" in res:
                raise Skipped(f"{label} side unavailable ({res['unavailable']})")
            if "error" in res:
                raise RuntimeError(f"{label} side failed: {res['error']}")
            medians[label].append(res["median_ms"])
            print(f"  {workload} round {r + 1}/{rounds} {label}: {res['median_ms']:.3f} ms", file=sys.stderr)
    return {label: statistics.median(ms) for label, ms in medians.items()}


def _table(rows: list[tuple[str, dict[str, float]]], kernels: str | None = None) -> str:
    ours = [label for label, _, _ in columns(kernels) if label != "torch"]
    head = ["workload", *(f"{c} ms" for c in ours), "torch ms", *(f"ratio ({c}/torch)" for c in ours)]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for name, ms in rows:
        cells = [name, *(f"{ms[c]:.3f}" for c in ours), f"{ms['torch']:.3f}"]
        cells += [f"{ms[c] / ms['torch']:.2f}" for c in ours]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list_workloads(), help="run just this workload (repeatable)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="timed steps per process (default: per workload)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--kernels", choices=KERNEL_CHOICES, default=None,
                        help="GRADLAB_KERNELS for the gradlab process; both: one column per kernel set")
    args = parser.parse_args(argv)

    rows, notes, failed = [], [], False
    for name in args.only or list_workloads():
        try:
            rows.append((name, bench_workload(name, args.rounds, args.steps, args.threads, args.kernels)))
        except (Skipped, RuntimeError) as exc:
            failed |= not isinstance(exc, Skipped)
            notes.append(f"- {'skipped' if isinstance(exc, Skipped) else 'FAILED'} {name}: {exc}")
            print(notes[-1], file=sys.stderr)

    kernels_note = args.kernels or f"GRADLAB_KERNELS={os.environ.get('GRADLAB_KERNELS', 'auto')} (inherited)"
    header = (
        f"Benchmarks, {datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()},"
        f" python {platform.python_version()}, {args.threads} threads, {args.rounds} rounds"
        f" (median of per-process median step times), gradlab kernels: {kernels_note};"
        f" load average {os.getloadavg()[0]:.2f} at the end"
    )
    report = "\n\n".join(part for part in (header, _table(rows, args.kernels), "\n".join(notes)) if part) + "\n"
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
