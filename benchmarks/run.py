"""Benchmark gradlab against torch: every workload, each library in its own process, alternating rounds.

    python benchmarks/run.py [--only NAME ...] [--rounds 5] [--steps N] [--threads T]

Each round starts one gradlab and one torch process (the order swaps every round, so slow drift hits both);
each process reports its median step time; the table shows the median of those medians. Both libraries get
the same thread count: the BLAS threads numpy uses (OPENBLAS/OMP/MKL_NUM_THREADS) and torch.set_num_threads.
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

from harness import EXIT_UNAVAILABLE, LIBS, list_workloads

__all__ = ["Skipped", "run_once", "bench_workload", "main"]

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "latest.md"


def run_once(workload: str, lib: str, steps: int | None, threads: int) -> dict:
    """One harness process; its JSON result (with ``unavailable`` or ``error`` set when it could not time)."""
    cmd = [sys.executable, str(HERE / "harness.py"), "--workload", workload, "--lib", lib, "--threads", str(threads)]
    if steps:
        cmd += ["--steps", str(steps)]
    env = dict(os.environ, **{f"{v}_NUM_THREADS": str(threads) for v in ("OMP", "OPENBLAS", "MKL")})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode in (0, EXIT_UNAVAILABLE):
        return json.loads(proc.stdout.strip().splitlines()[-1])
    last_line = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
    return {"workload": workload, "lib": lib, "error": last_line[0]}


class Skipped(Exception):
    """A library side of the workload cannot be set up yet (e.g. gradlab.nn has not landed)."""


def bench_workload(workload: str, rounds: int, steps: int | None, threads: int) -> dict[str, float]:
    """Median step time per library. Raises Skipped, or RuntimeError when a process fails."""
    medians: dict[str, list[float]] = {lib: [] for lib in LIBS}
    for r in range(rounds):
        for lib in LIBS if r % 2 == 0 else reversed(LIBS):
            res = run_once(workload, lib, steps, threads)
            if "unavailable" in res:
                raise Skipped(f"{lib} side unavailable ({res['unavailable']})")
            if "error" in res:
                raise RuntimeError(f"{lib} side failed: {res['error']}")
            medians[lib].append(res["median_ms"])
            print(f"  {workload} round {r + 1}/{rounds} {lib}: {res['median_ms']:.3f} ms", file=sys.stderr)
    return {lib: statistics.median(ms) for lib, ms in medians.items()}


def _table(rows: list[tuple[str, dict[str, float]]]) -> str:
    lines = ["| workload | gradlab ms | torch ms | ratio (gradlab/torch) |", "| --- | ---: | ---: | ---: |"]
    for name, ms in rows:
        lines.append(f"| {name} | {ms['gradlab']:.3f} | {ms['torch']:.3f} | {ms['gradlab'] / ms['torch']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list_workloads(), help="run just this workload (repeatable)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="timed steps per process (default: per workload)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    rows, notes, failed = [], [], False
    for name in args.only or list_workloads():
        try:
            rows.append((name, bench_workload(name, args.rounds, args.steps, args.threads)))
        except (Skipped, RuntimeError) as exc:
            failed |= not isinstance(exc, Skipped)
            notes.append(f"- {'skipped' if isinstance(exc, Skipped) else 'FAILED'} {name}: {exc}")
            print(notes[-1], file=sys.stderr)

    header = (
        f"Benchmarks, {datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()},"
        f" python {platform.python_version()}, {args.threads} threads, {args.rounds} rounds"
        f" (median of per-process median step times); load average {os.getloadavg()[0]:.2f} at the end"
    )
    report = "\n\n".join(part for part in (header, _table(rows), "\n".join(notes)) if part) + "\n"
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
