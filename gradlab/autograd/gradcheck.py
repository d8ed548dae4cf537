"""Numerical gradient checking: central differences in float64 against the analytic gradient."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """The analytic and numerical gradients disagree (the message names the input and the worst element).

    >>> import gradlab
    >>> from gradlab.autograd.function import Function
    >>> class Twice(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return 2 * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         return grad  # wrong: should be 2 * grad
    >>> x = gradlab.tensor([1.0, 2.0], dtype=gradlab.float64, requires_grad=True)
    >>> gradcheck(Twice.apply, (x,))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    gradlab.autograd.gradcheck.GradcheckError: ...
    >>> gradcheck(Twice.apply, (x,), raise_exception=False)
    False
    """


def _outputs(fn: Callable, inputs: Sequence) -> list:
    from gradlab.tensor import Tensor

    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central differences, as ``torch.autograd.gradcheck``.

    Inputs that require grad should be float64. Returns True, or raises ``GradcheckError``.

    >>> import gradlab
    >>> x = gradlab.tensor([0.5, -1.0], dtype=gradlab.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t * t).tanh(), (x,))
    True
    """
    from gradlab.autograd.grad_mode import enable_grad
    from gradlab.tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: at least one input tensor must require grad")
    for i in diff:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; use float64 for a reliable check")
    with enable_grad():
        outs = _outputs(fn, inputs)
        sizes = [o.numel() for o in outs]
        n_out = sum(sizes)
        # analytic Jacobian, one row per output element
        analytic = {i: np.zeros((n_out, inputs[i].numel())) for i in diff}
        row = 0
        for k in range(len(outs)):
            for j in range(sizes[k]):
                for i in diff:
                    inputs[i].grad = None
                if not outs[k].requires_grad:
                    row += 1
                    continue
                g = np.zeros(outs[k].shape)
                g.reshape(-1)[j] = 1.0
                outs[k].backward(g, retain_graph=True)
                for i in diff:
                    gr = inputs[i].grad
                    if gr is not None:
                        analytic[i][row] = gr._data.reshape(-1)
                row += 1
        for i in diff:
            inputs[i].grad = None
    # numerical Jacobian
    from gradlab.autograd.grad_mode import no_grad

    with no_grad():
        for i in diff:
            x = inputs[i]._data
            flat = x.reshape(-1)
            numeric = np.zeros((n_out, x.size))
            for j in range(x.size):
                orig = flat[j]
                flat[j] = orig + eps
                plus = np.concatenate([o._data.reshape(-1).astype(np.float64) for o in _outputs(fn, inputs)])
                flat[j] = orig - eps
                minus = np.concatenate([o._data.reshape(-1).astype(np.float64) for o in _outputs(fn, inputs)])
                flat[j] = orig
                numeric[:, j] = (plus - minus) / (2 * eps)
            a = analytic[i]
            err = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
            if not np.all(err <= 0) or not np.all(np.isfinite(a)):
                r, c = np.unravel_index(np.nanargmax(np.where(np.isfinite(err), err, np.inf)), err.shape)
                where = tuple(int(j) for j in np.unravel_index(c, x.shape))
                msg = (
                    f"Jacobian mismatch for output {r} with respect to input {i}, element {where}:"
                    f" numerical {numeric[r, c]:.6g}, analytical {a[r, c]:.6g} (atol={atol}, rtol={rtol}; max abs "
                    f"difference {np.nanmax(np.abs(a - numeric)):.3g})"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True
