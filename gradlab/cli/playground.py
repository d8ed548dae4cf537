"""``gradlab playground``: serve the web playground (its arguments and run function live in
:mod:`gradlab.playground.cli`, kept beside the app).

>>> COMMAND.name
'playground'
"""
from __future__ import annotations

import argparse

from gradlab.cli._parser import Command

__all__ = ["COMMAND", "add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``gradlab playground`` (``--host``, ``--port``, ...).

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="p"); add_arguments(p); p.parse_args([]).host
    '127.0.0.1'
    """
    from gradlab.playground.cli import add_arguments as add

    add(p)


def run(args: argparse.Namespace) -> int:
    """``gradlab playground``: serve the web playground until interrupted.

    >>> from gradlab.cli import main
    >>> main(["playground", "--port", "http"])  # refused before anything is served; the error goes to stderr
    2
    """
    from gradlab.playground.cli import run as serve

    return serve(args)


COMMAND = Command("playground", "train networks on 2-D data in the browser (a local web app)", add_arguments, run,
                  "Start the gradlab playground (like playground.tensorflow.org, trained by gradlab on this "
                  "machine) and print the URL to open. Binds to 127.0.0.1 unless --host says otherwise.")
