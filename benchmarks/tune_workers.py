"""``gradlab tune`` on the MNIST MLP: the best validation accuracy found, and the wall time of 1 against 2 workers
on the same number of trials (issue 18's target: 30 trials, 2 workers, 3 epochs each; within 0.3 points of the
hand-tuned recipe of benchmarks/accuracy.py, and clearly faster with 2 workers).

    python benchmarks/tune_workers.py                        # 30 trials, full MNIST, 3 epochs (long on a laptop)
    python benchmarks/tune_workers.py --trials 6 --limit 5000 --epochs 2  # a smoke run

Each configuration runs in its own process (``gradlab tune``), 1 worker then 2 workers, in fresh study folders.
Validation accuracy is not test accuracy: train the printed best command to compare with the recipe's test figure.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(workers: int, args: argparse.Namespace, root: Path) -> tuple[float, str]:
    out = root / f"w{workers}"
    cmd = [sys.executable, "-m", "gradlab", "tune", "--trials", str(args.trials), "--workers", str(workers),
           "--epochs", str(args.epochs), "--out", str(out), "--seed", "0"]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, proc.stdout


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=30)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--workers", default="1,2")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for w in (int(v) for v in args.workers.split(",")):
            wall, out = run(w, args, Path(tmp))
            best = re.search(r"validation accuracy ([0-9.]+)", out)
            cmd = next((line.strip() for line in out.splitlines() if line.strip().startswith("gradlab train")), "")
            print(f"{w} worker(s): {args.trials} trials in {wall:.0f}s, best validation accuracy "
                  f"{best.group(1) if best else '?'}\n  {cmd}", flush=True)


if __name__ == "__main__":
    main()
