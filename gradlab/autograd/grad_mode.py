"""The one global switch: whether operations record the graph (``no_grad`` / ``enable_grad``)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "is_inference_mode_enabled",
]

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


class inference_mode(_GradMode):
    """torch's ``inference_mode``: no graph is recorded (gradlab has no separate inference tensors, so this is
    ``no_grad``); ``inference_mode(False)`` leaves recording as it is. A context manager or a decorator.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0], requires_grad=True)
    >>> with gradlab.inference_mode():
    ...     y = x * 2
    >>> y.requires_grad, gradlab.is_inference_mode_enabled()
    (False, False)
    """

    _active = [False]

    def __new__(cls, mode: Any = True) -> Any:
        self = object.__new__(cls)
        if callable(mode):  # a bare decorator: @inference_mode
            self._on = True
            return self(mode)
        return self

    def __init__(self, mode: Any = True) -> None:
        self._on = True if callable(mode) else bool(mode)

    def __enter__(self) -> None:
        self._prev = _enabled[0]
        self._prev_active = inference_mode._active[0]
        if self._on:
            _enabled[0] = False
            inference_mode._active[0] = True

    def __exit__(self, *exc: object) -> None:
        _enabled[0] = self._prev
        inference_mode._active[0] = self._prev_active

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(self._on):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``.

    >>> import gradlab
    >>> is_inference_mode_enabled()
    False
    >>> with gradlab.inference_mode():
    ...     is_inference_mode_enabled()
    True
    """
    return inference_mode._active[0]


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
