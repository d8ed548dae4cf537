"""Helpers around parameters and gradients: clipping, penalties, flattening (``torch.nn.utils`` names).

``freeze`` / ``unfreeze`` switch ``requires_grad`` off/on for the parameters whose names match a pattern (fine-tuning).
``l1_penalty`` / ``l2_penalty`` add explicit regularisation terms to a loss; for plain L2 the usual alternative is an
optimizer's ``weight_decay`` (decoupled in ``AdamW``), which costs no extra graph.

>>> import gradlab
>>> from gradlab import nn
>>> from gradlab.nn.utils import clip_grad_norm_, l2_penalty
>>> model = nn.Linear(3, 1)
>>> loss = model(gradlab.ones(2, 3)).sum() + 1e-3 * l2_penalty(model.parameters())
>>> loss.backward()
>>> total = clip_grad_norm_(model.parameters(), max_norm=1.0)
>>> bool(sum(float((p.grad.data ** 2).sum()) for p in model.parameters()) ** 0.5 <= 1.0 + 1e-5)
True
"""
from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from gradlab.tensor import Tensor

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "l1_penalty", "l2_penalty", "parameters_to_vector", "vector_to_parameters",
    "freeze", "unfreeze",
]


def _params(parameters: Any) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    if hasattr(parameters, "parameters") and callable(parameters.parameters):  # a Module
        return list(parameters.parameters())
    return list(parameters)


def _norm(arr: np.ndarray, norm_type: float) -> float:
    if norm_type == math.inf:
        return float(np.abs(arr).max()) if arr.size else 0.0
    if norm_type == -math.inf:
        return float(np.abs(arr).min()) if arr.size else math.inf
    if norm_type == 2.0:
        flat = arr.reshape(-1)
        return math.sqrt(float(np.dot(flat, flat)))
    if norm_type == 1.0:
        return float(np.abs(arr).sum())
    if norm_type == 0:
        return float(np.count_nonzero(arr))
    return float((np.abs(arr.astype(np.float64)) ** norm_type).sum() ** (1.0 / norm_type))


def clip_grad_norm_(
    parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach: Any = None
) -> Tensor:
    """Scale all gradients in place so that their joint ``norm_type`` norm is at most ``max_norm``, as torch:
    ``grad *= min(1, max_norm / (total_norm + 1e-6))``. Returns the total norm (before clipping) as a Tensor.

    >>> import gradlab
    >>> w = gradlab.zeros(2, requires_grad=True)
    >>> w.grad = gradlab.tensor([3.0, 4.0])
    >>> clip_grad_norm_([w], max_norm=1.0).item(), [round(g, 3) for g in w.grad.tolist()]
    (5.0, [0.6, 0.8])
    """
    grads = [p.grad._data for p in _params(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    dtype = grads[0].dtype if grads else np.dtype(np.float32)
    if not grads:
        return Tensor(np.array(0.0, dtype=dtype))
    norms = [_norm(g, norm_type) for g in grads]
    if norm_type == math.inf:
        total = max(norms)
    elif norm_type == -math.inf:
        total = min(norms)
    elif norm_type == 0:
        total = float(sum(norms))
    else:
        total = float(np.sum(np.array(norms, dtype=np.float64) ** norm_type) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    if coef < 1.0 or not math.isfinite(total):
        for g in grads:
            g *= coef
    return Tensor(np.array(total, dtype=dtype))


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place.

    >>> import gradlab
    >>> w = gradlab.zeros(2, requires_grad=True)
    >>> w.grad = gradlab.tensor([-3.0, 0.5])
    >>> clip_grad_value_([w], 1.0); w.grad.tolist()
    [-1.0, 0.5]
    """
    v = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -v, v, out=p.grad._data)


def l1_penalty(parameters: Any) -> Tensor:
    """Sum of |w| over all parameters (differentiable): add ``lam * l1_penalty(model.parameters())`` to a loss.

    >>> import gradlab
    >>> from gradlab import nn
    >>> m = nn.Linear(2, 1)
    >>> with gradlab.no_grad():
    ...     _ = m.weight.fill_(-1.0), m.bias.fill_(0.5)
    >>> l1_penalty(m.parameters()).item()
    2.5
    """
    terms = [p.abs().sum() for p in _params(parameters)]
    return _total(terms)


def l2_penalty(parameters: Any) -> Tensor:
    """Sum of w^2 over all parameters (differentiable); ``weight_decay`` in the optimizers is the usual alternative.

    >>> import gradlab
    >>> l2_penalty([gradlab.tensor([1.0, 2.0]), gradlab.tensor([3.0])]).item()
    14.0
    """
    terms = [(p * p).sum() for p in _params(parameters)]
    return _total(terms)


def _total(terms: list) -> Tensor:
    if not terms:
        return Tensor(np.array(0.0, dtype=np.float32))
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def parameters_to_vector(parameters: Iterable) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable).

    >>> import gradlab
    >>> parameters_to_vector([gradlab.ones(2, 2), gradlab.zeros(1)]).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    from gradlab.functions import cat

    return cat([p.reshape(-1) for p in _params(parameters)])


def vector_to_parameters(vec: Any, parameters: Iterable) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place (their identity is kept).

    >>> import gradlab
    >>> a, b = gradlab.zeros(2), gradlab.zeros(1)
    >>> vector_to_parameters(gradlab.tensor([1.0, 2.0, 3.0]), [a, b])
    >>> a.tolist(), b.tolist()
    ([1.0, 2.0], [3.0])
    """
    arr = vec._data if isinstance(vec, Tensor) else np.asarray(vec)
    if arr.ndim != 1:
        raise TypeError(f"expected a 1-D vector, got shape {arr.shape}")
    params = _params(parameters)
    needed = sum(p.numel() for p in params)
    if arr.size != needed:
        raise ValueError(f"vector_to_parameters: the vector has {arr.size} elements, the parameters {needed}")
    i = 0
    for p in params:
        n = p.numel()
        p._data[...] = arr[i : i + n].reshape(p.shape)
        p._vc[0] += 1
        i += n


def _set_requires_grad(model: Any, patterns: tuple[str, ...], flag: bool) -> list[str]:
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"expected a gradlab.nn.Module, got {type(model).__name__}")
    pats = patterns or ("*",)
    for pat in pats:
        if not isinstance(pat, str) or not pat:
            raise TypeError(f"name patterns must be non-empty strings, got {pat!r}")
    names = []
    unmatched = set(pats)
    for name, p in model.named_parameters():
        hit = [pat for pat in pats if fnmatch.fnmatchcase(name, pat) or fnmatch.fnmatchcase(name, pat + ".*")]
        if hit:
            p.requires_grad_(flag)
            if not flag:
                p.grad = None
            names.append(name)
            unmatched.difference_update(hit)
    if unmatched:
        raise ValueError(f"no parameter name matches {', '.join(repr(u) for u in sorted(unmatched))} (the names "
                         f"look like {', '.join(n for n, _ in list(model.named_parameters())[:3])}, ...)")
    return names


def freeze(model: Any, *patterns: str) -> list[str]:
    """Stop training the parameters of ``model`` whose names match a pattern (``fnmatch``: ``"features.*"``; a module
    name such as ``"features"`` matches everything under it; no pattern: all). Their ``requires_grad`` becomes
    False, so they get no gradient and the optimizers leave them bit-identical. Returns the names frozen;
    ValueError when a pattern matches nothing.

    >>> from gradlab import nn
    >>> m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> freeze(m, "0.*")
    ['0.weight', '0.bias']
    >>> [n for n, p in m.named_parameters() if p.requires_grad]
    ['2.weight', '2.bias']
    """
    return _set_requires_grad(model, patterns, False)


def unfreeze(model: Any, *patterns: str) -> list[str]:
    """Train again the parameters whose names match a pattern (as :func:`freeze`; no pattern: all).

    >>> from gradlab import nn
    >>> m = nn.Linear(2, 1)
    >>> _ = freeze(m)
    >>> unfreeze(m, "bias"), m.weight.requires_grad
    (['bias'], False)
    """
    return _set_requires_grad(model, patterns, True)
