"""The command line is a package with one module per command, and nothing below it imports it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import gradlab
from gradlab.cli import COMMAND_MODULES, COMMANDS

PACKAGE = Path(gradlab.__file__).parent


def test_every_command_is_one_module_registered_from_the_list():
    assert list(COMMANDS) == [importlib.import_module(f"gradlab.cli.{m}").COMMAND.name for m in COMMAND_MODULES]
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"gradlab.cli.{name}")
        assert module.__doc__ and "COMMAND" in module.__all__
        assert COMMANDS[module.COMMAND.name] is module.COMMAND


def test_nothing_below_the_cli_imports_it():
    front_doors = ("cli", "playground", "estimators")
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).parts
        if rel[0] in front_doors or rel[0] in ("__main__.py",):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            assert not any(n == "gradlab.cli" or n.startswith("gradlab.cli.") for n in names), path
    assert not (PACKAGE / "charlm.py").exists() and not (PACKAGE / "textdata.py").exists()
