"""``gradlab evaluate RUN_DIR``: rebuild a trained model from its run folder and print test loss and accuracy.

>>> COMMAND.name
'evaluate'
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gradlab.cli._parser import Command, UsageError, number, run_dir_argument

__all__ = ["COMMAND", "add_arguments", "run", "check_run_dir"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``gradlab evaluate``.

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="e"); add_arguments(p); p.parse_args(["runs/a"]).batch_size
    1000
    """
    run_dir_argument(p, "a folder written by 'gradlab train' (its --out)")
    p.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (default: searched)")
    p.add_argument("--batch-size", type=number(int, "--batch-size", 1), default=1000, metavar="N",
                   help="evaluation batch size (default 1000)")
    p.add_argument("--limit", type=number(int, "--limit", 1), metavar="N", help="evaluate on the first N test images")


def check_run_dir(path: str, needs: tuple[str, ...] = ("config.json", "weights.safetensors"),
                  what: str = "'gradlab train'") -> Path:
    """``path`` as a run folder holding ``needs``, or a :class:`UsageError` saying what was expected.

    >>> check_run_dir("/nonexistent/run")
    Traceback (most recent call last):
    gradlab.cli._parser.UsageError: run folder '/nonexistent/run' does not exist
    """
    run = Path(path)
    if run.is_file():
        raise UsageError(f"{str(run)!r} is a file: expected a run folder written by {what} (its --out), "
                         f"holding {' and '.join(needs)}")
    if not run.is_dir():
        raise UsageError(f"run folder {str(run)!r} does not exist")
    for name in needs:
        if not (run / name).is_file():
            raise UsageError(f"{str(run)!r} is not a finished run folder (no {name})")
    return run


def run(args: argparse.Namespace) -> int:
    """``gradlab evaluate RUN_DIR``: print the test loss and accuracy of a finished run.

    >>> from gradlab.cli import main
    >>> main(["evaluate", "no-such-run"])  # the error goes to stderr
    2
    """
    from gradlab.train.experiment import evaluate_run

    run_dir = check_run_dir(args.run_dir)
    res = evaluate_run(run_dir, data_dir=args.data_dir, batch_size=args.batch_size, limit=args.limit)
    print(f"{res['model']} on {res['dataset']} test set ({res['n']} images): "
          f"test loss {res['test_loss']:.4f}, test accuracy {res['test_accuracy']:.4f}")
    return 0


COMMAND = Command("evaluate", "evaluate a trained run on the test set", add_arguments, run,
                  "Rebuild a model from RUN_DIR/config.json and weights.safetensors; print test loss/accuracy.")
