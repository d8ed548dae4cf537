"""The machinery every ``gradlab`` command shares: the one-line-error parser, :class:`UsageError`, the number and
list validators, the :class:`Command` registry, :func:`build_parser` and :func:`main`.

The commands themselves live one per module beside this one (``gradlab/cli/train.py``, ``evaluate.py``, ...);
``gradlab/cli/__init__.py`` lists them. Bad arguments print one line to stderr and exit with status 2; failures while
running exit with status 1.

>>> number(float, "--lr", 0.0, low_open=True, high=None)("0.5")
0.5
>>> explicit_options("train", ["train", "--lr", "0.1"]) if "train" in COMMANDS else ["lr"]
['lr']
"""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "UsageError", "Parser", "number", "parse_hidden", "Command", "COMMANDS", "register_command",
    "explicit_options", "build_parser", "main", "run_dir_argument", "check_out",
]


class UsageError(Exception):
    """A bad command-line argument found while running a command (reported like argparse errors: status 2).

    >>> str(UsageError("--seed must be >= 0"))
    '--seed must be >= 0'
    """


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``gradlab train: error: ...`` on stderr, exit status 2, no usage dump.

    >>> Parser(prog="gradlab x").prog
    'gradlab x'
    """

    def error(self, message: str) -> Any:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message.splitlines()[0] if message else 'bad arguments'}\n")


# ---------------------------------------------------------------- argument types
def number(kind: type, name: str, low: float | None = None, high: float | None = None, low_open: bool = False,
           high_open: bool = True) -> Callable[[str], Any]:
    """An argparse ``type=`` for an int or a finite float within bounds, whose errors name the flag ``name``.

    ``low``/``high`` are the bounds (``None``: unbounded); ``low_open``/``high_open`` exclude them.

    >>> number(int, "--seed", 0)("3")
    3
    >>> number(int, "--seed", 0)("-1")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: --seed must be >= 0, got -1
    """
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{name} must be a finite number, got {text!r}")
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


def run_dir_argument(p: argparse.ArgumentParser, help: str) -> None:
    """Add the positional ``RUN_DIR`` argument that ``evaluate``, ``sample`` and ``viz`` take.

    >>> p = Parser(prog="x"); run_dir_argument(p, "a run folder"); p.parse_args(["runs/a"]).run_dir
    'runs/a'
    """
    p.add_argument("run_dir", metavar="RUN_DIR", help=help)


def check_out(out: Path, args: argparse.Namespace) -> str:
    """How the run may use ``--out`` (``'new'``, ``'resume'``, ``'overwrite'``), or a :class:`UsageError` saying why
    not, in terms of the flags. Nothing is written.

    >>> import tempfile
    >>> check_out(Path(tempfile.mkdtemp()), argparse.Namespace(resume=False, overwrite=False))
    'new'
    """
    from gradlab.train.runfolder import RunFolderError, check_run_folder

    try:
        return check_run_folder(out, resume=args.resume, overwrite=args.overwrite)
    except RunFolderError as e:
        text = str(e).replace("resume it, overwrite it, or choose another folder",
                              "continue it with --resume, replace it with --overwrite, or choose another --out")
        raise UsageError(text.replace("resume and overwrite", "--resume and --overwrite")) from None


# ---------------------------------------------------------------- subcommands
@dataclass
class Command:
    """One subcommand: ``add_arguments(parser)`` declares its options, ``run(args) -> int`` carries it out.

    >>> Command("hello", "say hello", lambda p: None, lambda args: 0).name
    'hello'
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


COMMANDS: dict[str, Command] = {}


def register_command(command: Command) -> Command:
    """Add a subcommand to :data:`COMMANDS` (the command modules listed in ``gradlab/cli/__init__.py`` do).

    >>> cmd = register_command(Command("_demo", "demo", lambda p: None, lambda a: 0)); del COMMANDS["_demo"]
    >>> cmd.help
    'demo'
    """
    COMMANDS[command.name] = command
    return command


def explicit_options(command: str, argv: list[str]) -> list[str]:
    """The destinations of the options of ``command`` given explicitly in ``argv`` (not left at their default).

    >>> explicit_options("train", ["train", "--epochs", "3"]) if "train" in COMMANDS else ["epochs"]
    ['epochs']
    """
    p = Parser(prog=f"gradlab {command}", add_help=False)
    COMMANDS[command].add_arguments(p)
    for action in p._actions:
        action.default = argparse.SUPPRESS
    rest = argv[argv.index(command) + 1:] if command in argv else argv
    namespace, _ = p.parse_known_args(rest)
    return list(vars(namespace))


# ---------------------------------------------------------------- entry point
def _version() -> str:
    try:
        from importlib import metadata

        return metadata.version("gradlab")
    except Exception:
        import gradlab

        return gradlab.__version__


def build_parser() -> argparse.ArgumentParser:
    """The ``gradlab`` parser with one subparser per registered command (the CLI reference is generated from it).

    >>> "train" in build_parser().format_help() or not COMMANDS
    True
    """
    parser = Parser(prog="gradlab", description="gradlab: a PyTorch-shaped deep-learning library on NumPy.")
    parser.add_argument("--version", action="version", version=f"gradlab {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for cmd in COMMANDS.values():
        sp = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description or cmd.help)
        cmd.add_arguments(sp)
        sp.set_defaults(_command=cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 bad arguments, 130 interrupted).

    >>> main(["--version"])  # doctest: +ELLIPSIS
    gradlab ...
    0
    """
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
        # numpy's floating-point RuntimeWarnings ("overflow encountered in exp") are noise to a command-line user:
        # the results they concern are checked (NaN/inf losses and weights stop training; see gradlab.train.finite)
        with np.errstate(all="ignore"):
            return int(cmd.run(args) or 0)
    except UsageError as e:
        print(f"gradlab {cmd.name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gradlab {cmd.name}: interrupted" + (" (the last finished epoch is in the run's checkpoint/: "
              "continue with --resume)" if cmd.name == "train" else ""), file=sys.stderr)
        return 130
    except (OSError, ValueError, RuntimeError, FloatingPointError, KeyError) as e:
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"gradlab {cmd.name}: error: {message}", file=sys.stderr)
        return 1
