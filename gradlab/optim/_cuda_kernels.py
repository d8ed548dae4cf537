"""Fused optimizer updates on the GPU: one CuPy ``ElementwiseKernel`` launch per parameter for an Adam step.

The optimizers keep their state per parameter (no flat buffer), so a step is one kernel launch per parameter instead
of the ~10 elementwise passes of the NumPy form. The kernel computes exactly the CPU update's formula (same
reassociation of the bias corrections), so results agree to float rounding. Compiled on first use; CuPy is never
imported from here unless a parameter already lives on a GPU.
"""
from __future__ import annotations

from typing import Any

__all__ = ["adam_step"]

_KERNELS: dict[str, Any] = {}

_ADAM_SOURCE = """
    p = p * decay;
    T d = sgn * g + p * wd;
    m = m + (d - m) * w1;
    v = v * beta2 + d * d * w2;
    p = p - (m / (sqrt(v) + eps_c)) * step_size;
"""


def _adam_kernel(cp: Any) -> Any:
    k = _KERNELS.get("adam")
    if k is None:
        k = _KERNELS["adam"] = cp.ElementwiseKernel(
            "T g, T decay, T sgn, T wd, T w1, T beta2, T w2, T step_size, T eps_c",
            "T p, T m, T v",
            _ADAM_SOURCE,
            "gradlab_adam_step",
        )
    return k


def adam_step(cp: Any, param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, *, lr: float, beta1: float,
              beta2: float, eps: float, weight_decay: float, decoupled: bool, maximize: bool, step: int) -> None:
    """One Adam (AdamW when ``decoupled``) update of GPU arrays in place, in a single kernel launch.

    ``m`` moves toward ``d`` by ``1 - beta1`` (torch's lerp form), ``v = beta2 v + (1 - beta2) d^2`` and
    ``p -= (lr / bc1 * sqrt(bc2)) * m / (sqrt(v) + eps * sqrt(bc2))``, the CPU path's formula.

    >>> import pytest
    >>> cp = pytest.importorskip("cupy")  # runs where CuPy (a GPU) is present, skipped elsewhere
    >>> p, g = cp.ones(3, cp.float32), cp.ones(3, cp.float32)
    >>> m, v = cp.zeros(3, cp.float32), cp.zeros(3, cp.float32)
    >>> adam_step(cp, p, g, m, v, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
    ...           maximize=False, step=1)
    >>> [round(float(a), 4) for a in p]  # Adam's first step moves each weight by lr
    [0.9, 0.9, 0.9]
    """
    t = param.dtype.type
    bc2_sqrt = (1 - beta2**step) ** 0.5
    step_size = lr / (1 - beta1**step) * bc2_sqrt
    decay = 1 - lr * weight_decay if decoupled else 1.0
    wd = 0.0 if decoupled else weight_decay
    if grad.dtype != param.dtype:
        grad = grad.astype(param.dtype)
    _adam_kernel(cp)(grad, t(decay), t(-1.0 if maximize else 1.0), t(wd), t(1 - beta1), t(beta2), t(1 - beta2),
                     t(step_size), t(eps * bc2_sqrt), param, exp_avg, exp_avg_sq)
