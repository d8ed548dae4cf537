"""Rounding and integer-division ops with torch's semantics: ``floor``/``ceil``/``round``/``trunc``/``frac``,
division rounded toward zero or down (``div(rounding_mode=...)``, ``//``), ``remainder`` (``%``) and ``fmod``.

Rounded results have a zero gradient (as torch's); ``frac`` passes the gradient through; ``remainder(a, b)`` and
``fmod(a, b)`` have gradient 1 for ``a`` and ``-floor(a / b)`` (``-trunc(a / b)``) for ``b``. Integer division by
zero raises ``ZeroDivisionError`` as torch's does.

>>> import gradlab
>>> a = gradlab.tensor([-7, 7])
>>> DivRounded.apply(a, 2, "trunc").tolist(), DivRounded.apply(a, 2, "floor").tolist(), Remainder.apply(a, 2).tolist()
([-3, 3], [-4, 3], [1, 1])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module
from gradlab.ops.elementwise import broadcasting, unbroadcast

__all__ = ["Round", "Frac", "DivRounded", "Remainder", "Fmod", "ROUNDINGS"]

ROUNDINGS = ("floor", "ceil", "round", "trunc")


def _xp(*arrays: Any) -> Any:
    for a in arrays:
        if hasattr(a, "dtype") and hasattr(a, "shape"):
            return get_array_module(a)
    return np


def _int_zero_check(a: Any, b: Any) -> None:
    if getattr(a, "dtype", np.dtype(float)).kind in "iub" and np.asarray(b).dtype.kind in "iub" and not np.all(b):
        raise ZeroDivisionError("integer division by zero")


class Round(Function):
    """``x`` rounded by ``mode`` (one of ``ROUNDINGS``; ``round`` to ``decimals`` places, halves to even as torch);
    the gradient is zero.

    >>> Round.apply(np.array([-1.5, 0.5, 2.5]), "round").tolist(), Round.apply(np.array([-1.5]), "trunc").tolist()
    ([-2.0, 0.0, 2.0], [-1.0])
    """

    @staticmethod
    def forward(ctx: Context, x: Any, mode: str, decimals: int = 0) -> Any:
        xp = get_array_module(x)
        if mode not in ROUNDINGS:
            raise ValueError(f"unknown rounding {mode!r}: one of {ROUNDINGS}")
        if x.dtype.kind != "f":
            return x.copy()
        if mode == "round":
            return xp.round(x, decimals)
        return getattr(xp, mode)(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return get_array_module(grad).zeros_like(grad), None, None


class Frac(Function):
    """The fractional part ``x - trunc(x)`` (sign of ``x``); gradient 1.

    >>> Frac.apply(np.array([-1.25, 2.5])).tolist()
    [-0.25, 0.5]
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return x - get_array_module(x).trunc(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad


def _divide(xp: Any, a: Any, b: Any, mode: str) -> Any:
    _int_zero_check(a, b)
    if mode == "floor":
        return xp.floor_divide(a, b)
    kind = np.result_type(a, b).kind
    if kind == "f":
        return xp.trunc(xp.true_divide(a, b))
    q = xp.floor_divide(a, b)
    return q + ((xp.remainder(a, b) != 0) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0)))


class DivRounded(Function):
    """``a / b`` rounded toward zero (``"trunc"``) or down (``"floor"``), as ``torch.div(..., rounding_mode=)``;
    integer operands give integers. The gradient is zero (as torch's).

    >>> DivRounded.apply(np.array([-7.0, 7.5]), np.array(2.0), "floor").tolist()
    [-4.0, 3.0]
    """

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any, mode: str) -> Any:
        if mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {mode!r}")
        xp = _xp(a, b)
        ctx.shapes = (np.shape(a), np.shape(b))
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.asarray(broadcasting("div", lambda p, q: _divide(xp, p, q, mode), a, b))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        sa, sb = ctx.shapes
        return xp.zeros(sa, dtype=grad.dtype), xp.zeros(sb, dtype=grad.dtype), None


class Remainder(Function):
    """``a - floor(a / b) * b``: the remainder with the sign of the divisor (Python's ``%``, ``torch.remainder``).

    >>> Remainder.apply(np.array([-3.0, 3.0]), np.array(2.0)).tolist()
    [1.0, 1.0]
    """

    _round = "floor"

    @classmethod
    def _op(cls, xp: Any) -> Any:
        return xp.remainder

    @classmethod
    def forward(cls, ctx: Context, a: Any, b: Any) -> Any:  # type: ignore[override]
        xp = _xp(a, b)
        _int_zero_check(a, b)
        ctx.save_for_backward(a, b)
        ctx.shapes = (np.shape(a), np.shape(b))
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.asarray(broadcasting(cls.__name__.lower(), cls._op(xp), a, b))

    @classmethod
    def backward(cls, ctx: Context, grad: Any) -> Any:  # type: ignore[override]
        xp = get_array_module(grad)
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = unbroadcast(grad, sa) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(-grad * getattr(xp, cls._round)(xp.true_divide(a, b)), sb).astype(grad.dtype)
        return ga, gb


class Fmod(Remainder):
    """``a - trunc(a / b) * b``: the remainder with the sign of the dividend (C's ``fmod``, ``torch.fmod``).

    >>> Fmod.apply(np.array([-3.0, 3.0]), np.array(2.0)).tolist()
    [-1.0, 1.0]
    """

    _round = "trunc"

    @classmethod
    def _op(cls, xp: Any) -> Any:
        return xp.fmod
