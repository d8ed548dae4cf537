"""Griffe extension for the documentation build: gradlab's docstrings are written for ``help()`` and doctest (reST
flavoured), the site renders Markdown. Before parsing, each docstring is rewritten so that

* runs of ``>>>`` lines with their output (a doctest block, up to the next blank line) become fenced ``pycon`` code
  blocks wherever they stand (griffe only recognises them inside an ``Examples`` section);
* Sphinx roles (``:func:`~gradlab.train.fit```, ``:class:`X```, ...) become inline code: the last dotted part with
  ``~``, the whole target otherwise (plain code: a role naming a private helper must not break the build);
* a paragraph ending in ``::`` (a reST literal block follows) ends in ``:``; the indented block after it already is a
  Markdown code block.

Classes also lose two kinds of noise: undocumented instance attributes (``self.alpha = alpha``: the constructor's
signature already shows them) and ``extra_repr`` (the ``repr`` helper of modules).
"""
from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const|ref):`(~?)([^`]+)`")
_DOCTEST = re.compile(r"^(\s*)>>>")


def _role(match: re.Match[str]) -> str:
    target = match.group(2).strip()
    if match.group(1):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def rewrite(text: str) -> str:
    """The Markdown-ready form of a docstring (see the module docstring)."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    fenced = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        m = None if fenced else _DOCTEST.match(line)
        if m is None:
            line = _ROLE.sub(_role, line)
            if line.endswith("::") and not line.endswith(":::"):
                line = line[:-1]
            out.append(line)
            i += 1
            continue
        indent = m.group(1)
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Rewrite every docstring with :func:`rewrite` as objects are loaded; drop the classes' noise."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        for name, member in list(cls.members.items()):
            if member.is_alias:
                continue
            undocumented_attribute = (member.is_attribute and member.docstring is None
                                      and "instance-attribute" in member.labels)
            if undocumented_attribute or name == "extra_repr":
                del cls.members[name]
