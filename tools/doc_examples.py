"""List gradlab's public classes and functions (named in a module's ``__all__``) whose docstring has no ``>>>``
example, grouped by file, with a count per file.

Usage: ``PYTHONPATH=. python tools/doc_examples.py [PREFIX ...]`` (e.g. ``gradlab.nn gradlab.optim``); exit status
1 when something is listed. A name counts where it is defined (re-exports are not counted twice).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from collections import defaultdict
from pathlib import Path

import gradlab


def missing(prefixes: list[str]) -> dict[str, list[str]]:
    """``{file: [names without an example]}`` for the modules under ``prefixes`` (all of gradlab by default)."""
    found: dict[str, list[str]] = defaultdict(list)
    seen: set[int] = set()
    names = ["gradlab"] + [m.name for m in pkgutil.walk_packages(gradlab.__path__, "gradlab.")]
    for mod_name in names:
        if prefixes and not any(mod_name == p or mod_name.startswith(p + ".") for p in prefixes):
            continue
        try:
            module = importlib.import_module(mod_name)
        except ImportError as e:  # an optional extra is missing
            print(f"skipped {mod_name}: {e}", file=sys.stderr)
            continue
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or id(obj) in seen:
                continue
            if getattr(obj, "__module__", None) != mod_name:
                continue  # counted in the module that defines it
            seen.add(id(obj))
            if ">>>" not in (obj.__doc__ or ""):
                found[str(Path(inspect.getfile(obj)).resolve().relative_to(Path(gradlab.__file__).parent.parent))
                      ].append(name)
    return dict(found)


def main(argv: list[str]) -> int:
    result = missing(argv)
    for path in sorted(result):
        print(f"{path}: {len(result[path])}: {', '.join(result[path])}")
    print(f"{sum(map(len, result.values()))} public names without a >>> example in {len(result)} files")
    return 1 if result else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
