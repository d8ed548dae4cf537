"""The numba loops behind :mod:`gradlab.kernels.optim`: one serial pass per optimizer step over flat arrays.

Each loop does, element by element, exactly the operations of its NumPy twin in the same order, each rounded to the
array's dtype: the scalars arrive already cast to that dtype (the public functions cast them, as NumPy casts a
Python float against a float32 array), nothing is contracted into a fused multiply-add, and ``np.sqrt`` of a float32
stays float32. So a loop's result is bitwise the twin's, in float32 and float64. The loops are plain Python functions
wrapped by :func:`gradlab.kernels.njit`: nothing compiles until the first call, and ``.py_func`` runs them uncompiled.

An optional state array (a momentum buffer, RMSprop's ``grad_avg``) is passed as None when unused, never as a flag:
numba compiles one loop per combination of None and array and drops the dead branches, so every store in the loop
is unconditional and the loop vectorises (a store under a run-time flag kept LLVM from vectorising RMSprop, which
then ran 3x slower than NumPy).
"""
from __future__ import annotations

import numpy as np

from gradlab.kernels._select import njit

__all__ = ["sgd_loop", "adam_loop", "rmsprop_loop"]


@njit()
def sgd_loop(p, g, buf, lr, momentum, keep, weight_decay, decay_on, maximize, damp_on, nesterov,
             first_step):  # pragma: no cover - compiled; the tests run it through numba and compare with NumPy
    """SGD in place over flat ``p``, ``g`` and ``buf`` (None without momentum; ``keep`` is ``1 - dampening``).

    >>> import numpy as np
    >>> p, g = np.ones(2), np.full(2, 0.5)
    >>> t = np.float64
    >>> sgd_loop.py_func(p, g, None, t(0.1), t(0), t(1), t(0), False, False, False, False, False)
    >>> p.tolist()
    [0.95, 0.95]
    """
    for i in range(p.size):
        gi = g[i]
        if decay_on:
            d = p[i] * weight_decay
            d = d - gi if maximize else gi + d
        elif maximize:
            d = -gi
        else:
            d = gi
        if buf is not None:
            if first_step:
                b = d
            else:
                b = buf[i] * momentum
                b = b + d * keep if damp_on else b + d
            buf[i] = b
            direction = d + b * momentum if nesterov else b
        else:
            direction = d
        p[i] = p[i] - direction * lr


@njit()
def adam_loop(p, g, m, v, decay, weight_decay, lerp_w, lerp_wc, lerp_low, beta2, one_minus_beta2, eps_c, step_c,
              decoupled_on, decay_on, maximize):  # pragma: no cover - compiled
    """Adam (AdamW when ``decoupled_on``) in place over flat ``p``, ``g``, ``m``, ``v``.

    ``m`` moves toward the gradient as torch's ``lerp_`` rounds it (``lerp_w = 1 - beta1``, ``lerp_wc = beta1``,
    ``lerp_low = lerp_w < 0.5``); ``eps_c = eps * sqrt(bc2)`` and ``step_c = lr / bc1 * sqrt(bc2)``.

    >>> import numpy as np
    >>> p, g, m, v = np.ones(1), np.ones(1), np.zeros(1), np.zeros(1)
    >>> t = np.float64
    >>> adam_loop.py_func(p, g, m, v, t(1), t(0), t(0.1), t(0.9), True, t(0.999), t(0.001), t(1e-8 * 0.001 ** 0.5),
    ...                   t(0.1 / 0.1 * 0.001 ** 0.5), False, False, False)
    >>> round(float(p[0]), 6)  # Adam's first step moves a weight by lr
    0.9
    """
    for i in range(p.size):
        pi = p[i]
        if decoupled_on:
            pi = pi * decay
        gi = g[i]
        if decay_on:
            d = pi * weight_decay
            d = d - gi if maximize else gi + d
        elif maximize:
            d = -gi
        else:
            d = gi
        mi = m[i]
        w = d - mi
        mi = mi + w * lerp_w if lerp_low else d - w * lerp_wc
        m[i] = mi
        vi = v[i] * beta2
        w = d * d
        w = w * one_minus_beta2
        vi = vi + w
        v[i] = vi
        w = np.sqrt(vi)
        w = w + eps_c
        w = mi / w
        w = w * step_c
        p[i] = pi - w


@njit()
def rmsprop_loop(p, g, square_avg, buf, grad_avg, lr, alpha, one_minus_alpha, eps, weight_decay, momentum, lerp_w,
                 lerp_wc, lerp_low, decay_on, maximize):  # pragma: no cover - compiled
    """RMSprop in place over flat ``p``, ``g``, ``square_avg``, ``buf`` (None without momentum) and ``grad_avg``
    (None unless centered).

    >>> import numpy as np
    >>> p, g, s = np.ones(1), np.full(1, 2.0), np.zeros(1)
    >>> t = np.float64
    >>> rmsprop_loop.py_func(p, g, s, None, None, t(0.01), t(0.99), t(0.01), t(1e-8), t(0), t(0), t(0.01), t(0.99),
    ...                      True, False, False)
    >>> round(float(p[0]), 4)  # 1 - 0.01 * 2 / sqrt(0.01 * 4)
    0.9
    """
    for i in range(p.size):
        gi = g[i]
        if decay_on:
            d = p[i] * weight_decay
            d = d - gi if maximize else gi + d
        elif maximize:
            d = -gi
        else:
            d = gi
        s = square_avg[i] * alpha
        w = d * d
        w = w * one_minus_alpha
        s = s + w
        square_avg[i] = s
        if grad_avg is not None:
            a = grad_avg[i]
            w = d - a
            a = a + w * lerp_w if lerp_low else d - w * lerp_wc
            grad_avg[i] = a
            w = a * a
            w = s - w
            w = np.sqrt(w)
        else:
            w = np.sqrt(s)
        w = w + eps
        w = d / w
        if buf is not None:
            b = buf[i] * momentum
            b = b + w
            buf[i] = b
            w = b * lr
        else:
            w = w * lr
        p[i] = p[i] - w


# the loops are LazyKernel objects, which doctest does not look inside: point it at the Python functions
__test__ = {"sgd_loop": sgd_loop.py_func, "adam_loop": adam_loop.py_func, "rmsprop_loop": rmsprop_loop.py_func}
