"""The report of a ``gradlab tune`` study: the best configuration as a ``gradlab train`` command line, a table of the
top trials, ``best.json``, ``trials.csv`` and PNG plots through ``optuna.visualization.matplotlib``
(optimisation history, parameter importances, validation accuracy against the learning rate on a log axis).

>>> train_command({"dataset": "mnist", "model": "mlp", "model_kwargs": {"hidden": [256], "activation": "relu",
...     "dropout": 0.1, "batch_norm": False}, "optimizer": "adam", "lr": 0.002, "weight_decay": 0.0,
...     "momentum": 0.0, "scheduler": "none", "epochs": 3, "batch_size": 128, "seed": 0, "val_split": 0.1,
...     "limit": None})
'gradlab train --dataset mnist --model mlp --optimizer adam --lr 0.002 --epochs 3 --batch-size 128 --hidden 256 \
--dropout 0.1'
>>> format_table([{"number": 3, "state": "COMPLETE", "value": 0.91, "params": {"lr": 0.01}}])
'trial  state     val_acc  lr\\n    3  COMPLETE   0.9100  0.01'
"""
from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradlab.io.atomic import save_figure

__all__ = ["write_report", "format_table", "plot_study", "train_command"]


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def format_table(rows: list[dict[str, Any]], top: int = 10) -> str:
    """The ``top`` rows (trial number, state, value, parameters) as an aligned text table.

    >>> print(format_table([{"number": 0, "state": "COMPLETE", "value": 0.5, "params": {"lr": 0.1}},
    ...                     {"number": 1, "state": "FAIL", "value": None, "params": {"lr": 0.001}}]))
    trial  state     val_acc  lr
        0  COMPLETE   0.5000  0.1
        1  FAIL            -  0.001
    """
    keys = sorted({k for r in rows for k in r["params"]})
    lines = [f"{'trial':>5}  {'state':<8}  {'val_acc':>7}" + "".join(f"  {k}" for k in keys)]
    for r in rows[:top]:
        value = f"{r['value']:.4f}" if r["value"] is not None else "-"
        lines.append(f"{r['number']:>5}  {r['state']:<8}  {value:>7}"
                     + "".join(f"  {_fmt(r['params'].get(k, '')):<{len(k)}}" for k in keys))
    return "\n".join(line.rstrip() for line in lines)


def _save_axes(ax: Any, path: Path) -> None:
    fig = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
    fig.set_size_inches(7, 4.5)
    fig.tight_layout()
    save_figure(fig, path)
    import matplotlib.pyplot as plt

    plt.close(fig)


def plot_study(study: Any, out: Path) -> list[str]:
    """Write ``history.png``, ``importances.png`` (two or more completed trials) and ``lr.png`` (when ``lr`` is
    searched) into ``out``; returns the names written.

    >>> import pytest, tempfile
    >>> optuna = pytest.importorskip("optuna")  # the 'tune' extra
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(direction="maximize")
    >>> study.add_trial(optuna.trial.create_trial(params={"lr": 0.01}, value=0.9,
    ...     distributions={"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)}))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     plot_study(study, Path(d))
    ['history.png', 'lr.png']
    """
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as ovm

    done = [t for t in study.trials if t.value is not None]
    written = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning
        if done:
            _save_axes(ovm.plot_optimization_history(study, target_name="validation accuracy"), out / "history.png")
            written.append("history.png")
        if len(done) >= 2 and len({str(t.params) for t in done}) >= 2:
            try:
                _save_axes(ovm.plot_param_importances(study), out / "importances.png")
                written.append("importances.png")
            except (RuntimeError, ValueError, ZeroDivisionError):
                pass  # too few distinct trials to rank the parameters
        if done and "lr" in done[0].params:
            _save_axes(ovm.plot_slice(study, params=["lr"], target_name="validation accuracy"), out / "lr.png")
            written.append("lr.png")
    return written


def write_report(out: Path, study: Any, say: Callable[[str], None]) -> dict[str, Any]:
    """Write ``best.json``, ``trials.csv`` and the plots; print the best command line and the top trials.

    >>> import os, tempfile, types
    >>> with tempfile.TemporaryDirectory() as d:  # a study with no trials yet: no best, no plots
    ...     result = write_report(Path(d), types.SimpleNamespace(trials=[]), say=lambda line: None)
    ...     files = sorted(os.listdir(d))
    >>> result["best_value"], result["command"], files
    (None, None, ['best.json', 'trials.csv'])
    """
    from gradlab.train.jsonfile import write_json

    trials = [{"number": t.number, "state": t.state.name, "value": t.value, "params": dict(t.params),
               "config": t.user_attrs.get("config"), "worker_pid": t.user_attrs.get("worker_pid")}
              for t in study.trials]
    ranked = sorted(trials, key=lambda r: (r["value"] is None, -(r["value"] or 0.0), r["number"]))
    states: dict[str, int] = {}
    for r in trials:
        states[r["state"]] = states.get(r["state"], 0) + 1
    result: dict[str, Any] = {"trials": trials, "states": states, "best_value": None, "best_config": None,
                              "command": None}
    complete = [r for r in ranked if r["state"] == "COMPLETE"]
    if complete:
        best = complete[0]
        result.update(best_value=best["value"], best_config=best["config"], best_trial=best["number"],
                      command=train_command(best["config"]))
    write_json(out / "best.json", {k: v for k, v in result.items() if k != "trials"})
    buf = io.StringIO()
    keys = sorted({k for r in trials for k in r["params"]})
    w = csv.writer(buf)
    w.writerow(["number", "state", "value", *keys])
    for r in trials:
        w.writerow([r["number"], r["state"], "" if r["value"] is None else r["value"],
                    *[r["params"].get(k, "") for k in keys]])
    from gradlab.io.atomic import atomic_write_bytes

    atomic_write_bytes(out / "trials.csv", buf.getvalue().encode())
    try:
        result["plots"] = plot_study(study, out)
    except Exception as e:  # plots are a convenience: the search results stand without them
        result["plots"] = []
        say(f"(no plots: {type(e).__name__}: {e})")
    say(f"{len(trials)} trials: " + ", ".join(f"{n} {s.lower()}" for s, n in sorted(states.items())))
    say(format_table(ranked))
    if result["command"]:
        say(f"best: trial {result['best_trial']}, validation accuracy {result['best_value']:.4f}")
        say(f"train it with:\n  {result['command']}")
    say(f"wrote {out}/: best.json, trials.csv" + "".join(f", {p}" for p in result["plots"]))
    return result


def train_command(config: dict[str, Any]) -> str:
    """The ``gradlab train`` command line that trains ``config`` (a run config dict).

    >>> train_command({"dataset": "mnist", "model": "cnn", "optimizer": "sgd", "lr": 0.05, "epochs": 1,
    ...                "batch_size": 32})
    'gradlab train --dataset mnist --model cnn --optimizer sgd --lr 0.05 --epochs 1 --batch-size 32'
    """
    mk = config.get("model_kwargs", {})
    parts = ["gradlab train", f"--dataset {config['dataset']}", f"--model {config['model']}",
             f"--optimizer {config['optimizer']}", f"--lr {config['lr']:.4g}", f"--epochs {config['epochs']}",
             f"--batch-size {config['batch_size']}"]
    for key, flag in (("weight_decay", "--weight-decay"), ("momentum", "--momentum")):
        if config.get(key):
            parts.append(f"{flag} {config[key]:.4g}")
    if config.get("scheduler", "none") != "none":
        parts.append(f"--scheduler {config['scheduler']}")
    if config.get("limit") is not None:
        parts.append(f"--limit {config['limit']}")
    if config["model"] == "mlp":
        parts.append(f"--hidden {','.join(str(h) for h in mk.get('hidden', [])) or 'none'}")
        if mk.get("activation", "relu") != "relu":
            parts.append(f"--activation {mk['activation']}")
        if mk.get("dropout"):
            parts.append(f"--dropout {mk['dropout']:.4g}")
        if mk.get("batch_norm"):
            parts.append("--batch-norm")
    if not math.isclose(float(config.get("val_split", 0.1)), 0.1):
        parts.append(f"--val-split {config['val_split']:g}")
    return " ".join(parts)
