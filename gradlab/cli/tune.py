"""``gradlab tune``: hyperparameter search on Optuna (:mod:`gradlab.train.tune`): random search (or TPE) over a
search space from a TOML/YAML file or flags, per-epoch pruning, K-fold cross-validation, several worker processes on
one stored study, ``--resume``. Prints the best configuration as a ready ``gradlab train`` command line.

>>> COMMAND.name
'tune'
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gradlab.cli._parser import Command, UsageError, number, parse_hidden

__all__ = ["COMMAND", "add_arguments", "run", "SPACE_FLAGS"]

#: flags that set one option's distribution: (flag, option, log scale)
SPACE_FLAGS = (("--lr", "lr", True), ("--weight-decay", "weight_decay", True), ("--dropout", "dropout", False),
               ("--batch-size", "batch_size", False), ("--hidden", "hidden", False),
               ("--momentum", "momentum", False))


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the options of ``gradlab tune`` on ``p``.

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="t"); add_arguments(p); p.parse_args(["--trials", "5", "--lr", "1e-4:1e-1"]).lr
    '1e-4:1e-1'
    """
    from gradlab.models import ACTIVATIONS, list_models
    from gradlab.train.experiment import DATASETS, OPTIMIZERS

    s = p.add_argument_group("search")
    s.add_argument("--trials", type=number(int, "--trials", 1), default=20, help="trials in all (default 20)")
    s.add_argument("--sampler", choices=("random", "tpe"), default="random",
                   help="random search (default, as the notes recommend) or TPE")
    s.add_argument("--space", metavar="FILE", help="search space, a .toml or .yaml file (one table per option)")
    for flag, key, log in SPACE_FLAGS:
        s.add_argument(flag, metavar="LOW:HIGH|A,B", help=f"search {key} over LOW:HIGH"
                       + (" (log scale)" if log else "") + " or the choices A,B,..."
                       + (" (hidden: choices separated by |, e.g. 128|256,256)" if key == "hidden" else ""))
    s.add_argument("--cv", type=number(int, "--cv", 2), metavar="K", help="score trials by K-fold cross-validation")
    s.add_argument("--no-prune", action="store_true", help="no median pruning of trailing trials")
    s.add_argument("--seed", type=number(int, "--seed", 0, None), default=0, help="random seed (default 0)")
    b = p.add_argument_group("fixed training options")
    b.add_argument("--dataset", default="mnist", choices=sorted(DATASETS), help="dataset (default mnist)")
    b.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (default: searched)")
    b.add_argument("--limit", type=number(int, "--limit", 1), metavar="N", help="first N training images only")
    b.add_argument("--val-split", type=number(float, "--val-split", 0.0, 1.0, low_open=True), default=0.1,
                   metavar="F", help="validation fraction without --cv (default 0.1)")
    b.add_argument("--model", default="mlp", choices=list_models(), help="model architecture (default mlp)")
    b.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS), help="hidden activation (relu)")
    b.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS), help="optimizer (default adam)")
    b.add_argument("--epochs", type=number(int, "--epochs", 1), default=3, help="epochs per trial (default 3)")
    r = p.add_argument_group("study")
    r.add_argument("--out", default="runs/tune", metavar="DIR", help="folder of the study (default runs/tune)")
    r.add_argument("--storage", metavar="URL", help="an SQLAlchemy URL (e.g. postgresql://...) or 'journal' "
                   "(Optuna's journal file in --out); default: SQLite --out/study.db")
    r.add_argument("--workers", type=number(int, "--workers", 1), default=1, help="worker processes (default 1)")
    r.add_argument("--resume", action="store_true", help="continue the study stored in --out up to --trials")
    r.add_argument("--heartbeat", type=number(int, "--heartbeat", 1), default=30, metavar="S",
                   help="seconds between worker heartbeats; a trial silent for 2x that is marked failed (30)")


def run(args: argparse.Namespace) -> int:
    """``gradlab tune``: search, then print the best command line and the top trials.

    >>> from gradlab.cli import main
    >>> main(["tune", "--no-such-flag"])  # a bad flag: the usage error goes to stderr, exit status 2
    2
    """
    from gradlab.train.experiment import make_config
    from gradlab.train.search_space import DEFAULT_SPACE, load_space, parse_range
    from gradlab.train.tune import import_optuna, run_tune

    try:
        import_optuna()
    except ImportError as e:
        raise UsageError(str(e)) from None
    space = load_space(args.space) if args.space else {}
    flagged = {}
    for _flag, key, log in SPACE_FLAGS:
        text = getattr(args, key)
        if text is not None:
            try:
                flagged[key] = parse_range(text, key, log)
            except ValueError as e:
                raise UsageError(str(e)) from None
    space = {**(space or ({} if flagged else DEFAULT_SPACE)), **flagged}
    if args.model != "mlp":
        space = {k: v for k, v in space.items() if k not in ("hidden", "dropout")}
    base = make_config(dataset=args.dataset, model=args.model, hidden=parse_hidden("512,512"),
                       activation=args.activation, optimizer=args.optimizer, epochs=args.epochs,
                       seed=args.seed, val_split=args.val_split, limit=args.limit)
    if not args.resume and Path(args.out).exists() and any(Path(args.out).iterdir()):
        raise UsageError(f"--out {args.out} is not empty: continue its study with --resume, or choose another --out")
    run_tune(args.out, base, space, trials=args.trials, sampler=args.sampler, seed=args.seed, cv=args.cv,
             storage=args.storage, workers=args.workers, resume=args.resume, heartbeat=args.heartbeat,
             prune=not args.no_prune, data_dir=args.data_dir)
    return 0


COMMAND = Command("tune", "hyperparameter search on Optuna (random/TPE, pruning, CV, workers)", add_arguments, run,
                  "Search hyperparameters with Optuna: each trial trains a configuration drawn from the search "
                  "space (--space FILE or --lr/--weight-decay/--dropout/--batch-size/--hidden) and is scored by "
                  "validation accuracy (--cv K: K-fold); the study is stored in --out (SQLite) so --workers "
                  "processes can share it and --resume continue it. Prints the best config as a gradlab train "
                  "command line and the top trials; writes best.json, trials.csv and PNG plots.")
