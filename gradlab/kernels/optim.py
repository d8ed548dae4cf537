"""Fused optimizer steps: SGD (momentum, Nesterov), Adam / AdamW and RMSprop, each updating its arrays in place.

Each public function runs either its NumPy twin (the reference, below each function: a dozen ``out=`` passes, with
an optional reusable ``workspace`` so that a step allocates nothing) or, when :func:`gradlab.kernels.wants_numba`
says so for the parameter's size, one compiled serial loop (:mod:`gradlab.kernels._optim_loops`) that does the same
operations in the same order and so gives bitwise the same result, in float32 and float64. The formulas are torch
2.13's (bias corrections computed as torch computes them); ``gradlab.optim`` calls these functions.

Arrays may have any shape (0-d included), float32 or float64; the state arrays must have the parameter's shape. The
compiled loop runs when every array is C-contiguous and of the parameter's dtype; anything else (a float64 gradient
for a float32 parameter, a strided view) takes the NumPy twin, which casts as NumPy does.

Checkpoints: kill-and-resume is bit-identical within one kernel set. Switching kernel sets between save and resume
is allowed (the state arrays are the same) and gives results equal to float32 rounding, not bitwise: the optimizer
loops here do equal their twins bitwise, but a kernel set's other kernels need not.

>>> import numpy as np
>>> p, g = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
>>> m, v = np.zeros_like(p), np.zeros_like(p)
>>> adam_update(p, g, m, v, step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
>>> [round(float(x), 4) for x in p]
[0.9, 0.9, 0.9]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.kernels import _optim_loops as loops
from gradlab.kernels._select import wants_numba

__all__ = ["SGD_THRESHOLD", "ADAM_THRESHOLD", "RMSPROP_THRESHOLD", "WORKSPACE_SLOTS", "sgd_update", "adam_update",
           "rmsprop_update"]

#: elements from which ``auto`` runs the compiled loops (below them NumPy's per-call cost is small and a tiny fit
#: never pays numba's start-up); measured with ``benchmarks/kernels.py``
SGD_THRESHOLD = 65536
ADAM_THRESHOLD = 16384
RMSPROP_THRESHOLD = 16384
#: a ``workspace`` holds at least ``WORKSPACE_SLOTS * param.size`` elements of the parameter's dtype
WORKSPACE_SLOTS = 2

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ---------------------------------------------------------------------------------------------------- helpers
def _same_shape(param: np.ndarray, **arrays: Any) -> None:
    if not isinstance(param, np.ndarray):
        raise TypeError(f"param must be a NumPy array (updated in place), got {type(param).__name__}")
    shape = param.shape
    for name, a in arrays.items():
        if a is not None and a.shape != shape:
            raise ValueError(f"{name} has shape {a.shape} but the parameter has shape {shape}")


def _compilable(param: np.ndarray, *arrays: np.ndarray) -> bool:
    """Whether the compiled loop can take these arrays: one float dtype, all C-contiguous, the written ones
    writeable (``arrays[0]`` is the gradient, only read)."""
    if param.dtype not in _FLOATS:
        return False
    for k, a in enumerate((param, *arrays)):
        if a.dtype != param.dtype or not a.flags.c_contiguous or (k != 1 and not a.flags.writeable):
            return False
    return True


def _present(*arrays: np.ndarray | None) -> list[np.ndarray]:
    return [a for a in arrays if a is not None]


def _flat(a: np.ndarray | None) -> np.ndarray | None:
    """A flat view of a C-contiguous array (None stays None: the loops compile that branch away)."""
    return None if a is None else a.reshape(-1)


def _slot(workspace: np.ndarray | None, param: np.ndarray, k: int) -> np.ndarray:
    """Scratch slot ``k`` shaped like ``param``: a view into ``workspace``, or a fresh array without one."""
    if workspace is None:
        return np.empty_like(param)
    n = param.size
    if workspace.dtype != param.dtype or workspace.ndim != 1 or workspace.size < WORKSPACE_SLOTS * n:
        raise ValueError(
            f"workspace must be a 1-D {param.dtype} array of at least {WORKSPACE_SLOTS} * {n} elements, "
            f"got {workspace.dtype} with shape {workspace.shape}"
        )
    return workspace[k * n:(k + 1) * n].reshape(param.shape)


def _decayed(param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool,
             workspace: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """``(-grad if maximize else grad) + weight_decay * param`` and whether it is scratch (slot 0) we may overwrite."""
    if weight_decay != 0:
        d = _slot(workspace, param, 0)
        np.multiply(param, weight_decay, out=d)
        if maximize:
            np.subtract(d, grad, out=d)
        else:
            np.add(grad, d, out=d)
        return d, True
    if maximize:
        d = _slot(workspace, param, 0)
        np.negative(grad, out=d)
        return d, True
    return grad, False


def _lerp(start: np.ndarray, end: np.ndarray, weight: float, work: np.ndarray) -> None:
    """``start += weight * (end - start)`` in place, rounded as torch's ``lerp_`` (``work`` is scratch space; NumPy
    ufuncs only, so CuPy arrays take it too: :mod:`gradlab.optim` uses it for every array module)."""
    np.subtract(end, start, out=work)
    if abs(weight) < 0.5:
        work *= weight
        start += work
    else:
        work *= 1 - weight
        np.subtract(end, work, out=start)


def _asarray(grad: Any) -> np.ndarray:
    return grad if isinstance(grad, np.ndarray) else np.asarray(grad)


# ---------------------------------------------------------------------------------------------------- SGD
def sgd_update(param: np.ndarray, grad: np.ndarray, buf: np.ndarray | None, *, lr: float, momentum: float = 0.0,
               dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False,
               first_step: bool = False, workspace: np.ndarray | None = None) -> None:
    """One SGD step in place (torch's rule): ``d = g + wd * p``; with momentum ``buf = d`` on the first step, then
    ``buf = momentum * buf + (1 - dampening) * d``; ``p -= lr * (d + momentum * buf if nesterov else buf)``.

    ``buf`` (the momentum buffer, written in place) may be None when ``momentum == 0``; ``first_step=True`` copies
    ``d`` into it instead of decaying it.

    >>> p, g, b = np.ones(2), np.full(2, 0.5), np.empty(2)
    >>> sgd_update(p, g, b, lr=0.1, momentum=0.9, first_step=True)
    >>> p.tolist(), b.tolist()
    ([0.95, 0.95], [0.5, 0.5])
    """
    grad = _asarray(grad)
    _same_shape(param, grad=grad, momentum_buffer=buf)
    use_momentum = momentum != 0
    if use_momentum and buf is None:
        raise ValueError("sgd_update needs a momentum buffer (buf) when momentum != 0")
    b = buf if use_momentum else None
    if _compilable(param, grad, *_present(b)) and wants_numba(param.size, SGD_THRESHOLD):
        t = param.dtype.type
        loops.sgd_loop(param.reshape(-1), grad.reshape(-1), _flat(b), t(lr), t(momentum), t(1 - dampening),
                       t(weight_decay), weight_decay != 0, bool(maximize), dampening != 0, bool(nesterov),
                       bool(first_step))
        return
    _sgd_numpy(param, grad, buf, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
               nesterov=nesterov, maximize=maximize, first_step=first_step, workspace=workspace)


def _sgd_numpy(param: Any, grad: Any, buf: Any, *, lr: float, momentum: float = 0.0, dampening: float = 0.0,
               weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False, first_step: bool = False,
               workspace: Any = None) -> None:
    """:func:`sgd_update`'s NumPy twin, without its checks: NumPy ufuncs with ``out=`` only, so it serves any array
    module that takes them (CuPy arrays through ``__array_ufunc__``) and any dtype; :class:`gradlab.optim.SGD` runs
    it for the arrays the fused path does not take."""
    d, owned = _decayed(param, grad, weight_decay, maximize, workspace)
    if momentum != 0:
        assert buf is not None
        if first_step:
            np.copyto(buf, d)
        else:
            buf *= momentum
            if dampening == 0:
                buf += d
            elif owned:  # nesterov is off when dampening != 0, so d is not needed afterwards
                d *= 1 - dampening
                buf += d
            else:
                t = _slot(workspace, param, 0)
                np.multiply(d, 1 - dampening, out=t)
                buf += t
        if nesterov:
            t = _slot(workspace, param, 1)
            np.multiply(buf, momentum, out=t)
            np.add(d, t, out=t)
            d, owned = t, True
        else:
            d, owned = buf, False
    if owned:
        d *= lr
        param -= d
    else:
        t = _slot(workspace, param, 0)
        np.multiply(d, lr, out=t)
        param -= t


# ---------------------------------------------------------------------------------------------------- Adam
def adam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray, *, step: int,
                lr: float, beta1: float, beta2: float, eps: float, weight_decay: float = 0.0, decoupled: bool = False,
                maximize: bool = False, workspace: np.ndarray | None = None) -> None:
    """One Adam step in place (AdamW when ``decoupled``), torch's rule, ``step`` counted from 1::

        m = lerp(m, d, 1 - beta1)      v = beta2 * v + (1 - beta2) * d * d
        p -= (lr / bc1 * sqrt(bc2)) * m / (sqrt(v) + eps * sqrt(bc2)),   bc_i = 1 - beta_i ** step

    with ``d = g + wd * p``, or, decoupled, ``p *= 1 - lr * wd`` first and ``d = g`` (``-g`` when ``maximize``).

    >>> p, g, m, v = np.ones(1), np.ones(1), np.zeros(1), np.zeros(1)
    >>> adam_update(p, g, m, v, step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.5, decoupled=True)
    >>> round(float(p[0]), 4)  # 1 * (1 - 0.1 * 0.5) - 0.1
    0.85
    """
    grad = _asarray(grad)
    _same_shape(param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    if step < 1:
        raise ValueError(f"step counts from 1, got {step}")
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    step_size = lr / bias_correction1
    if _compilable(param, grad, exp_avg, exp_avg_sq) and wants_numba(param.size, ADAM_THRESHOLD):
        t = param.dtype.type
        weight = 1 - beta1
        decoupled_on = weight_decay != 0 and decoupled
        loops.adam_loop(param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
                        t(1 - lr * weight_decay), t(weight_decay), t(weight), t(1 - weight), abs(weight) < 0.5,
                        t(beta2), t(1 - beta2), t(eps * bias_correction2_sqrt), t(step_size * bias_correction2_sqrt),
                        decoupled_on, weight_decay != 0 and not decoupled, bool(maximize))
        return

    # the NumPy twin
    if weight_decay != 0 and decoupled:
        param *= 1 - lr * weight_decay
        d, _ = _decayed(param, grad, 0, maximize, workspace)
    else:
        d, _ = _decayed(param, grad, weight_decay, maximize, workspace)
    w = _slot(workspace, param, 1)
    _lerp(exp_avg, d, 1 - beta1, w)
    exp_avg_sq *= beta2
    np.multiply(d, d, out=w)
    w *= 1 - beta2
    exp_avg_sq += w
    # p -= step_size * m / (sqrt(v) / bc2 + eps), written as
    # p -= (step_size * bc2) * m / (sqrt(v) + eps * bc2): one pass less over the parameter.
    np.sqrt(exp_avg_sq, out=w)
    w += eps * bias_correction2_sqrt
    np.divide(exp_avg, w, out=w)
    w *= step_size * bias_correction2_sqrt
    param -= w


# ---------------------------------------------------------------------------------------------------- RMSprop
def rmsprop_update(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray, *, lr: float, alpha: float,
                   eps: float, weight_decay: float = 0.0, momentum: float = 0.0, buf: np.ndarray | None = None,
                   centered: bool = False, grad_avg: np.ndarray | None = None, maximize: bool = False,
                   workspace: np.ndarray | None = None) -> None:
    """One RMSprop step in place, torch's rule (``d = g + wd * p``, ``-g`` when ``maximize``)::

        v = alpha * v + (1 - alpha) * d * d
        a = sqrt(v - gbar * gbar) + eps, gbar = lerp(gbar, d, 1 - alpha)   (centered; else a = sqrt(v) + eps)
        buf = momentum * buf + d / a;  p -= lr * buf                         (momentum > 0; else p -= lr * d / a)

    ``buf`` is needed when ``momentum > 0``, ``grad_avg`` when ``centered``.

    >>> p, g, v = np.ones(1), np.full(1, 2.0), np.zeros(1)
    >>> rmsprop_update(p, g, v, lr=0.01, alpha=0.99, eps=1e-8)
    >>> round(float(p[0]), 4)  # 1 - 0.01 * 2 / sqrt(0.01 * 4)
    0.9
    """
    grad = _asarray(grad)
    _same_shape(param, grad=grad, square_avg=square_avg, momentum_buffer=buf, grad_avg=grad_avg)
    use_momentum = momentum > 0
    if use_momentum and buf is None:
        raise ValueError("rmsprop_update needs a momentum buffer (buf) when momentum > 0")
    if centered and grad_avg is None:
        raise ValueError("rmsprop_update needs grad_avg when centered")
    b = buf if use_momentum else None
    a = grad_avg if centered else None
    if _compilable(param, grad, square_avg, *_present(b, a)) and wants_numba(param.size, RMSPROP_THRESHOLD):
        t = param.dtype.type
        weight = 1 - alpha
        loops.rmsprop_loop(param.reshape(-1), grad.reshape(-1), square_avg.reshape(-1), _flat(b), _flat(a), t(lr),
                           t(alpha), t(1 - alpha), t(eps), t(weight_decay), t(momentum), t(weight), t(1 - weight),
                           abs(weight) < 0.5, weight_decay != 0, bool(maximize))
        return
    _rmsprop_numpy(param, grad, square_avg, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                   momentum=momentum, buf=buf, centered=centered, grad_avg=grad_avg, maximize=maximize,
                   workspace=workspace)


def _rmsprop_numpy(param: Any, grad: Any, square_avg: Any, *, lr: float, alpha: float, eps: float,
                   weight_decay: float = 0.0, momentum: float = 0.0, buf: Any = None, centered: bool = False,
                   grad_avg: Any = None, maximize: bool = False, workspace: Any = None) -> None:
    """:func:`rmsprop_update`'s NumPy twin, without its checks: NumPy ufuncs with ``out=`` only, so it serves any
    array module that takes them (CuPy arrays through ``__array_ufunc__``) and any dtype;
    :class:`gradlab.optim.RMSprop` runs it for the arrays the fused path does not take."""
    d, _ = _decayed(param, grad, weight_decay, maximize, workspace)
    w = _slot(workspace, param, 1)
    square_avg *= alpha
    np.multiply(d, d, out=w)
    w *= 1 - alpha
    square_avg += w
    if centered:
        assert grad_avg is not None
        _lerp(grad_avg, d, 1 - alpha, w)
        np.multiply(grad_avg, grad_avg, out=w)
        np.subtract(square_avg, w, out=w)
        np.sqrt(w, out=w)
    else:
        np.sqrt(square_avg, out=w)
    w += eps
    np.divide(d, w, out=w)
    if momentum > 0:
        assert buf is not None
        buf *= momentum
        buf += w
        np.multiply(buf, lr, out=w)
    else:
        w *= lr
    param -= w
