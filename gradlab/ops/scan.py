"""Ops added for torch coverage: ``log1p``, ``cumsum`` and ``einsum`` (each takes its array module from its inputs)."""
from __future__ import annotations

from typing import Any

from gradlab.autograd.function import Context, Function
from gradlab.backend import get_array_module

__all__ = ["Log1p", "Cumsum", "Einsum", "parse_einsum", "expand_ellipsis"]


class Log1p(Function):
    """``log(1 + x)``, accurate for small ``x``; gradient ``1 / (1 + x)``.

    >>> import gradlab
    >>> x = gradlab.tensor([0.0, 1.0], requires_grad=True)
    >>> Log1p.apply(x).sum().backward()
    >>> x.grad.tolist()
    [1.0, 0.5]
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return get_array_module(x).log1p(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad / (1 + x)


class Cumsum(Function):
    """Cumulative sum along ``dim``; the gradient is the reversed cumulative sum of the incoming gradient.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = Cumsum.apply(x, 0)
    >>> y.tolist()
    [1.0, 3.0, 6.0]
    >>> y.sum().backward()
    >>> x.grad.tolist()
    [3.0, 2.0, 1.0]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int) -> Any:
        xp = get_array_module(x)
        ctx.dim = dim
        return xp.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        d = ctx.dim
        return xp.flip(xp.cumsum(xp.flip(grad, axis=d), axis=d), axis=d), None


def expand_ellipsis(equation: str, shapes: list[tuple]) -> tuple[str, dict]:
    """``equation`` with each ``...`` replaced by letters it does not use, and the size of each of those letters
    after broadcasting (the dims an ellipsis covers align from the right, as torch's and numpy's; size 1 stretches).

    >>> expand_ellipsis("...ij,...jk->...ik", [(5, 2, 3), (3, 4)])
    ('Aij,jk->Aik', {'A': 5})
    >>> expand_ellipsis("b...,b...", [(2, 3, 1), (2, 1, 4)])
    ('bAB,bAB->AB', {'A': 3, 'B': 4})
    """
    eq = equation.replace(" ", "")
    if "..." not in eq:
        return eq, {}
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum(): the equation names {len(ins)} operands but {len(shapes)} were given")
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
    spans = []
    for s, shape in zip(ins, shapes):
        if s.count("...") > 1 or s.replace("...", "").count(".") or (s.count("...") == 0 and "." in s):
            raise ValueError(f"einsum(): operand subscripts {s!r}: at most one ellipsis ('...') per operand")
        spans.append(len(shape) - len(s.replace("...", "")) if "..." in s else 0)
        if spans[-1] < 0:
            raise ValueError(f"einsum(): subscripts {s!r} for an operand with {len(shape)} dimensions")
    n = max(spans)
    if n > len(free):
        raise ValueError("einsum(): too many dimensions under the ellipsis")
    letters = "".join(free[:n])
    sizes = [1] * n
    for s, shape, k in zip(ins, shapes, spans):
        if "..." not in s:
            continue
        at = s.index("...")
        for j, size in enumerate(shape[at:at + k]):
            pos = n - k + j
            if size != 1 and sizes[pos] not in (1, size):
                raise ValueError(f"einsum(): the dimensions under the ellipsis do not broadcast: {size} and "
                                 f"{sizes[pos]}")
            sizes[pos] = max(sizes[pos], size)
    new_ins = [s.replace("...", letters[n - k:]) for s, k in zip(ins, spans)]
    if arrow:
        if out.count("...") > 1:
            raise ValueError("einsum(): at most one ellipsis ('...') in the output")
        new_out = out.replace("...", letters)
    else:
        rest = "".join(new_ins)
        new_out = letters + "".join(sorted(c for c in set(rest) if rest.count(c) == 1 and c not in letters))
    return ",".join(new_ins) + "->" + new_out, dict(zip(letters, sizes))


def parse_einsum(equation: str, n: int) -> tuple[list[str], str]:
    """The operand subscripts and the output subscripts of ``equation`` (implicit output: the letters seen once,
    sorted, as numpy and torch). Ellipses and repeated letters within one operand are refused with ``ValueError``.

    >>> parse_einsum("ij,jk->ik", 2), parse_einsum("ij,jk", 2)
    ((['ij', 'jk'], 'ik'), (['ij', 'jk'], 'ik'))
    """
    eq = equation.replace(" ", "")
    if "." in eq:
        raise ValueError("einsum: ellipsis ('...') is not supported by gradlab")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != n:
        raise ValueError(f"einsum(): the equation names {len(ins)} operands but {n} were given")
    for s in ins:
        if not s.isalpha() or len(set(s)) != len(s):
            raise ValueError(f"einsum: operand subscripts {s!r} must be distinct letters (no traces, no ellipsis)")
    if not arrow:
        letters = "".join(ins)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if not (out.isalpha() or out == "") or len(set(out)) != len(out) or not set(out) <= set("".join(ins)):
        raise ValueError(f"einsum: bad output subscripts {out!r}")
    return ins, out


class Einsum(Function):
    """``einsum`` over tensors whose subscripts are distinct letters; the gradient of each operand is the einsum of
    the output gradient with the other operands, broadcast over letters only that operand has.

    >>> import gradlab
    >>> a, b = gradlab.ones(2, 3, requires_grad=True), gradlab.tensor([1.0, 2.0, 3.0])
    >>> y = Einsum.apply(["ij", "j"], "i", a, b)  # a matrix-vector product
    >>> y.tolist()
    [6.0, 6.0]
    >>> y.sum().backward()
    >>> a.grad.tolist()
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """

    @staticmethod
    def forward(ctx: Context, ins: list, out: str, *arrays: Any) -> Any:
        xp = get_array_module(arrays[0])
        ctx.spec = (ins, out)
        ctx.save_for_backward(*arrays)
        return xp.einsum(",".join(ins) + "->" + out, *arrays)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        ins, out = ctx.spec
        arrays = ctx.saved_tensors
        xp = get_array_module(grad)
        grads: list[Any] = [None, None]
        for i, spec in enumerate(ins):
            if not ctx.needs_input_grad[2 + i]:
                grads.append(None)
                continue
            others = [(s, a) for j, (s, a) in enumerate(zip(ins, arrays)) if j != i]
            present = set(out).union(*(set(s) for s, _ in others))
            kept = "".join(c for c in spec if c in present)
            operands = [grad] + [a for _, a in others]
            g = xp.einsum(",".join([out] + [s for s, _ in others]) + "->" + kept, *operands)
            if kept != spec:  # letters only this operand has: the output does not depend on where along them
                shape = tuple(arrays[i].shape[spec.index(c)] if c not in kept else g.shape[kept.index(c)]
                              for c in spec)
                g = xp.broadcast_to(xp.expand_dims(g, tuple(k for k, c in enumerate(spec) if c not in kept)), shape)
            grads.append(xp.ascontiguousarray(g))
        return tuple(grads)
