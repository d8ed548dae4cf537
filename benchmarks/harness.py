"""Time one workload in one library, in this process, and print the result as one JSON line.

    python benchmarks/harness.py --workload mlp --lib gradlab --steps 50

A workload is a module ``benchmarks/workloads/NAME.py`` with two functions, ``setup_gradlab()`` and
``setup_torch()``, each building its model and data and returning ``step()``, one complete unit of work.
Optional module constants: ``STEPS`` (timed steps, default 50) and ``WARMUP`` (default 5).

``run.py`` starts this script once per library per round: the libraries never share a process, because
torch's OpenMP threads and OpenBLAS's threads fight over the cores inside one process.
Exit status 3 with ``{"unavailable": reason}`` means the library side cannot be set up yet (an import or
attribute is missing): run.py skips that workload with a note.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

__all__ = ["WORKLOADS_DIR", "LIBS", "list_workloads", "load_workload", "time_steps", "main"]

WORKLOADS_DIR = Path(__file__).resolve().parent / "workloads"
REPO_ROOT = WORKLOADS_DIR.parents[1]
LIBS = ("gradlab", "torch")
EXIT_UNAVAILABLE = 3


def list_workloads() -> list[str]:
    """Names of the workload modules, sorted."""
    return sorted(p.stem for p in WORKLOADS_DIR.glob("*.py") if not p.stem.startswith("_"))


def load_workload(name: str) -> ModuleType:
    sys.path[:0] = [str(WORKLOADS_DIR.parent), str(REPO_ROOT)]  # the workloads, and this checkout's gradlab
    return importlib.import_module(f"workloads.{name}")


def time_steps(step: Callable[[], object], steps: int, warmup: int) -> list[float]:
    """Run ``warmup`` untimed steps, then ``steps`` timed ones; per-step times in milliseconds."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def _setup(module: ModuleType, lib: str, threads: int) -> Callable[[], object]:
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
    return getattr(module, f"setup_{lib}")()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, choices=list_workloads())
    parser.add_argument("--lib", required=True, choices=LIBS)
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default: the workload's STEPS or 50)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default: WARMUP or 5)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch.set_num_threads value")
    args = parser.parse_args(argv)

    module = load_workload(args.workload)
    steps = args.steps or getattr(module, "STEPS", 50)
    warmup = getattr(module, "WARMUP", 5) if args.warmup is None else args.warmup
    try:
        step = _setup(module, args.lib, args.threads)
    except (ImportError, AttributeError) as exc:
        print(json.dumps({"workload": args.workload, "lib": args.lib, "unavailable": f"{type(exc).__name__}: {exc}"}))
        return EXIT_UNAVAILABLE
    times = time_steps(step, steps, warmup)
    result = {
        "workload": args.workload,
        "lib": args.lib,
        "steps": steps,
        "threads": args.threads,
        "median_ms": statistics.median(times),
        "min_ms": min(times),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
