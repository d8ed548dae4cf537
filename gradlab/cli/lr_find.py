"""``gradlab lr-find``: the learning-rate range test (:func:`gradlab.train.lr_finder.lr_find`) for a model and
dataset described as for ``gradlab train``: one epoch with the learning rate rising exponentially, a plot of the loss
against it, and the suggested value printed.

>>> COMMAND.name
'lr-find'
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gradlab.cli._parser import Command, UsageError, number, parse_hidden

__all__ = ["COMMAND", "add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the options of ``gradlab lr-find`` on ``p``.

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="t"); add_arguments(p); p.parse_args(["--end-lr", "1"]).end_lr
    1.0
    """
    from gradlab.models import ACTIVATIONS, list_models
    from gradlab.train.experiment import DATASETS, OPTIMIZERS

    p.add_argument("--dataset", default="mnist", choices=sorted(DATASETS), help="dataset (default mnist)")
    p.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (default: searched)")
    p.add_argument("--limit", type=number(int, "--limit", 1), metavar="N", help="first N training images only")
    p.add_argument("--batch-size", type=number(int, "--batch-size", 1), default=128, metavar="N",
                   help="mini-batch size (default 128)")
    p.add_argument("--model", default="mlp", choices=list_models(), help="model architecture (default mlp)")
    p.add_argument("--hidden", type=parse_hidden, default=(512, 512), metavar="SIZES",
                   help="hidden layer widths of the mlp (default 512,512)")
    p.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS), help="hidden activation (relu)")
    p.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS), help="optimizer (default adam)")
    p.add_argument("--momentum", type=number(float, "--momentum", 0.0, 1.0), default=0.0, help="momentum (0)")
    p.add_argument("--weight-decay", type=number(float, "--weight-decay", 0.0, high=None), default=0.0,
                   help="L2 weight decay (default 0)")
    p.add_argument("--start-lr", type=number(float, "--start-lr", 0.0, low_open=True, high=None), default=1e-6,
                   help="first learning rate (default 1e-6)")
    p.add_argument("--end-lr", type=number(float, "--end-lr", 0.0, low_open=True, high=None), default=10.0,
                   help="last learning rate (default 10)")
    p.add_argument("--seed", type=number(int, "--seed", 0, None), default=0, help="random seed (default 0)")
    p.add_argument("--plot", default="lr-find.png", metavar="PNG", help="where to draw loss vs lr (lr-find.png)")


def run(args: argparse.Namespace) -> int:
    """``gradlab lr-find``: sweep, plot, print the suggestion.

    >>> from gradlab.cli import main
    >>> main(["lr-find", "--no-such-flag"])  # a bad flag: the usage error goes to stderr, exit status 2
    2
    """
    from gradlab import nn
    from gradlab.train.experiment import make_config, prepare_run
    from gradlab.train.lr_finder import lr_find, plot_lr_find

    if args.start_lr >= args.end_lr:
        raise UsageError(f"--start-lr ({args.start_lr:g}) must be below --end-lr ({args.end_lr:g})")
    config = make_config(dataset=args.dataset, model=args.model, hidden=args.hidden, activation=args.activation,
                         optimizer=args.optimizer, lr=args.start_lr, momentum=args.momentum,
                         weight_decay=args.weight_decay, epochs=1, batch_size=args.batch_size, seed=args.seed,
                         val_split=0.0, limit=args.limit)
    run = prepare_run(config, args.data_dir)
    result = lr_find(run["model"], nn.CrossEntropyLoss(), run["optimizer"], run["train_loader"], args.start_lr,
                     args.end_lr)
    path = plot_lr_find(result, Path(args.plot), title=f"{args.model} on {args.dataset}: lr range test")
    print(f"swept {len(result['lrs'])} steps from lr {result['lrs'][0]:.2g} to {result['lrs'][-1]:.2g}")
    print(f"suggested learning rate: {result['suggestion']:.3g}")
    print(f"wrote {path}")
    return 0


COMMAND = Command("lr-find", "learning-rate range test: loss against an exponentially rising lr", add_arguments, run,
                  "Train one epoch with the learning rate rising exponentially from --start-lr to --end-lr, plot "
                  "the loss against it (--plot) and print the learning rate where the loss falls fastest.")
