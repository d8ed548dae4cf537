"""``gradlab tune`` on the MNIST MLP: the best validation accuracy found, and the wall time of 1 against 2 workers
on the same number of trials (issue 18's target: 30 trials, 2 workers, 3 epochs each; within 0.3 points of the
hand-tuned recipe of benchmarks/accuracy.py, and clearly faster with 2 workers).

    python benchmarks/tune_workers.py                        # 30 trials, full MNIST, 3 epochs (long on a laptop)
    python benchmarks/tune_workers.py --trials 6 --limit 5000 --epochs 2  # a smoke run
    python benchmarks/tune_workers.py --train-best 15        # then train each best config as the recipe does

With ``--train-best E``, each worker count's best configuration is trained again for E epochs with the recipe's
cosine schedule on all 60,000 training images (``--val-split 0``), and so is the hand-tuned recipe
(benchmarks/accuracy.py's ``mnist-mlp`` row, with the same E), each in its own process; the test accuracies are
printed side by side (the target: the best found within 0.3 points of the recipe).

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


def test_accuracy(flags: list[str], epochs: int, root: Path, name: str) -> float:
    """Train ``gradlab train FLAGS`` for ``epochs`` (cosine schedule, no validation split); its test accuracy."""
    cmd = [sys.executable, "-m", "gradlab", "train", *flags, "--epochs", str(epochs), "--scheduler", "cosine",
           "--val-split", "0", "--seed", "0", "--out", str(root / name)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    found = re.search(r"test accuracy: ([0-9.]+)", out)
    if not found:
        raise SystemExit(f"no test accuracy in the output of {' '.join(cmd)}:\n{out}")
    return float(found.group(1))


def recipe_flags() -> list[str]:
    """The ``mnist-mlp`` row of benchmarks/accuracy.py as ``gradlab train`` flags (without epochs and schedule)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from accuracy import ROWS

    c = ROWS["mnist-mlp"].config
    return ["--dataset", c["dataset"], "--model", c["model"], "--hidden", ",".join(str(h) for h in c["hidden"]),
            "--activation", c["activation"], "--dropout", str(c["dropout"]), "--optimizer", c["optimizer"],
            "--lr", str(c["lr"]), "--batch-size", str(c["batch_size"])]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=30)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--workers", default="1,2")
    p.add_argument("--train-best", type=int, default=0, metavar="E",
                   help="train each best configuration and the recipe for E epochs and compare test accuracies")
    args = p.parse_args()
    best_cmds: dict[int, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in (int(v) for v in args.workers.split(",")):
            wall, out = run(w, args, Path(tmp))
            best = re.search(r"validation accuracy ([0-9.]+)", out)
            cmd = next((line.strip() for line in out.splitlines() if line.strip().startswith("gradlab train")), "")
            print(f"{w} worker(s): {args.trials} trials in {wall:.0f}s, best validation accuracy "
                  f"{best.group(1) if best else '?'}\n  {cmd}", flush=True)
            best_cmds[w] = cmd
        if args.train_best:
            recipe = test_accuracy(recipe_flags(), args.train_best, Path(tmp), "recipe")
            print(f"hand-tuned recipe, {args.train_best} epochs: test accuracy {100 * recipe:.2f}%", flush=True)
            for w, cmd in best_cmds.items():
                flags = [f for f in cmd.split()[2:]]
                i = flags.index("--epochs") if "--epochs" in flags else -1
                if i >= 0:
                    del flags[i:i + 2]
                acc = test_accuracy(flags, args.train_best, Path(tmp), f"best{w}")
                print(f"best of {w} worker(s), {args.train_best} epochs: test accuracy {100 * acc:.2f}% "
                      f"({100 * (acc - recipe):+.2f} points against the recipe)", flush=True)


if __name__ == "__main__":
    main()
