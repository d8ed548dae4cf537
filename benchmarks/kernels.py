"""The fused optimizer kernels (gradlab.kernels.optim): per-step time of the NumPy twin against the numba loop, and
the kernels' start-up in a fresh process.

    python benchmarks/kernels.py                      # steps at 79,510 and 669,706 elements, then start-up
    python benchmarks/kernels.py --sweep              # also smaller sizes (where the auto thresholds come from)
    python benchmarks/kernels.py --rounds 15 --steps 50 --skip-startup

Steps: one flat float32 parameter (79,510 is an MLP 784-100-10, 669,706 an MLP 784-512-512-10) with its state; Adam,
SGD with momentum 0.9, RMSprop (alpha 0.99). Each round times ``--steps`` steps on NumPy, then on numba (the order
swaps every round, so drift hits both); the table shows the median per-step time of each set and the median of the
per-round ratios. The NumPy twin gets a reused workspace, as the optimizers give it. Both sets are warmed (compiled)
before timing.

Start-up: a fresh process imports gradlab and times its first kernel call (Adam, float32, forced to numba: importing
numba and compiling, or loading the compiled code), with ``NUMBA_CACHE_DIR`` an empty temporary folder (uncached) and
then the same folder again (cached); then the first calls of SGD and RMSprop. Medians of ``--startup-runs``. Then
issue 19's start-up target in its own words (``import gradlab`` with numba installed and hidden; first use of each
kernel family, uncached and cached; numba's own floor): :mod:`kernels_startup`, also runnable alone.
Results go to stdout as markdown and to ``benchmarks/results/kernels.md``.
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
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # this checkout's gradlab

from gradlab import kernels  # noqa: E402
from gradlab.kernels import optim as ko  # noqa: E402

__all__ = ["make_step", "time_pair", "startup", "main"]

SIZES = (79_510, 669_706)
SWEEP = (1_024, 4_096, 16_384, 65_536)
OPTIMIZERS = ("adam", "sgd-momentum", "rmsprop")


def make_step(name: str, n: int, seed: int = 0) -> Callable[[], None]:
    """One optimizer step over a flat float32 parameter of ``n`` elements (state and workspace kept)."""
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n).astype(np.float32)
    g = (0.1 * rng.standard_normal(n)).astype(np.float32)
    s1, s2 = np.zeros_like(p), np.zeros_like(p)
    ws = np.empty(ko.WORKSPACE_SLOTS * n, np.float32)
    count = [0]

    def adam() -> None:
        count[0] += 1
        ko.adam_update(p, g, s1, s2, step=count[0], lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, workspace=ws)

    def sgd() -> None:
        ko.sgd_update(p, g, s1, lr=1e-3, momentum=0.9, first_step=count[0] == 0, workspace=ws)
        count[0] += 1

    def rmsprop() -> None:
        ko.rmsprop_update(p, g, s1, lr=1e-3, alpha=0.99, eps=1e-8, workspace=ws)

    return {"adam": adam, "sgd-momentum": sgd, "rmsprop": rmsprop}[name]


def _block(step: Callable[[], None], steps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps * 1e3


def time_pair(name: str, n: int, rounds: int, steps: int) -> dict[str, float]:
    """Median ms per step on each kernel set and the median per-round ratio numpy / numba."""
    step = {"numpy": make_step(name, n), "numba": make_step(name, n)}
    for kset in ("numpy", "numba"):
        with kernels.use(kset):
            _block(step[kset], 3)  # warm: compile, page in
    times: dict[str, list[float]] = {"numpy": [], "numba": []}
    ratios = []
    for r in range(rounds):
        for kset in ("numpy", "numba") if r % 2 == 0 else ("numba", "numpy"):
            with kernels.use(kset):
                times[kset].append(_block(step[kset], steps))
        ratios.append(times["numpy"][-1] / times["numba"][-1])
    return {"numpy": statistics.median(times["numpy"]), "numba": statistics.median(times["numba"]),
            "ratio": statistics.median(ratios)}


_STARTUP = """
import json, time
t0 = time.perf_counter()
import numpy as np
import gradlab
from gradlab import kernels
from gradlab.kernels import optim as ko
t1 = time.perf_counter()
p = np.ones(1000, np.float32); g = np.full_like(p, 0.1); a = np.zeros_like(p); b = np.zeros_like(p)
with kernels.use("numba"):
    t2 = time.perf_counter()
    ko.adam_update(p, g, a, b, step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
    t3 = time.perf_counter()
    ko.sgd_update(p, g, a, lr=1e-3, momentum=0.9)
    ko.rmsprop_update(p, g, b, lr=1e-3, alpha=0.99, eps=1e-8)
    t4 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "first_ms": (t3 - t2) * 1e3, "others_ms": (t4 - t3) * 1e3}))
"""


def _fresh(cache_dir: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "GRADLAB_KERNELS"}
    env.update(NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", _STARTUP], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def startup(runs: int) -> dict[str, dict[str, float]]:
    """Medians over ``runs`` fresh processes, uncached (a new empty cache folder) and cached (the same one again)."""
    res: dict[str, list[dict[str, float]]] = {"uncached": [], "cached": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="gradlab-numba-cache-") as cache:
            res["uncached"].append(_fresh(cache))
            res["cached"].append(_fresh(cache))
    return {k: {f: statistics.median(r[f] for r in rs) for f in rs[0]} for k, rs in res.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=30, help="steps per timed block")
    parser.add_argument("--sweep", action="store_true", help=f"also time sizes {', '.join(map(str, SWEEP))}")
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--skip-startup", action="store_true")
    args = parser.parse_args(argv)
    if not kernels.numba_available():
        print(kernels.INSTALL_HINT, file=sys.stderr)
        return 3

    sizes = (SWEEP if args.sweep else ()) + SIZES
    lines = ["| optimizer | elements | numpy ms/step | numba ms/step | speedup (median of rounds) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name in OPTIMIZERS:
        for n in sizes:
            r = time_pair(name, n, args.rounds, args.steps)
            lines.append(f"| {name} | {n:,} | {r['numpy']:.4f} | {r['numba']:.4f} | {r['ratio']:.2f}x |")
            print(lines[-1], file=sys.stderr)
    parts = ["\n".join(lines)]
    if not args.skip_startup:
        s = startup(args.startup_runs)
        parts.append("\n".join([
            "| start-up (fresh process) | import gradlab ms | first kernel call ms (Adam) "
            "| SGD + RMSprop first calls ms |",
            "| --- | ---: | ---: | ---: |",
            *(f"| {k} | {v['import_ms']:.0f} | {v['first_ms']:.0f} | {v['others_ms']:.0f} |" for k, v in s.items()),
        ]))
        from kernels_startup import FAMILIES, report  # benchmarks/ is on sys.path when run as a script

        parts.append(report([REPO], list(FAMILIES), args.startup_runs))
    header = (f"Optimizer kernels, {datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, python "
              f"{platform.python_version()}, float32, {args.rounds} rounds x {args.steps} steps; load average "
              f"{os.getloadavg()[0]:.2f} at the end")
    report = "\n\n".join([header, *parts]) + "\n"
    print(report)
    out = HERE / "results" / "kernels.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
