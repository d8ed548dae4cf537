"""``gradlab viz filters|activations RUN_DIR``: PNG pictures of a trained convolutional network.

>>> COMMAND.name
'viz'
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gradlab.cli._parser import Command, UsageError, number, run_dir_argument

__all__ = ["COMMAND", "add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``gradlab viz``.

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="v"); add_arguments(p); p.parse_args(["filters", "runs/a"]).what
    'filters'
    """
    p.add_argument("what", choices=("filters", "activations"),
                   help="filters: the first convolution layer's filters; activations: the first conv layers' "
                        "feature maps for one test image")
    run_dir_argument(p, "a folder written by 'gradlab train' with a convolutional model")
    p.add_argument("--index", type=number(int, "--index", 0), default=0, metavar="N",
                   help="activations: which test image (default 0)")
    p.add_argument("--layers", type=number(int, "--layers", 1), default=2, metavar="K",
                   help="activations: how many convolution layers (default 2)")
    p.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (default: searched)")
    p.add_argument("--out", metavar="FILE", help="PNG to write (default RUN_DIR/filters.png or "
                                                 "RUN_DIR/activations-N.png)")


def run(args: argparse.Namespace) -> int:
    """``gradlab viz filters|activations RUN_DIR``: write the PNG and print its path.

    >>> from gradlab.cli import main
    >>> main(["viz", "filters", "no-such-run"])  # the error goes to stderr
    2
    """
    from gradlab import viz
    from gradlab.train.experiment import load_dataset, load_run_model

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"run folder {str(run_dir)!r} does not exist")
    model, config = load_run_model(run_dir, data_dir=args.data_dir)
    if not viz.conv_layers(model):
        raise UsageError(f"the model of {str(run_dir)!r} ({config['model']}) has no convolution layer")
    if args.what == "filters":
        path = viz.plot_filters(viz.first_conv_weight(model), args.out or run_dir / "filters.png",
                                title=f"{config['model']} first-layer filters")
    else:
        x, y, info = load_dataset(config["dataset"], train=False, root=args.data_dir, limit=args.index + 1)
        if args.index >= len(x):
            raise UsageError(f"--index {args.index} is past the end of the test set ({len(x)} images)")
        label = info.get("classes", [])[int(y[args.index])] if info.get("classes") else int(y[args.index])
        path = viz.plot_activations(model, x[args.index], args.out or run_dir / f"activations-{args.index}.png",
                                    layers=args.layers, title=f"test image {args.index} (label {label})")
    print(f"wrote {path}")
    return 0


COMMAND = Command("viz", "pictures of a trained CNN: filters or activations (PNG)", add_arguments, run,
                  "Write a PNG of the first convolution layer's filters, or of the feature maps of "
                  "the first convolution layers for one test image, from a 'gradlab train' run folder.")
