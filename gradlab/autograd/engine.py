"""Reverse-mode differentiation: walk the graph from the output with an iterative topological sort."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.anomaly_mode import _anomaly, check_gradients
from gradlab.autograd.function import Context
from gradlab.tensor import Tensor

__all__ = ["backward", "topological_order"]


def topological_order(root: Any) -> list[Any]:
    """Nodes reachable from ``root``, each after every node that feeds it a gradient (root first).

    Iterative depth-first search, so a chain of any length never meets the recursion limit.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0], requires_grad=True)
    >>> y = (x * 2).exp().sum()
    >>> [node.name for node in topological_order(y.grad_fn)]
    ['SumBackward0', 'ExpBackward0', 'MulBackward0']
    """
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for nxt in node.next:
            if type(nxt) is Context and id(nxt) not in visited:
                stack.append((nxt, False))
    order.reverse()
    return order


def _run_hooks(hooks: list, grad: np.ndarray) -> np.ndarray:
    for hook in hooks:
        res = hook(Tensor._make(grad, False))
        if res is not None:
            grad = res._data if isinstance(res, Tensor) else np.asarray(res)
    return grad


def _accumulate_leaf(leaf: Any, g: np.ndarray, owned: bool) -> None:
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g)
        owned = False
    if g.shape != leaf._data.shape:
        if g.size == leaf._data.size or g.ndim < leaf._data.ndim:
            g = np.broadcast_to(g, leaf._data.shape) if g.size != leaf._data.size else g.reshape(leaf._data.shape)
            owned = False
        else:
            raise RuntimeError(f"gradient of shape {g.shape} does not match the tensor's shape {leaf._data.shape}")
    if g.dtype != leaf._data.dtype:
        g = g.astype(leaf._data.dtype)
        owned = True
    if leaf.grad is None:
        leaf.grad = Tensor._make(g if owned else g.copy(), False)
    else:
        leaf.grad._data += g


def backward(tensor: Any, gradient: Any = None, retain_graph: bool = False) -> None:
    """Compute d(tensor)/d(leaf) for every leaf that requires grad and add it to ``leaf.grad``.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    >>> backward((x * x).sum())
    >>> x.grad
    tensor([2., 4.])
    >>> backward(gradlab.ones(2))
    Traceback (most recent call last):
        ...
    RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn
    """
    if not tensor.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if tensor._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has shape "
                f"{tuple(tensor.shape)}: pass gradient= to backward()"
            )
        g = np.ones_like(tensor._data)
    else:
        g = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if g.shape != tensor._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: gradient has shape {g.shape} and output has shape {tensor._data.shape}"
            )
        g = g.astype(tensor._data.dtype, copy=True)
    root = tensor.grad_fn
    if root is None:  # a leaf
        _accumulate_leaf(tensor, g, True)
        return
    if root.freed:
        _ = root.saved_tensors  # raises the "backward a second time" error
    grads: dict[int, np.ndarray] = {id(root): g}
    leaves: dict[int, list] = {}
    anomaly = _anomaly[0] and _anomaly[1]  # read once: nothing else of anomaly mode runs when it is off
    for node in topological_order(root):
        g = grads.pop(id(node), None)
        if g is None:
            if not retain_graph:
                node.free()
            continue
        if node.freed:
            _ = node.saved_tensors  # raises the "backward a second time" error
        if node.hooks:
            g = _run_hooks(node.hooks, g)
        in_grads = node.fn.backward(node, g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        if anomaly:
            check_gradients(node, in_grads)
        for nxt, gi in zip(node.next, in_grads):
            if nxt is None or gi is None:
                continue
            if type(nxt) is Context:
                k = id(nxt)
                prev = grads.get(k)
                grads[k] = gi if prev is None else prev + gi
            else:
                k = id(nxt)
                entry = leaves.get(k)
                if entry is None:
                    leaves[k] = [nxt, gi, False]
                else:
                    entry[1] = entry[1] + gi
                    entry[2] = True
        if not retain_graph:
            node.free()
    seen: set[int] = set()
    for leaf, g, owned in leaves.values():
        owned = owned or (g.base is None and id(g) not in seen)
        seen.add(id(g))
        _accumulate_leaf(leaf, g, owned)
