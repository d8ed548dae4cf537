"""Shared pieces of the fused recurrent layers (``recurrent.py``, ``lstm.py``): argument checks, the slot layout
of the packed result, and a pool that recycles large scratch buffers between calls."""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from gradlab.autograd.function import Context
from gradlab.autograd.grad_mode import _enabled

__all__ = ["empty", "check_layer_args", "slots", "result_dtype", "wants_grad"]


# ---- workspace recycling ----------------------------------------------------------------------------------------
# A step allocates tens of MB of large temporaries; fresh large allocations come from mmap and page-fault on first
# touch (measured: ~13 ms of a 38 ms LSTM step). Arrays from ``empty`` return their memory to a small pool when
# the last reference to them dies, so the next call reuses warm pages. Only arrays that never escape an op (saved
# for backward or scratch) come from here; everything an op returns is freshly allocated.
_POOL: dict[tuple, list] = {}
_POOL_PER_KEY = 4
_POOL_MIN_BYTES = 1 << 16


def _give_back(key: tuple, base: Any) -> None:
    free = _POOL.setdefault(key, [])
    if len(free) < _POOL_PER_KEY:
        free.append(base)


def empty(shape: tuple, dtype: Any, xp: Any = np) -> Any:
    """An uninitialised array whose memory goes back to the pool when it dies.

    Keep the returned array itself alive while any view of it is in use: a view's ``.base`` is the pooled buffer,
    not this array, so a view that outlives it would see its memory reused.

    >>> a = empty((512, 64), np.float32)  # 128 KiB: from the pool
    >>> a.shape, a.dtype
    ((512, 64), dtype('float32'))
    """
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    if xp is not np or dtype.itemsize * int(np.prod(shape)) < _POOL_MIN_BYTES:
        return xp.empty(shape, dtype=dtype)  # GPU arrays come from CuPy's own memory pool
    key = (shape, dtype.str)
    free = _POOL.get(key)
    base = free.pop() if free else xp.empty(shape, dtype=dtype)
    view = base.view()
    weakref.finalize(view, _give_back, key, base)
    return view


def check_layer_args(mode: str, x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any,
                     gates: int) -> None:
    """Shapes of one layer's input, states, weights and biases, with an error that names the mismatch.

    >>> x, w_ih, w_hh = np.zeros((5, 2, 3)), np.zeros((4, 3)), np.zeros((4, 4))
    >>> check_layer_args("RNN", x, None, None, w_ih, w_hh, None, None, 1)  # fits: returns None
    >>> check_layer_args("RNN", x, np.zeros((3, 4)), None, w_ih, w_hh, None, None, 1)
    Traceback (most recent call last):
        ...
    ValueError: RNN: h0 has shape (3, 4), expected (2, 4)
    """
    if x.ndim != 3:
        raise ValueError(f"{mode}: expected a (T, N, input_size) input, got shape {x.shape}")
    gh, hidden = w_hh.shape
    if gh != gates * hidden or w_ih.shape != (gh, x.shape[2]):
        raise ValueError(
            f"{mode}: weight_ih of shape {w_ih.shape} and weight_hh of shape {w_hh.shape} do not fit an input "
            f"of shape {x.shape} with {gates} gate(s) (expected ({gates * hidden}, {x.shape[2]}) and "
            f"({gates * hidden}, {hidden}))"
        )
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b is not None and b.shape != (gh,):
            raise ValueError(f"{mode}: {name} has shape {b.shape}, expected ({gh},)")
    for name, h in (("h0", h0), ("c0", c0)):
        if h is not None and h.shape != (x.shape[1], hidden):
            raise ValueError(f"{mode}: {name} has shape {h.shape}, expected ({x.shape[1]}, {hidden})")


def slots(T: int, reverse: bool) -> tuple[int, int, int, range]:
    """(offset of h_t's slot from t, offset of h_{t-1}'s slot from t, slot of h0, time steps in processing order).

    >>> slots(3, reverse=False), slots(3, reverse=True)
    ((1, 0, 0, range(0, 3)), (0, 1, 3, range(2, -1, -1)))
    """
    if reverse:
        return 0, 1, T, range(T - 1, -1, -1)
    return 1, 0, 0, range(T)


def result_dtype(*arrays: Any) -> Any:
    """The dtype that the given arrays (None entries skipped) promote to.

    >>> result_dtype(np.zeros(1, np.float32), None, np.zeros(1, np.float64))
    dtype('float64')
    """
    return np.result_type(*[a.dtype for a in arrays if a is not None])


def wants_grad(ctx: Context) -> bool:
    """Whether an op's backward will be needed: grad mode is on and some input requires a gradient.

    >>> from gradlab.autograd.function import Context
    >>> ctx = Context()
    >>> ctx.needs_input_grad = (False, True)
    >>> wants_grad(ctx)
    True
    """
    return bool(_enabled[0] and any(ctx.needs_input_grad))
