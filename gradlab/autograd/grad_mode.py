"""The one global switch: whether operations record the graph (``no_grad`` / ``enable_grad``)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]

F = TypeVar("F", bound=Callable[..., Any])

# A one-element list so that hot paths read it without a function call.
_enabled = [True]


def is_grad_enabled() -> bool:
    """True when operations record the graph for backward.

    >>> import gradlab
    >>> with gradlab.no_grad():
    ...     inside = is_grad_enabled()
    >>> inside, is_grad_enabled()
    (False, True)
    """
    return _enabled[0]


class _GradMode:
    _mode = True

    def __new__(cls, func: Any = None) -> Any:
        self = super().__new__(cls)
        if callable(func):  # used as a bare decorator: @no_grad
            return self(func)
        return self

    def __init__(self, func: Any = None) -> None:
        pass

    def __enter__(self) -> None:
        self._prev = _enabled[0]
        _enabled[0] = self._mode

    def __exit__(self, *exc: object) -> None:
        _enabled[0] = self._prev

    def __call__(self, fn: F) -> F:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = _enabled[0]
            _enabled[0] = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _enabled[0] = prev

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Disable graph recording, as a context manager or a decorator.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0], requires_grad=True)
    >>> with gradlab.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    _mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside ``no_grad`` (context manager or decorator).

    >>> import gradlab
    >>> x = gradlab.tensor([1.0], requires_grad=True)
    >>> with gradlab.no_grad():
    ...     with enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """

    _mode = True


class set_grad_enabled(_GradMode):
    """Set graph recording on or off for a block: ``with set_grad_enabled(False): ...``.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0], requires_grad=True)
    >>> with set_grad_enabled(False):
    ...     y = x * 2
    >>> y.requires_grad, is_grad_enabled()
    (False, True)
    """

    def __new__(cls, mode: bool) -> Any:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
