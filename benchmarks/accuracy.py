"""Accuracy benchmark: train the reference models with gradlab and report their test accuracy against targets.

    python benchmarks/accuracy.py                 # every row, full recipe (MNIST MLP, Fashion-MNIST MLP, ...)
    python benchmarks/accuracy.py --quick         # a smoke run: 2 epochs on 10,000 images (targets not applied)
    python benchmarks/accuracy.py --only mnist-mlp --epochs 5

Each row is an :class:`AccuracyRow` in :data:`ROWS` (a dict: later rows such as LeNet5, SimpleCNN or an LSTM are
one more entry, or ``register_row``). A row is a run config for :func:`gradlab.train.experiment.run_training`
plus a target test accuracy. Models train on the whole training split (no validation hold-out: nothing is
selected on the test set, which is only evaluated once, after the last epoch). Run folders go to ``--runs``
(default ``/tmp/gradlab-accuracy``); the table is printed and, for full runs, written to
``benchmarks/results/accuracy.md``. Exit status 1 when a full run misses a target.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's gradlab

from gradlab.train.experiment import make_config, run_training  # noqa: E402

__all__ = ["AccuracyRow", "ROWS", "register_row", "run_row", "main"]


@dataclass
class AccuracyRow:
    """One benchmark row: a training recipe (``make_config`` keyword arguments) and the test accuracy to reach."""

    name: str
    description: str
    target: float
    config: dict[str, Any] = field(default_factory=dict)


ROWS: dict[str, AccuracyRow] = {}


def register_row(row: AccuracyRow) -> AccuracyRow:
    ROWS[row.name] = row
    return row


_MLP = dict(model="mlp", hidden=(512, 512), activation="relu", dropout=0.2, optimizer="adam", lr=1e-3,
            batch_size=128, epochs=15, scheduler="cosine", val_split=0.0, seed=0)

register_row(AccuracyRow("mnist-mlp", "MNIST, MLP 784-512-512-10 (ReLU, dropout 0.2), Adam 1e-3 + cosine, batch 128",
                         0.982, dict(_MLP, dataset="mnist")))
register_row(AccuracyRow("fashion-mlp", "Fashion-MNIST, the same MLP and recipe", 0.895,
                         dict(_MLP, dataset="fashion-mnist")))

# convolutional networks (issue 5): gradlab.models.LeNet5 and SimpleCNN
register_row(AccuracyRow("mnist-lenet5", "MNIST, LeNet-5 (ReLU, max-pool), Adam 2e-3 + cosine, batch 128", 0.991,
                         dict(model="lenet5", dataset="mnist", optimizer="adam", lr=2e-3, batch_size=128, epochs=10,
                              scheduler="cosine", val_split=0.0, seed=0)))
register_row(AccuracyRow("fashion-cnn", "Fashion-MNIST, SimpleCNN (2 blocks of [conv3x3-BN-ReLU]x2 + max-pool, "
                         "widths 32/64; dropout 0.3, FC 256), Adam 1e-3 + cosine, batch 128", 0.92,
                         dict(model="cnn", dataset="fashion-mnist", optimizer="adam", lr=1e-3, batch_size=128,
                              epochs=10, scheduler="cosine", val_split=0.0, seed=0)))

# recurrent networks (issue 6): sequential MNIST, each image read as 28 rows of 28 pixels
register_row(AccuracyRow("mnist-lstm", "Sequential MNIST (28 steps of 28 pixels), LSTM hidden 128 + linear head, "
                         "Adam 2e-3 + cosine, batch 128, gradient norm clipped at 5", 0.98,
                         dict(model="lstm", dataset="mnist", optimizer="adam", lr=2e-3, batch_size=128, epochs=10,
                              scheduler="cosine", val_split=0.0, seed=0, clip_grad_norm=5.0)))


def run_row(row: AccuracyRow, runs: Path, quick: bool = False, epochs: int | None = None, progress: bool = False,
            data_dir: str | None = None) -> dict[str, Any]:
    """Train one row; returns its figures (test accuracy, epochs, seconds)."""
    kw = dict(row.config)
    if quick:
        kw.update(epochs=2, limit=10_000)
    if epochs is not None:
        kw["epochs"] = epochs
    config = make_config(**kw)
    t0 = time.perf_counter()
    res = run_training(config, runs / row.name, data_dir=data_dir, progress=progress, overwrite=True,
                       log=lambda s: print(f"[{row.name}] {s}", file=sys.stderr))
    return {"name": row.name, "description": row.description, "target": row.target,
            "accuracy": res["test_accuracy"], "loss": res["test_loss"], "epochs": res["epochs"],
            "train_s": res["train_time_s"], "total_s": time.perf_counter() - t0,
            "limit": config.get("limit"), "curves": str(runs / row.name / "curves.png")}


def _table(results: list[dict[str, Any]], quick: bool) -> str:
    lines = ["| row | test accuracy | target | epochs | train time | s/epoch | recipe |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        status = "quick run" if quick else ("met" if r["accuracy"] >= r["target"] else "MISSED")
        subset = f" (first {r['limit']} images)" if r["limit"] else ""
        lines.append(f"| {r['name']} | {100 * r['accuracy']:.2f}% | {100 * r['target']:.1f}% ({status}) | "
                     f"{r['epochs']} | {r['train_s']:.0f} s | {r['train_s'] / max(r['epochs'], 1):.1f} | "
                     f"{r['description']}{subset} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="2 epochs on the first 10,000 training images (smoke run)")
    p.add_argument("--only", nargs="+", choices=sorted(ROWS), metavar="ROW", help=f"rows to run ({', '.join(ROWS)})")
    p.add_argument("--epochs", type=int, help="override every row's epoch count")
    p.add_argument("--runs", default=os.environ.get("GRADLAB_ACCURACY_RUNS", "/tmp/gradlab-accuracy"),
                   help="where the run folders go (default /tmp/gradlab-accuracy)")
    p.add_argument("--data-dir", help="folder holding the dataset files (default: searched)")
    p.add_argument("--progress", action="store_true", help="show the per-epoch progress bars")
    args = p.parse_args(argv)
    names = args.only or list(ROWS)
    results = []
    for name in names:
        res = run_row(ROWS[name], Path(args.runs), quick=args.quick, epochs=args.epochs, progress=args.progress,
                      data_dir=args.data_dir)
        print(f"{name}: test accuracy {100 * res['accuracy']:.2f}% (target {100 * res['target']:.1f}%) after "
              f"{res['epochs']} epochs, {res['train_s']:.0f} s of training", flush=True)
        results.append(res)
    table = _table(results, args.quick)
    print()
    print(table)
    full = not args.quick and args.epochs is None
    if full:
        header = (f"# Accuracy benchmark\n\n{datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
                  f"{os.cpu_count()} CPUs, Python {platform.python_version()}; "
                  f"`python benchmarks/accuracy.py{' --only ' + ' '.join(names) if args.only else ''}`\n\n")
        out = HERE / "results" / "accuracy.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(header + table + "\n")
        print(f"\nwritten to {out}")
        return 0 if all(r["accuracy"] >= r["target"] for r in results) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
