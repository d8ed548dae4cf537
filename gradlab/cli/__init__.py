"""The ``gradlab`` command line (also ``python -m gradlab``): one module per command, registered from one list.

``gradlab/cli/_parser.py`` holds what the commands share (the parser, :class:`UsageError`, the validators,
:func:`build_parser`, :func:`main`); each command is a module here exposing ``COMMAND`` (a :class:`Command`).
A new command is one new module plus its name in :data:`COMMAND_MODULES`.

>>> main(["--version"])  # doctest: +ELLIPSIS
gradlab ...
0
>>> main(["train", "--lr", "-1"])
2
>>> list(COMMANDS)
['train', 'evaluate', 'sample', 'export', 'playground', 'viz', 'finetune', 'lr-find', 'tune', 'rl']
"""
from __future__ import annotations

from importlib import import_module

from gradlab.cli._parser import (
    COMMANDS,
    Command,
    UsageError,
    build_parser,
    explicit_options,
    main,
    number,
    parse_hidden,
    register_command,
)

__all__ = [
    "main", "build_parser", "Command", "COMMANDS", "COMMAND_MODULES", "register_command", "UsageError",
    "number", "parse_hidden", "explicit_options",
]

#: The command modules of ``gradlab/cli/``, in the order ``gradlab --help`` lists them.
COMMAND_MODULES = ("train", "evaluate", "sample", "export", "playground", "viz", "finetune", "lr_find", "tune", "rl")

for _name in COMMAND_MODULES:
    register_command(import_module(f"gradlab.cli.{_name}").COMMAND)
del _name
