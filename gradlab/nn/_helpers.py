"""Small pieces behind ``Module``: hook handles, the state-dict result tuple, name checks, repr indentation."""
from __future__ import annotations

from collections import namedtuple
from typing import Any

__all__ = ["IncompatibleKeys", "RemovableHandle", "addindent", "check_name"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
IncompatibleKeys.__doc__ = """What ``Module.load_state_dict`` returns: lists ``missing_keys`` and ``unexpected_keys``.

>>> import gradlab
>>> from gradlab import nn
>>> nn.Linear(2, 1).load_state_dict({"weight": gradlab.zeros(1, 2)}, strict=False)
IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
"""


def addindent(s: str, num_spaces: int) -> str:
    """Indent every line of ``s`` but the first by ``num_spaces`` (nested module reprs).

    >>> addindent(chr(10).join(["Sequential(", "(0): Linear()", ")"]), 2).splitlines()
    ['Sequential(', '  (0): Linear()', '  )']
    """
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(num_spaces * " " + line for line in lines)


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` unregisters the hook (also a context manager).

    >>> from gradlab import nn
    >>> layer = nn.Identity()
    >>> handle = layer.register_forward_hook(lambda m, args, out: out * 2)
    >>> layer(3), handle.remove(), layer(3)
    (6, None, 3)
    """

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def check_name(kind: str, name: Any) -> None:
    """Refuse a bad parameter/buffer/module name: TypeError if not a string, KeyError if empty or dotted.

    >>> check_name("parameter", "weight")
    >>> try:
    ...     check_name("module", "a.b")
    ... except KeyError as e:
    ...     print(e.args[0])
    module name can't contain ".", got: a.b
    """
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
