"""Anomaly detection (torch's ``detect_anomaly`` / ``set_detect_anomaly``): find the op whose backward made NaN/inf.

While anomaly mode is on, every op call records the Python stack of its forward call, and ``backward`` checks
each gradient an op's backward returns: the first one holding NaN (or inf) raises ``RuntimeError`` naming the
op's Function class and showing where its forward was called. When anomaly mode is off nothing of this runs:
``Function.apply`` is the plain one (the recording version is swapped in only while the mode is on) and the
backward engine reads the switch once per ``backward()`` call. The switch is process-wide (not per thread).
"""
from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from gradlab.autograd.function import Context, Function

__all__ = [
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "check_gradients",
]

F = TypeVar("F", bound=Callable[..., Any])

# [enabled, check_nan]: a list so that the engine reads it without a function call.
_anomaly = [False, True]
_plain_apply = Function.__dict__["apply"]


def _recording_apply(cls: type, *args: Any, **kwargs: Any) -> Any:
    out = _plain_apply.__func__(cls, *args, **kwargs)
    ctx = getattr(out, "grad_fn", None)
    if type(ctx) is Context:
        ctx.forward_stack = traceback.format_stack()[:-1]
    return out


def _set(enabled: bool, check_nan: bool) -> None:
    _anomaly[0], _anomaly[1] = bool(enabled), bool(check_nan)
    Function.apply = classmethod(_recording_apply) if enabled else _plain_apply  # type: ignore[method-assign,assignment]


def is_anomaly_enabled() -> bool:
    """True while anomaly mode is on.

    >>> is_anomaly_enabled()
    False
    """
    return _anomaly[0]


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly mode checks backward's gradients for NaN/inf (``check_nan=True``, the default).

    >>> with detect_anomaly(check_nan=False):
    ...     is_anomaly_check_nan_enabled()
    False
    """
    return _anomaly[0] and _anomaly[1]


def check_gradients(node: Context, grads: tuple) -> None:
    """Raise ``RuntimeError`` if a gradient ``node``'s backward returned holds NaN or inf (the engine calls it in
    anomaly mode, with the gradients of one node).

    >>> import gradlab
    >>> y = gradlab.tensor([1.0], requires_grad=True).exp()
    >>> check_gradients(y.grad_fn, (np.array([1.0]),))
    >>> check_gradients(y.grad_fn, (np.array([np.inf]),))
    Traceback (most recent call last):
    ...
    RuntimeError: Function 'ExpBackward0' (...) returned inf values in its 0th output.
    """
    for i, g in enumerate(grads):
        if g is None:
            continue
        a = np.asarray(g)
        if a.dtype.kind not in "fc" or np.isfinite(a).all():
            continue
        what = "nan" if np.isnan(a).any() else "inf"
        fn = node.fn
        msg = (
            f"Function '{node.name}' ({fn.__module__}.{fn.__qualname__}) returned {what} values in its {i}th "
            f"output."
        )
        stack = node.__dict__.get("forward_stack")
        if stack:
            msg += "\nTraceback of the forward call that created it:\n" + "".join(stack).rstrip()
        raise RuntimeError(msg)


class set_detect_anomaly:
    """Turn anomaly mode on or off: at once, and until the end of the block when used as a context manager.

    >>> _ = set_detect_anomaly(True); is_anomaly_enabled()
    True
    >>> _ = set_detect_anomaly(False); is_anomaly_enabled()
    False
    >>> with set_detect_anomaly(True):
    ...     is_anomaly_enabled()
    True
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = (_anomaly[0], _anomaly[1])
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _set(*self._prev)


class detect_anomaly:
    """Context manager (or decorator) that turns anomaly mode on for a block, as ``torch.autograd.detect_anomaly``.

    Inside it, ``backward`` raises ``RuntimeError`` naming the op (its Function class) whose backward first
    returned NaN or inf, with the traceback of that op's forward call. It slows every op down: use it to debug.

    >>> import gradlab
    >>> class Bad(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return x * 2
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         return grad * np.nan
    >>> x = gradlab.tensor([1.0], requires_grad=True)
    >>> with detect_anomaly():
    ...     Bad.apply(x).sum().backward()
    Traceback (most recent call last):
    ...
    RuntimeError: Function 'BadBackward0' (...Bad) returned nan values in its 0th output...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)

    def __enter__(self) -> None:
        self._prev = (_anomaly[0], _anomaly[1])
        _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(*self._prev)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
