"""The char-LM side of ``gradlab train`` (``--model charlstm --text FILE``): its options and its run function.

The training engine is :mod:`gradlab.train.charlm`; this module only checks the arguments and prints.

>>> CHARLM_TRAIN_DEFAULTS["lr"]
0.002
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradlab.cli._parser import UsageError, check_out, explicit_options, number

__all__ = ["CHARLM_TRAIN_DEFAULTS", "add_text_arguments", "run_charlm"]

#: Defaults of ``gradlab train`` options that differ for the char-LM (used unless the option is given).
CHARLM_TRAIN_DEFAULTS: dict[str, Any] = {"hidden": (256, 256), "lr": 2e-3, "batch_size": 64, "out": "runs/charlstm"}
_IGNORED_TRAIN_OPTIONS = ("dataset", "data_dir", "activation", "batch_norm", "scheduler", "momentum")


def add_text_arguments(p: argparse.ArgumentParser) -> None:
    """The ``gradlab train`` options of the character-level model (``--model charlstm``).

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="t"); add_text_arguments(p); p.parse_args(["--seq-len", "20"]).seq_len
    20
    """
    t = p.add_argument_group("text (--model charlstm)")
    t.add_argument("--text", metavar="FILE", help="UTF-8 text file to train a character-level model on "
                   "(with --model charlstm; --hidden gives the LSTM layers, e.g. 256,256; --limit N keeps the "
                   "first N characters; defaults then: --lr 2e-3 --batch-size 64 --out runs/charlstm)")
    t.add_argument("--seq-len", type=number(int, "--seq-len", 1), default=100, metavar="N",
                   help="characters per training window (default 100)")
    t.add_argument("--embedding-dim", type=number(int, "--embedding-dim", 1), default=64, metavar="N",
                   help="character embedding size (64)")


def run_charlm(args: argparse.Namespace) -> int:
    """``gradlab train --model charlstm --text FILE``: train, write the run folder, print the validation loss.

    >>> from gradlab.cli import main
    >>> main(["train", "--model", "charlstm", "--text", "no-such-file.txt"])  # the error goes to stderr
    2
    """
    import gradlab
    from gradlab.models.rnn import sample
    from gradlab.train.callbacks import ProgressBar
    from gradlab.train.charlm import train_charlm

    if args.model != "charlstm":
        raise UsageError(f"--text trains a character-level model: use it with --model charlstm, not {args.model}")
    if not args.text:
        raise UsageError("--model charlstm needs --text FILE (a UTF-8 text to learn from)")
    if not Path(args.text).is_file():
        raise UsageError(f"--text {args.text!r}: no such file")
    given = set(explicit_options("train", getattr(args, "_argv", [])))
    pick: dict[str, Any] = {k: (getattr(args, k) if k in given else v) for k, v in CHARLM_TRAIN_DEFAULTS.items()}
    hidden = tuple(pick["hidden"])
    if not hidden or len(set(hidden)) != 1:
        raise UsageError(f"--hidden for charlstm lists equal LSTM layer sizes like 256,256, got {hidden}")
    check_out(Path(pick["out"]), args)
    ignored = [f"--{k.replace('_', '-')}" for k in _IGNORED_TRAIN_OPTIONS if k in given]
    if ignored:
        print(f"gradlab train: {', '.join(ignored)} do not apply to charlstm; ignored", file=sys.stderr)
    res = train_charlm(
        args.text, pick["out"], seq_len=args.seq_len, batch_size=pick["batch_size"],
        embedding_dim=args.embedding_dim, hidden_size=hidden[0], num_layers=len(hidden), dropout=args.dropout,
        optimizer=args.optimizer, lr=pick["lr"], weight_decay=args.weight_decay, epochs=args.epochs,
        clip_grad_norm=args.clip_grad_norm,
        val_split=args.val_split, seed=args.seed, limit=args.limit,
        resume=args.resume, progress=False, callbacks=[ProgressBar(bar=not args.no_progress)], on_nan=args.on_nan,
        overwrite=args.overwrite,
    )
    if res.get("stopped"):
        print(f"gradlab train: {res['stopped']}", file=sys.stderr)
    hist = res["history"].history
    if hist.get("val_loss"):
        print("validation losses: " + ", ".join(f"{v:.4f}" for v in hist["val_loss"]))
        print(f"validation loss: {res['val_loss']:.4f} nats/char ({res['val_bpc']:.3f} bits/char), "
              f"{res['epochs']} epochs, {res['train_time_s']:.1f}s")
    gen = gradlab.Generator(args.seed)
    print("sample: " + repr(sample(res["model"], res["vocab"], "", 120, 0.8, generator=gen)))
    print(f"wrote {pick['out']}/: weights.safetensors, vocab.json, config.json, checkpoint/, history.json, "
          f"curves.png, results.json")
    return 0
