"""``autograd.grad`` and ``autograd.backward`` with torch's signatures (first order: no ``create_graph``).

``grad`` returns the gradients of ``outputs`` with respect to ``inputs`` (leaves or intermediate tensors) without
touching any ``.grad``: the leaves' gradients are set aside during the walk and put back after it.

>>> import gradlab
>>> x = gradlab.tensor([1.0, 2.0], requires_grad=True)
>>> y = x * x
>>> gx, gy = grad(y.sum() * 3, (x, y))
>>> gx.tolist(), gy.tolist(), x.grad
([6.0, 12.0], [3.0, 3.0], None)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gradlab.autograd.function import Context

__all__ = ["grad", "backward"]


def _seq(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _leaves(outputs: list) -> list:
    """Every leaf that requires grad and feeds ``outputs``."""
    from gradlab.autograd.engine import topological_order  # the engine needs Tensor: imported when first used

    found: dict[int, Any] = {}
    for out in outputs:
        if out.grad_fn is None:
            if out.requires_grad:
                found[id(out)] = out
            continue
        for node in topological_order(out.grad_fn):
            for nxt in node.next:
                if nxt is not None and type(nxt) is not Context:
                    found[id(nxt)] = nxt
    return list(found.values())


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: Any = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: Any = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` (weighted by ``grad_outputs``) with respect to each of ``inputs``, as a tuple.

    An input the outputs do not depend on raises, unless ``allow_unused`` (then its entry is None, or zeros with
    ``materialize_grads``). ``create_graph=True`` (higher-order gradients) is not supported by gradlab.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    >>> gradlab.autograd.grad((x ** 2).sum(), x)
    (tensor([2., 4.]),)
    """
    from gradlab.autograd.engine import backward as _backward
    from gradlab.tensor import Tensor

    if create_graph:
        raise NotImplementedError("autograd.grad(create_graph=True): gradlab computes first-order gradients only")
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by gradlab")
    outs, ins, gos = _seq(outputs), _seq(inputs), _seq(grad_outputs)
    if gos and len(gos) != len(outs):
        raise RuntimeError(f"grad: got {len(gos)} grad_outputs for {len(outs)} outputs")
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    leaves = _leaves(outs)
    kept = [(leaf, leaf.grad) for leaf in leaves]
    found: dict[int, Any] = {}
    hooked = []

    def recorder(key: int) -> Any:
        def hook(g: Any) -> None:
            found[key] = g._data.copy() if key not in found else found[key] + g._data

        return hook

    for t in ins:
        if t.grad_fn is not None:
            h = recorder(id(t))
            t.grad_fn.hooks = (t.grad_fn.hooks or []) + [h]
            hooked.append((t.grad_fn, h))
    try:
        for leaf in leaves:
            leaf.grad = None
        keep = bool(retain_graph) or len(outs) > 1
        for k, out in enumerate(outs):
            _backward(out, gos[k] if gos else None, retain_graph=keep if k < len(outs) - 1 else bool(retain_graph))
        for t in ins:
            if t.grad_fn is None and t.grad is not None:
                found[id(t)] = t.grad._data
    finally:
        for node, h in hooked:
            node.hooks = [x for x in node.hooks if x is not h] or None
        for leaf, g in kept:
            leaf.grad = g
    result = []
    for i, t in enumerate(ins):
        g = found.get(id(t))
        if g is None:
            if not allow_unused and not materialize_grads:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have been used in "
                                   f"the graph. Set allow_unused=True if this is the desired behavior.")
            result.append(t.new_zeros(tuple(t.shape)) if materialize_grads else None)
        else:
            result.append(Tensor._make(g, False))
    return tuple(result)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: Any = None, create_graph: bool = False,
             inputs: Sequence | None = None) -> None:
    """``t.backward(g)`` for each of ``tensors`` (with ``grad_tensors``), accumulating into the leaves' ``.grad``.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0], requires_grad=True)
    >>> backward([x * 2, x * 3])
    >>> x.grad.tolist()
    [5.0]
    """
    from gradlab.autograd.engine import backward as _backward

    if create_graph:
        raise NotImplementedError("autograd.backward(create_graph=True): gradlab computes first-order gradients only")
    if inputs is not None:
        raise NotImplementedError("autograd.backward(inputs=...) is not supported by gradlab")
    ts, gs = _seq(tensors), _seq(grad_tensors)
    for k, t in enumerate(ts):
        _backward(t, gs[k] if gs else None, retain_graph=bool(retain_graph) or k < len(ts) - 1)
