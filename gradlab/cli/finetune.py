"""``gradlab finetune``: fine-tune a pretrained run (or a safetensors weights file, PyTorch-made ones included) on a
dataset, with frozen layers, a new head and the L2-SP penalty; writes a normal run folder.

The engine is :func:`gradlab.train.finetune.run_finetune`.

>>> COMMAND.name
'finetune'
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from gradlab.cli._parser import Command, UsageError, check_out, number

__all__ = ["COMMAND", "add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the options of ``gradlab finetune`` on ``p``.

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="t"); add_arguments(p)
    >>> p.parse_args(["runs/a", "--freeze", "features.*", "--new-head", "10"]).freeze
    ['features.*']
    """
    from gradlab.models import list_models
    from gradlab.train.experiment import DATASETS, OPTIMIZERS, SCHEDULERS

    p.add_argument("pretrained", metavar="PRETRAINED_RUN",
                   help="a gradlab run folder, or a .safetensors weights file (then --model names the architecture)")
    f = p.add_argument_group("fine-tuning")
    f.add_argument("--freeze", action="append", default=[], metavar="PATTERN",
                   help="freeze the parameters whose names match (fnmatch, e.g. 'features.*'); repeatable")
    f.add_argument("--new-head", type=number(int, "--new-head", 1), metavar="N",
                   help="replace the last Linear layer by a fresh one with N outputs")
    f.add_argument("--l2sp", type=number(float, "--l2sp", 0.0, high=None), default=0.0, metavar="LAMBDA",
                   help="L2-SP: add LAMBDA * ||theta - theta_pretrained||^2 over the shared trainable weights")
    f.add_argument("--model", choices=list_models(), help="architecture of a weights file (default: the run's)")
    f.add_argument("--model-kwargs", default="{}", metavar="JSON",
                   help="constructor options of --model as a JSON object (e.g. '{\"hidden\": [128]}')")
    d = p.add_argument_group("data")
    d.add_argument("--dataset", default="fashion-mnist", choices=sorted(DATASETS), help="dataset (fashion-mnist)")
    d.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (default: searched)")
    d.add_argument("--limit", type=number(int, "--limit", 1), metavar="N", help="first N training images only")
    d.add_argument("--val-split", type=number(float, "--val-split", 0.0, 1.0), default=0.1, metavar="F",
                   help="fraction held out for validation (default 0.1)")
    d.add_argument("--batch-size", type=number(int, "--batch-size", 1), default=64, metavar="N",
                   help="mini-batch size (default 64)")
    o = p.add_argument_group("optimisation")
    o.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS), help="optimizer (default adam)")
    o.add_argument("--lr", type=number(float, "--lr", 0.0, low_open=True, high=None), default=1e-3,
                   help="learning rate (default 1e-3)")
    o.add_argument("--momentum", type=number(float, "--momentum", 0.0, 1.0), default=0.0, help="momentum (0)")
    o.add_argument("--weight-decay", type=number(float, "--weight-decay", 0.0, high=None), default=0.0,
                   help="L2 weight decay (default 0)")
    o.add_argument("--scheduler", default="none", choices=list(SCHEDULERS), help="learning-rate schedule (none)")
    o.add_argument("--epochs", type=number(int, "--epochs", 1), default=5, help="epochs (default 5)")
    o.add_argument("--seed", type=number(int, "--seed", 0, None), default=0, help="random seed (default 0)")
    r = p.add_argument_group("run")
    r.add_argument("--out", default="runs/finetune", metavar="DIR", help="run folder (default runs/finetune)")
    r.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    r.add_argument("--overwrite", action="store_true", help="replace the earlier run in a non-empty --out")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """``gradlab finetune``: fine-tune, write the run folder, print the test accuracy.

    >>> from gradlab.cli import main
    >>> main(["finetune", "--no-such-flag"])  # a bad flag: the usage error goes to stderr, exit status 2
    2
    """
    from gradlab.train.callbacks import ProgressBar
    from gradlab.train.finetune import run_finetune

    try:
        model_kwargs = json.loads(args.model_kwargs)
    except json.JSONDecodeError as e:
        raise UsageError(f"--model-kwargs is not JSON: {e.msg}") from None
    if not isinstance(model_kwargs, dict):
        raise UsageError("--model-kwargs must be a JSON object")
    if not Path(args.pretrained).exists():
        raise UsageError(f"PRETRAINED_RUN {args.pretrained} does not exist")
    out = Path(args.out)
    check_out(out, args)
    results = run_finetune(
        args.pretrained, out, args.dataset, new_head=args.new_head, freeze=args.freeze, l2sp=args.l2sp,
        model=args.model, model_kwargs=model_kwargs, data_dir=args.data_dir, resume=args.resume,
        overwrite=args.overwrite, callbacks=[ProgressBar(bar=not args.no_progress)], limit=args.limit,
        val_split=args.val_split, batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
        momentum=args.momentum, weight_decay=args.weight_decay, scheduler=args.scheduler, epochs=args.epochs,
        seed=args.seed,
    )
    print(f"test accuracy: {results['test_accuracy']:.4f} (test loss {results['test_loss']:.4f}, "
          f"{results['epochs']} epochs, {results['train_time_s']:.1f}s)")
    print(f"wrote {out}/: weights.safetensors, checkpoint/, history.json, curves.png, config.json, results.json")
    return 0


COMMAND = Command("finetune", "fine-tune a pretrained run on a dataset", add_arguments, run,
                  "Fine-tune a pretrained run folder (or a safetensors weights file, PyTorch-made ones included): "
                  "load its weights, optionally replace the head (--new-head), freeze layers (--freeze) and "
                  "anchor the rest to the pretrained values (--l2sp); writes a normal run folder to --out.")
