"""``gradlab playground [--host 127.0.0.1] [--port 8000] ...``: the subcommand's arguments and its run function.

Kept free of heavy imports: ``gradlab.cli`` builds every subcommand's parser on each invocation.
"""
from __future__ import annotations

import argparse
import math
import os
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
    """The options of ``gradlab playground``, each checked as it is parsed.

    >>> p = argparse.ArgumentParser(prog="p", exit_on_error=False)
    >>> add_arguments(p)
    >>> args = p.parse_args(["--port", "0", "--workers", "0"])
    >>> args.host, args.port, args.workers, args.max_fps
    ('127.0.0.1', 0, 0, 30.0)
    >>> p.parse_args(["--port", "70000"])
    Traceback (most recent call last):
        ...
    argparse.ArgumentError: argument --port: --port must be between 0 and 65535, got 70000
    """
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_number(int, "--port", 0, 65535), default=8000,
                   help="port to listen on (default 8000; 0: any free port)")
    p.add_argument("--max-sessions", type=_number(int, "--max-sessions", 1, 10_000), default=32, metavar="N",
                   help="browser tabs that may train at once (default 32)")
    p.add_argument("--max-fps", type=_number(float, "--max-fps", 0, 1000), default=30.0, metavar="F",
                   help="frames per second sent to each page at most (default 30; 0: as fast as it can)")
    p.add_argument("--max-per-client", type=_number(int, "--max-per-client", 1, 10_000), default=8, metavar="N",
                   help="sessions one client address may hold at once (default 8)")
    p.add_argument("--workers", type=_number(int, "--workers", 0, 64), default=None, metavar="N",
                   help="worker processes that train the sessions (default: the number of cores, at most 4; "
                   "0: train in the server process)")
    p.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                   help="also accept WebSocket connections from pages on ORIGIN, e.g. https://example.org "
                   "(repeatable; '*': any origin). By default only the playground's own page may connect")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests for host NAME (repeatable). Bound to loopback, the playground "
                   "answers only 127.0.0.1, localhost and [::1]")


def run(args: argparse.Namespace) -> int:
    """Serve the playground with the parsed ``args`` until interrupted (returns 0).

    >>> p = argparse.ArgumentParser(prog="p")
    >>> add_arguments(p)
    >>> run(p.parse_args(["--port", "0"]))  # doctest: +SKIP
    gradlab playground: open http://127.0.0.1:40123/ in a browser (Ctrl+C to stop)
    """
    from gradlab.playground.app import serve
    from gradlab.playground.manager import SessionManager

    try:
        workers = args.workers if args.workers is not None else min(os.cpu_count() or 1, 4)
        manager = SessionManager(max_sessions=args.max_sessions, max_per_client=args.max_per_client, workers=workers)
        serve(args.host, args.port, manager=manager, max_fps=args.max_fps or None, allow_origins=args.allow_origin,
              allow_hosts=args.allow_host)
    except ImportError as e:  # the playground extra is not installed
        raise RuntimeError(str(e)) from None
    return 0
