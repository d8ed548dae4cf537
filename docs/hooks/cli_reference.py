"""MkDocs hook: the command-line reference, generated from gradlab's argparse parsers at build time.

A page containing the line ``<!-- cli-reference -->`` gets it replaced by one section per subcommand of
``gradlab.cli.build_parser()`` (recursively for nested subcommands): its one-line summary, description and the exact
``--help`` text. Only public argparse introspection is relied on (the parser's subparsers action and its
``choices``), so the reference follows the parser wherever the commands live.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

MARKER = "<!-- cli-reference -->"
WIDTH = "100"  # argparse wraps help to $COLUMNS: fixed, so the page does not depend on the build's terminal
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Python 3.14 may colour help text on a terminal


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """``(name, summary, subparser)`` of each subcommand of ``parser``, in the order ``--help`` lists them."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {a.dest: a.help or "" for a in action._get_subactions()}
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:  # aliases map to the same parser
                    continue
                seen.add(id(sub))
                found.append((name, summaries.get(name, ""), sub))
    return found


def _anchor(prog: str) -> str:
    return prog.replace(" ", "-")


def _help(parser: argparse.ArgumentParser) -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        return _ANSI.sub("", parser.format_help()).rstrip()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _fence(text: str) -> str:
    return "```text\n" + text + "\n```\n"


def _section(parser: argparse.ArgumentParser, summary: str, level: int) -> list[str]:
    out = [f"{'#' * level} `{parser.prog}` {{#{_anchor(parser.prog)}}}\n"]
    if summary:
        out.append(summary[0].upper() + summary[1:] + ".\n")
    out.append(_fence(_help(parser)))
    for _, sub_summary, sub in _subcommands(parser):
        out += _section(sub, sub_summary, min(level + 1, 6))
    return out


def render(parser: argparse.ArgumentParser) -> str:
    """Markdown for ``parser``: a table of its subcommands, then each one's ``--help``."""
    subs = _subcommands(parser)
    out = ["| command | what it does |", "| --- | --- |"]
    out += [f"| [`{sub.prog}`](#{_anchor(sub.prog)}) | {summary} |" for _, summary, sub in subs]
    out += ["", f"## `{parser.prog}` {{#{_anchor(parser.prog)}}}\n", _fence(_help(parser))]
    for _, summary, sub in subs:
        out += _section(sub, summary, 2)
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    root = str(Path(config.config_file_path).resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from gradlab.cli import build_parser

    return markdown.replace(MARKER, render(build_parser()))
