"""The ``gradlab`` command line (also ``python -m gradlab``).

Subcommands live in :data:`COMMANDS`: each is a :class:`Command` with a function adding its arguments and a function
running it (``run(args) -> exit status``); :func:`register_command` adds more (``sample``, ``viz``, ...).
Bad arguments print one line to stderr and exit with status 2; failures while running exit with status 1.

>>> main(["--version"])  # doctest: +ELLIPSIS
gradlab ...
0
>>> main(["train", "--lr", "-1"])
2
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser", "Command", "COMMANDS", "register_command", "UsageError"]


class UsageError(Exception):
    """A bad command-line argument found while running a command (reported like argparse errors: status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``gradlab train: error: ...`` on stderr, exit status 2, no usage dump."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message.splitlines()[0] if message else 'bad arguments'}\n")


# ---------------------------------------------------------------- argument types
def _number(kind: type, name: str, low: float | None = None, high: float | None = None, low_open: bool = False,
            high_open: bool = True) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if kind is float and value != value:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}")
        bad_low = low is not None and (value <= low if low_open else value < low)
        bad_high = high is not None and (value >= high if high_open else value > high)
        if bad_low or bad_high:
            lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
            hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
            raise argparse.ArgumentTypeError(f"{name} must be {' and '.join(p for p in (lo, hi) if p)}, got {text}")
        return value

    parse.__name__ = name  # argparse names the type in some messages
    return parse


def parse_hidden(text: str) -> tuple[int, ...]:
    """``'512,512'`` -> ``(512, 512)``; ``''`` or ``'none'`` -> no hidden layer.

    >>> parse_hidden("512, 256")
    (512, 256)
    """
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden must be comma-separated positive integers like 512,512, got {text!r}") from None
    if any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be positive, got {text!r}")
    return sizes


# ---------------------------------------------------------------- subcommands
@dataclass
class Command:
    """One subcommand: ``add_arguments(parser)`` declares its options, ``run(args) -> int`` carries it out."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


COMMANDS: dict[str, Command] = {}


def register_command(command: Command) -> Command:
    """Add a subcommand (later ones: ``sample``, ``viz``, ``playground``)."""
    COMMANDS[command.name] = command
    return command


def _add_train_arguments(p: argparse.ArgumentParser) -> None:
    from gradlab.models import ACTIVATIONS, list_models
    from gradlab.train.experiment import DATASETS, OPTIMIZERS, SCHEDULERS

    d = p.add_argument_group("data")
    d.add_argument("--dataset", default="mnist", choices=sorted(DATASETS), help="dataset to train on (default mnist)")
    d.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (default: searched)")
    d.add_argument("--limit", type=_number(int, "--limit", 1), metavar="N",
                   help="train on the first N training images only (quick runs)")
    d.add_argument("--val-split", type=_number(float, "--val-split", 0.0, 1.0), default=0.1, metavar="F",
                   help="fraction of the training images held out for validation (default 0.1; 0 for none)")
    d.add_argument("--batch-size", type=_number(int, "--batch-size", 1), default=128, metavar="N",
                   help="mini-batch size (default 128)")
    m = p.add_argument_group("model")
    m.add_argument("--model", default="mlp", choices=list_models(), help="model architecture (default mlp)")
    m.add_argument("--hidden", type=parse_hidden, default=(512, 512), metavar="SIZES",
                   help="hidden layer widths, comma-separated (default 512,512)")
    m.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS), help="hidden activation (relu)")
    m.add_argument("--dropout", type=_number(float, "--dropout", 0.0, 1.0), default=0.0, metavar="P",
                   help="dropout probability after each hidden layer (default 0)")
    m.add_argument("--batch-norm", action="store_true", help="BatchNorm1d after each hidden linear layer")
    o = p.add_argument_group("optimisation")
    o.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS), help="optimizer (default adam)")
    o.add_argument("--lr", type=_number(float, "--lr", 0.0, low_open=True, high=None), default=1e-3,
                   help="learning rate (default 1e-3)")
    o.add_argument("--momentum", type=_number(float, "--momentum", 0.0, 1.0), default=0.0,
                   help="momentum for sgd and rmsprop (default 0)")
    o.add_argument("--weight-decay", type=_number(float, "--weight-decay", 0.0, high=None), default=0.0,
                   help="L2 weight decay (default 0)")
    o.add_argument("--scheduler", default="none", choices=list(SCHEDULERS), help="learning-rate schedule (none)")
    o.add_argument("--epochs", type=_number(int, "--epochs", 1), default=10, help="epochs in total (default 10)")
    o.add_argument("--clip-grad-norm", type=_number(float, "--clip-grad-norm", 0.0, None), default=None,
                   metavar="X", help="clip the gradients' global norm before each step (default 5 for the "
                   "recurrent models lstm, gru and charlstm, none for the others; 0 for none)")
    o.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r = p.add_argument_group("run")
    r.add_argument("--out", default="runs/mnist-mlp", metavar="DIR",
                   help="run folder for weights, checkpoint, history, curves, config (default runs/mnist-mlp)")
    r.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its checkpoint, with its saved config (--epochs may grow)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar (epoch summaries only)")
    from gradlab.charlm import add_text_arguments

    add_text_arguments(p)


RECURRENT_MODELS = ("lstm", "gru", "charlstm")


def _clip_norm(args: argparse.Namespace) -> float | None:
    """``--clip-grad-norm``: as given (0 for none); by default 5 for the recurrent models (a ``--text`` run is
    the charlstm), none otherwise."""
    if args.clip_grad_norm is None:
        return 5.0 if args.model in RECURRENT_MODELS or args.text else None
    return args.clip_grad_norm or None


def cmd_train(args: argparse.Namespace) -> int:
    """``gradlab train``: train, write the run folder, print the test accuracy."""
    import json

    args.clip_grad_norm = _clip_norm(args)  # resolved once: both training paths read it as given
    if args.model == "charlstm" or args.text:  # character-level language model on a text file
        from gradlab.charlm import cmd_train_charlm

        return cmd_train_charlm(args)

    from gradlab.train.callbacks import ProgressBar
    from gradlab.train.experiment import make_config, run_training

    config = make_config(
        dataset=args.dataset, model=args.model, hidden=args.hidden, activation=args.activation,
        dropout=args.dropout, batch_norm=args.batch_norm, optimizer=args.optimizer, lr=args.lr,
        momentum=args.momentum, weight_decay=args.weight_decay, scheduler=args.scheduler, epochs=args.epochs,
        batch_size=args.batch_size, seed=args.seed, val_split=args.val_split, limit=args.limit,
        clip_grad_norm=args.clip_grad_norm,
    )
    out = Path(args.out)
    if args.resume and (out / "config.json").is_file():
        saved = json.loads((out / "config.json").read_text())
        flat_saved = {**saved, **saved.get("model_kwargs", {})}
        flat_new = {**config, **config["model_kwargs"]}
        ignored = [f"--{d.replace('_', '-')}" for d in _explicit_options("train", getattr(args, "_argv", []))
                   if d in flat_new and d != "epochs" and flat_saved.get(d) != flat_new[d]]
        if ignored:
            print(f"gradlab train: --resume continues {out} with its saved config; ignoring the differing "
                  f"{', '.join(ignored)}", file=sys.stderr)
        config = dict(saved, epochs=config["epochs"])
    results = run_training(config, out, data_dir=args.data_dir, resume=args.resume, progress=False,
                           callbacks=[ProgressBar(bar=not args.no_progress)])
    hist = results["history"].history
    if "loss" in hist:
        print("epoch losses: " + ", ".join(f"{v:.4f}" for v in hist["loss"]))
    print(f"test accuracy: {results['test_accuracy']:.4f} (test loss {results['test_loss']:.4f}, "
          f"{results['epochs']} epochs, {results['train_time_s']:.1f}s)")
    print(f"wrote {out}/: weights.safetensors, checkpoint/, history.json, curves.png, config.json, results.json")
    return 0


def _explicit_options(command: str, argv: list[str]) -> list[str]:
    """The destinations of the options of ``command`` given explicitly in ``argv`` (not left at their default)."""
    p = _Parser(prog=f"gradlab {command}", add_help=False)
    COMMANDS[command].add_arguments(p)
    for action in p._actions:
        action.default = argparse.SUPPRESS
    rest = argv[argv.index(command) + 1:] if command in argv else argv
    namespace, _ = p.parse_known_args(rest)
    return list(vars(namespace))


def _add_evaluate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by 'gradlab train' (its --out)")
    p.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (default: searched)")
    p.add_argument("--batch-size", type=_number(int, "--batch-size", 1), default=1000, metavar="N",
                   help="evaluation batch size (default 1000)")
    p.add_argument("--limit", type=_number(int, "--limit", 1), metavar="N", help="evaluate on the first N test images")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``gradlab evaluate RUN_DIR``: rebuild the model from config.json + weights and print test loss/accuracy."""
    from gradlab.train.experiment import evaluate_run

    run = Path(args.run_dir)
    if not run.is_dir():
        raise UsageError(f"run folder {str(run)!r} does not exist")
    for name in ("config.json", "weights.safetensors"):
        if not (run / name).is_file():
            raise UsageError(f"{str(run)!r} is not a finished run folder (no {name})")
    res = evaluate_run(run, data_dir=args.data_dir, batch_size=args.batch_size, limit=args.limit)
    print(f"{res['model']} on {res['dataset']} test set ({res['n']} images): "
          f"test loss {res['test_loss']:.4f}, test accuracy {res['test_accuracy']:.4f}")
    return 0


register_command(Command("train", "train a model and write a run folder", _add_train_arguments, cmd_train,
                         "Train a model on a dataset; writes weights.safetensors, checkpoint/, history.json, "
                         "curves.png and config.json to --out and prints the test accuracy."))
register_command(Command("evaluate", "evaluate a trained run on the test set", _add_evaluate_arguments, cmd_evaluate,
                         "Rebuild a model from RUN_DIR/config.json and weights.safetensors; print test loss/accuracy."))


def _add_sample_arguments(p: argparse.ArgumentParser) -> None:
    from gradlab.charlm import add_sample_arguments

    add_sample_arguments(p)


def cmd_sample(args: argparse.Namespace) -> int:
    """``gradlab sample RUN_DIR``: text from a trained character-level model (see gradlab/charlm.py)."""
    from gradlab.charlm import cmd_sample as run

    return run(args)


register_command(Command("sample", "generate text from a trained character-level model (charlstm)",
                         _add_sample_arguments, cmd_sample,
                         "Print --length characters generated after --prompt by the model of a 'gradlab train "
                         "--model charlstm --text FILE' run folder (--seed makes it reproducible)."))


def _add_playground_arguments(p: argparse.ArgumentParser) -> None:
    from gradlab.playground.cli import add_arguments

    add_arguments(p)


def cmd_playground(args: argparse.Namespace) -> int:
    """``gradlab playground``: serve the web playground until interrupted (see gradlab/playground/cli.py)."""
    from gradlab.playground.cli import run

    return run(args)


register_command(Command("playground", "train networks on 2-D data in the browser (a local web app)",
                         _add_playground_arguments, cmd_playground,
                         "Start the gradlab playground (like playground.tensorflow.org, trained by gradlab on this "
                         "machine) and print the URL to open. Binds to 127.0.0.1 unless --host says otherwise."))


def _add_viz_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=("filters", "activations"),
                   help="filters: the first convolution layer's filters; activations: the first conv layers' "
                        "feature maps for one test image")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by 'gradlab train' with a convolutional model")
    p.add_argument("--index", type=_number(int, "--index", 0), default=0, metavar="N",
                   help="activations: which test image (default 0)")
    p.add_argument("--layers", type=_number(int, "--layers", 1), default=2, metavar="K",
                   help="activations: how many convolution layers (default 2)")
    p.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (default: searched)")
    p.add_argument("--out", metavar="FILE", help="PNG to write (default RUN_DIR/filters.png or "
                                                 "RUN_DIR/activations-N.png)")


def cmd_viz(args: argparse.Namespace) -> int:
    """``gradlab viz filters|activations RUN_DIR``: PNG pictures of a trained convolutional network."""
    from gradlab import viz
    from gradlab.train.experiment import load_dataset, load_run_model

    run = Path(args.run_dir)
    if not run.is_dir():
        raise UsageError(f"run folder {str(run)!r} does not exist")
    model, config = load_run_model(run, data_dir=args.data_dir)
    if not viz.conv_layers(model):
        raise UsageError(f"the model of {str(run)!r} ({config['model']}) has no convolution layer")
    if args.what == "filters":
        path = viz.plot_filters(viz.first_conv_weight(model), args.out or run / "filters.png",
                                title=f"{config['model']} first-layer filters")
    else:
        x, y, info = load_dataset(config["dataset"], train=False, root=args.data_dir, limit=args.index + 1)
        if args.index >= len(x):
            raise UsageError(f"--index {args.index} is past the end of the test set ({len(x)} images)")
        label = info.get("classes", [])[int(y[args.index])] if info.get("classes") else int(y[args.index])
        path = viz.plot_activations(model, x[args.index], args.out or run / f"activations-{args.index}.png",
                                    layers=args.layers, title=f"test image {args.index} (label {label})")
    print(f"wrote {path}")
    return 0


register_command(Command("viz", "pictures of a trained CNN: filters or activations (PNG)", _add_viz_arguments,
                         cmd_viz, "Write a PNG of the first convolution layer's filters, or of the feature maps of "
                         "the first convolution layers for one test image, from a 'gradlab train' run folder."))


# ---------------------------------------------------------------- entry point
def _version() -> str:
    try:
        from importlib import metadata

        return metadata.version("gradlab")
    except Exception:
        import gradlab

        return gradlab.__version__


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradlab", description="gradlab: a PyTorch-shaped deep-learning library on NumPy.")
    parser.add_argument("--version", action="version", version=f"gradlab {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for cmd in COMMANDS.values():
        sp = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description or cmd.help)
        cmd.add_arguments(sp)
        sp.set_defaults(_command=cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 bad arguments, 130 interrupted)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, argument errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    args._argv = list(sys.argv[1:] if argv is None else argv)
    cmd: Command | None = getattr(args, "_command", None)
    if cmd is None:
        print(f"gradlab: error: a command is required ({', '.join(COMMANDS)}); see 'gradlab --help'",
              file=sys.stderr)
        return 2
    try:
        return int(cmd.run(args) or 0)
    except UsageError as e:
        print(f"gradlab {cmd.name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gradlab {cmd.name}: interrupted" + (" (the last finished epoch is in the run's checkpoint/: "
              "continue with --resume)" if cmd.name == "train" else ""), file=sys.stderr)
        return 130
    except (OSError, ValueError, RuntimeError, FloatingPointError, KeyError) as e:
        print(f"gradlab {cmd.name}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
