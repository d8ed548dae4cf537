"""The documentation build's own code (docs/hooks/): the CLI reference generated from argparse, and the docstring
rewriting for Markdown. The site itself is built by ``make docs`` (warnings as errors)."""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

from gradlab.cli import build_parser

HOOKS = Path(__file__).resolve().parents[2] / "docs" / "hooks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"docs_hooks_{name}", HOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cli_reference = _load("cli_reference")


def _subcommand_names(parser: argparse.ArgumentParser) -> list[str]:
    return [name for name, _, _ in cli_reference._subcommands(parser)]


def test_every_subcommand_has_a_section_with_its_help():
    parser = build_parser()
    names = _subcommand_names(parser)
    assert {"train", "evaluate", "sample", "viz", "playground"} <= set(names)
    page = cli_reference.render(parser)
    for name in names:
        sub = parser._subparsers._group_actions[0].choices[name]
        assert f"## `gradlab {name}` {{#gradlab-{name}}}" in page
        assert f"(#gradlab-{name})" in page  # the table links to it
        for action in sub._actions:  # every option of the subcommand is in its help text
            for flag in action.option_strings:
                assert flag in page, (name, flag)
    assert "--clip-grad-norm" in page and "--temperature" in page


def test_nested_subcommands_and_aliases():
    parser = argparse.ArgumentParser(prog="tool")
    sub = parser.add_subparsers(dest="cmd")
    remote = sub.add_parser("remote", help="manage remotes", aliases=["r"])
    inner = remote.add_subparsers(dest="inner")
    inner.add_parser("add", help="add a remote").add_argument("--url")
    page = cli_reference.render(parser)
    assert page.count("## `tool remote` {#tool-remote}") == 1  # the alias does not repeat the section
    assert "### `tool remote add` {#tool-remote-add}" in page
    assert "--url" in page and "Manage remotes." in page


def test_help_text_does_not_depend_on_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    narrow = cli_reference.render(build_parser())
    monkeypatch.setenv("COLUMNS", "300")
    assert cli_reference.render(build_parser()) == narrow
    assert "\x1b[" not in narrow


def test_the_hook_replaces_only_its_marker():
    class Config:
        config_file_path = str(HOOKS.parents[1] / "mkdocs.yml")

    assert cli_reference.on_page_markdown("# Other page", None, Config(), None) == "# Other page"
    page = cli_reference.on_page_markdown("# CLI\n\n<!-- cli-reference -->\n", None, Config(), None)
    assert cli_reference.MARKER not in page and "gradlab train" in page


def test_docstrings_become_markdown():
    pytest.importorskip("griffe", reason="the docs extra (mkdocstrings) is not installed")
    rewrite = _load("griffe_docstrings").rewrite
    text = ("Sum of :func:`~gradlab.nn.utils.l1_penalty` and :class:`gradlab.Tensor`::\n\n    code\n\n"
            ">>> 1 + 1\n2\n\nEnd.")
    assert rewrite(text) == (
        "Sum of `l1_penalty` and `gradlab.Tensor`:\n\n    code\n\n```pycon\n>>> 1 + 1\n2\n```\n\nEnd."
    )
    fenced = "```python\n>>> not a doctest here\n```"
    assert rewrite(fenced) == fenced
    indented = "Args:\n    x: a number.\n\n    >>> f(1)\n    1"
    assert rewrite(indented).endswith("    ```pycon\n    >>> f(1)\n    1\n    ```")
