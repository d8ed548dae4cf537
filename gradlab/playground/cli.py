"""``gradlab playground [--host 127.0.0.1] [--port 8000]``: the subcommand's arguments and its run function.

Kept free of heavy imports: ``gradlab.cli`` builds every subcommand's parser on each invocation.
"""
from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

__all__ = ["add_arguments", "run"]


def _number(kind: type, name: str, low: float, high: float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{name} must be between {low:g} and {high:g}, got {text}")
        return value

    return parse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_number(int, "--port", 0, 65535), default=8000,
                   help="port to listen on (default 8000; 0: any free port)")
    p.add_argument("--max-sessions", type=_number(int, "--max-sessions", 1, 10_000), default=32, metavar="N",
                   help="browser tabs that may train at once (default 32)")
    p.add_argument("--max-fps", type=_number(float, "--max-fps", 0, 1000), default=30.0, metavar="F",
                   help="frames per second sent to each page at most (default 30; 0: as fast as it can)")


def run(args: argparse.Namespace) -> int:
    from gradlab.playground.app import serve
    from gradlab.playground.manager import SessionManager

    try:
        serve(args.host, args.port, manager=SessionManager(max_sessions=args.max_sessions),
              max_fps=args.max_fps or None)
    except ImportError as e:  # the playground extra is not installed
        raise RuntimeError(str(e)) from None
    return 0
