"""The char-LM side of ``gradlab train`` (``--model charlstm|transformer --text FILE``): its options and its run
function.

The training engine is :mod:`gradlab.train.charlm`; this module only checks the arguments and prints.

>>> CHARLM_TRAIN_DEFAULTS["charlstm"]["lr"], CHARLM_TRAIN_DEFAULTS["transformer"]["lr"]
(0.002, 0.001)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradlab.cli._parser import UsageError, check_out, explicit_options, number

__all__ = ["CHARLM_TRAIN_DEFAULTS", "TEXT_MODELS", "TRANSFORMER_OPTIONS", "add_text_arguments", "run_charlm"]

#: Per model, the defaults of ``gradlab train`` options that differ for the char-LMs (used unless the option is given).
CHARLM_TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "charlstm": {"hidden": (256, 256), "lr": 2e-3, "batch_size": 64, "out": "runs/charlstm"},
    "transformer": {"lr": 1e-3, "batch_size": 64, "out": "runs/transformer"},
}
#: The models of ``--text FILE`` (the CLI's copy of :data:`gradlab.train.charlm.TEXT_MODELS`: no training code
#: is imported to read it).
TEXT_MODELS = ("charlstm", "transformer")
#: The options of ``--model transformer`` only (argparse destinations).
TRANSFORMER_OPTIONS = ("d_model", "heads", "layers", "ff_dim", "positional", "tie_weights", "norm_first", "context")
_LSTM_OPTIONS = ("hidden", "embedding_dim")
_IGNORED_TRAIN_OPTIONS = ("dataset", "data_dir", "activation", "batch_norm", "scheduler", "momentum")


def add_text_arguments(p: argparse.ArgumentParser) -> None:
    """The ``gradlab train`` options of the character-level models (``--model charlstm`` and ``transformer``).

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="t"); add_text_arguments(p); p.parse_args(["--seq-len", "20"]).seq_len
    20
    """
    t = p.add_argument_group("text (--model charlstm or transformer)")
    t.add_argument("--text", metavar="FILE", help="UTF-8 text file to train a character-level model on "
                   "(with --model charlstm or --model transformer; for charlstm --hidden "
                   "gives the LSTM layers, e.g. 256,256; --limit N keeps the first N characters; defaults then: "
                   "--lr 2e-3 (transformer 1e-3) --batch-size 64 --out runs/charlstm or runs/transformer)")
    t.add_argument("--seq-len", type=number(int, "--seq-len", 1), default=100, metavar="N",
                   help="characters per training window (default 100; transformer: --context)")
    t.add_argument("--embedding-dim", type=number(int, "--embedding-dim", 1), default=64, metavar="N",
                   help="charlstm: character embedding size (64)")
    x = p.add_argument_group("transformer (--model transformer --text FILE)")
    x.add_argument("--d-model", type=number(int, "--d-model", 1), default=128, metavar="N",
                   help="embedding and model width, divisible by --heads (default 128)")
    x.add_argument("--heads", type=number(int, "--heads", 1), default=4, metavar="N", help="attention heads (4)")
    x.add_argument("--layers", type=number(int, "--layers", 1), default=2, metavar="N", help="encoder layers (2)")
    x.add_argument("--ff-dim", type=number(int, "--ff-dim", 1), default=None, metavar="N",
                   help="feed-forward width of each layer (default 4 x --d-model)")
    x.add_argument("--context", type=number(int, "--context", 1), default=None, metavar="N",
                   help="the most characters the model reads at once (default --seq-len; --seq-len then defaults "
                   "to it, and may not exceed it); sampling keeps the last N characters")
    x.add_argument("--positional", choices=("learned", "sinusoidal"), default="learned",
                   help="positional encoding: learned (an embedding per position, default) or sinusoidal (fixed)")
    x.add_argument("--tie-weights", action="store_true",
                   help="the output layer shares the character embedding's weights")
    x.add_argument("--norm-first", action=argparse.BooleanOptionalAction, default=True,
                   help="pre-norm layers: LayerNorm before attention and feed-forward (default); --no-norm-first "
                   "for post-norm (the original transformer)")


def _transformer_kwargs(args: argparse.Namespace, given: set[str]) -> tuple[int, dict[str, Any]]:
    """``(seq_len, model_kwargs)`` of a ``--model transformer`` run, checked (UsageError naming the flag)."""
    if args.d_model % args.heads:
        raise UsageError(f"--d-model {args.d_model} must be divisible by --heads {args.heads}")
    context = args.context if args.context is not None else args.seq_len
    seq_len = args.seq_len if "seq_len" in given else context
    if seq_len > context:
        raise UsageError(f"--seq-len {seq_len} is longer than --context {context}: the model reads at most "
                         f"--context characters")
    kwargs = {"d_model": args.d_model, "nhead": args.heads, "num_layers": args.layers,
              "dim_feedforward": args.ff_dim if args.ff_dim is not None else 4 * args.d_model, "context": context,
              "dropout": args.dropout, "positional": args.positional, "norm_first": args.norm_first,
              "tie_weights": args.tie_weights}
    return seq_len, kwargs


def run_charlm(args: argparse.Namespace) -> int:
    """``gradlab train --model charlstm|transformer --text FILE``: train, write the run folder, print the
    validation loss.

    >>> from gradlab.cli import main
    >>> main(["train", "--model", "charlstm", "--text", "no-such-file.txt"])  # the error goes to stderr
    2
    """
    import gradlab
    from gradlab.models.sampling import sample
    from gradlab.train.callbacks import ProgressBar
    from gradlab.train.charlm import train_charlm

    if args.model not in TEXT_MODELS:
        raise UsageError(f"--text trains a character-level model: use it with --model charlstm or transformer, "
                         f"not {args.model}")
    model = args.model
    given = set(explicit_options("train", getattr(args, "_argv", [])))
    if not args.text:
        raise UsageError(f"--model {model} needs --text FILE (a UTF-8 text to learn from)")
    if not Path(args.text).is_file():
        raise UsageError(f"--text {args.text!r}: no such file")
    foreign = _LSTM_OPTIONS if model == "transformer" else TRANSFORMER_OPTIONS
    wrong = [f"--{k.replace('_', '-')}" for k in foreign if k in given]
    if wrong:
        raise UsageError(f"{wrong[0]} is not an option of --model {model}")
    pick: dict[str, Any] = {k: (getattr(args, k) if k in given else v) for k, v in CHARLM_TRAIN_DEFAULTS[model].items()}
    seq_len, model_kwargs = args.seq_len, None
    if model == "charlstm":
        hidden = tuple(pick["hidden"])
        if not hidden or len(set(hidden)) != 1:
            raise UsageError(f"--hidden for charlstm lists equal LSTM layer sizes like 256,256, got {hidden}")
        lstm = {"embedding_dim": args.embedding_dim, "hidden_size": hidden[0], "num_layers": len(hidden)}
    else:
        seq_len, model_kwargs = _transformer_kwargs(args, given)
        lstm = {}
    check_out(Path(pick["out"]), args)
    ignored = [f"--{k.replace('_', '-')}" for k in _IGNORED_TRAIN_OPTIONS if k in given]
    if ignored:
        print(f"gradlab train: {', '.join(ignored)} do not apply to {model}; ignored", file=sys.stderr)
    res = train_charlm(
        args.text, pick["out"], seq_len=seq_len, batch_size=pick["batch_size"], dropout=args.dropout,
        optimizer=args.optimizer, lr=pick["lr"], weight_decay=args.weight_decay, epochs=args.epochs,
        clip_grad_norm=args.clip_grad_norm,
        val_split=args.val_split, seed=args.seed, limit=args.limit,
        resume=args.resume, progress=False, callbacks=[ProgressBar(bar=not args.no_progress)], on_nan=args.on_nan,
        overwrite=args.overwrite, model=model, model_kwargs=model_kwargs, **lstm,
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
