"""More functions in the ``gradlab`` namespace with torch's names (``gradlab.einsum``, ``gradlab.topk``, ...): each
one calls the ``Tensor`` method of the same name, except ``einsum`` (an op of its own)."""
from __future__ import annotations

from typing import Any

from gradlab.ops import scan

__all__ = [
    "einsum", "norm", "narrow", "log1p", "log10", "topk", "sort", "argsort", "cumsum", "tril", "triu", "gather",
    "multinomial", "unbind", "repeat_interleave", "roll", "flip", "unique", "bmm", "mm", "pow", "add", "sub", "mul",
    "div", "allclose", "nonzero", "masked_fill", "scatter", "scatter_add", "scatter_reduce", "floor", "ceil",
    "round", "trunc", "frac", "floor_divide", "remainder", "fmod",
]


def _t(x: Any) -> Any:
    from gradlab.tensor import Tensor, as_array

    return x if isinstance(x, Tensor) else Tensor._make(as_array(x), False)


def einsum(equation: str, *operands: Any) -> Any:
    """Einstein summation, as ``torch.einsum`` (operands as arguments or one list; ellipses broadcast; no traces).

    >>> import gradlab
    >>> a, b = gradlab.ones(2, 3), gradlab.ones(5, 3, 4)
    >>> gradlab.einsum("...ij,...jk->...ik", a, b).shape, gradlab.einsum("ij->", a).item()
    (gradlab.Size([5, 2, 4]), 6.0)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = [_t(o) for o in operands]
    if "." in equation:
        equation, letters = scan.expand_ellipsis(equation, [tuple(t.shape) for t in ts])
        ins = equation.partition("->")[0].split(",")
        for i, (s, t) in enumerate(zip(ins, ts)):  # stretch size-1 ellipsis dims to the broadcast size
            want = tuple(letters.get(c, n) for c, n in zip(s, t.shape))
            if want != tuple(t.shape):
                ts[i] = t.expand(*want)
    ins, out = scan.parse_einsum(equation, len(ts))
    for s, t in zip(ins, ts):
        if len(s) != t.ndim:
            raise ValueError(f"einsum(): subscripts {s!r} for an operand with {t.ndim} dimensions")
    return scan.Einsum.apply(ins, out, *ts)


def _doc(name: str, example: str) -> str:
    return f"``input.{name}(...)`` as a function, as ``torch.{name}``.\n\n    >>> import gradlab\n    >>> {example}\n"


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Any:
    return _t(input).norm(p, dim, keepdim)


def narrow(input: Any, dim: int, start: int, length: int) -> Any:
    return _t(input).narrow(dim, start, length)


def log1p(input: Any) -> Any:
    return _t(input).log1p()


def log10(input: Any) -> Any:
    return _t(input).log10()


def topk(input: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    return _t(input).topk(k, dim, largest, sorted)


def sort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    return _t(input).sort(dim, descending, stable)


def argsort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    return _t(input).argsort(dim, descending, stable)


def cumsum(input: Any, dim: int, dtype: Any = None) -> Any:
    return _t(input).cumsum(dim, dtype)


def tril(input: Any, diagonal: int = 0) -> Any:
    return _t(input).tril(diagonal)


def triu(input: Any, diagonal: int = 0) -> Any:
    return _t(input).triu(diagonal)


def gather(input: Any, dim: int, index: Any) -> Any:
    return _t(input).gather(dim, index)


def multinomial(input: Any, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Any:
    return _t(input).multinomial(num_samples, replacement, generator=generator)


def unbind(input: Any, dim: int = 0) -> tuple:
    return _t(input).unbind(dim)


def repeat_interleave(input: Any, repeats: Any, dim: Any = None) -> Any:
    return _t(input).repeat_interleave(repeats, dim)


def roll(input: Any, shifts: Any, dims: Any = None) -> Any:
    return _t(input).roll(shifts, dims)


def flip(input: Any, dims: Any) -> Any:
    return _t(input).flip(dims)


def unique(input: Any, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim: Any = None) -> Any:
    return _t(input).unique(sorted, return_inverse, return_counts, dim)


def bmm(input: Any, mat2: Any) -> Any:
    return _t(input).bmm(mat2)


def mm(input: Any, mat2: Any, *, out: Any = None) -> Any:
    return _into(_t(input).mm(mat2), out)


def pow(input: Any, exponent: Any) -> Any:  # noqa: A001
    return _t(input).pow(exponent)


def _into(result: Any, out: Any) -> Any:
    """``result`` written into ``out`` (torch's ``out=``: resized to the result's shape, kept in its dtype)."""
    if out is None:
        return result
    from gradlab.autograd.grad_mode import is_grad_enabled

    if result.requires_grad and is_grad_enabled():
        raise RuntimeError("functions with out=... arguments don't support automatic differentiation, but one of "
                           "the arguments requires grad")
    if tuple(out.shape) == tuple(result.shape):
        out._data[...] = result._data
    else:
        out._data = result._data.astype(out._data.dtype)
    out._vc[0] += 1
    return out


def add(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Any:
    return _into(_t(input).add(other, alpha=alpha), out)


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Any:
    return _into(_t(input).sub(other, alpha=alpha), out)


def mul(input: Any, other: Any, *, out: Any = None) -> Any:
    return _into(_t(input).mul(other), out)


def div(input: Any, other: Any, *, rounding_mode: Any = None, out: Any = None) -> Any:
    return _into(_t(input).div(other, rounding_mode=rounding_mode), out)


def scatter(input: Any, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: Any = None) -> Any:
    return _t(input).scatter(dim, index, src, value, reduce=reduce)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Any:
    return _t(input).scatter_add(dim, index, src)


def scatter_reduce(input: Any, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = True) -> Any:
    return _t(input).scatter_reduce(dim, index, src, reduce, include_self=include_self)


def floor(input: Any) -> Any:
    return _t(input).floor()


def ceil(input: Any) -> Any:
    return _t(input).ceil()


def round(input: Any, *, decimals: int = 0) -> Any:  # noqa: A001
    return _t(input).round(decimals)


def trunc(input: Any) -> Any:
    return _t(input).trunc()


def frac(input: Any) -> Any:
    return _t(input).frac()


def floor_divide(input: Any, other: Any) -> Any:
    return _t(input).floor_divide(other)


def remainder(input: Any, other: Any) -> Any:
    if not hasattr(input, "_data") and hasattr(other, "_data"):
        return other.__rmod__(input)
    return _t(input).remainder(other)


def fmod(input: Any, other: Any) -> Any:
    return _t(input).fmod(other)


def allclose(input: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return _t(input).allclose(other, rtol, atol, equal_nan)


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:
    return _t(input).nonzero(as_tuple)


def masked_fill(input: Any, mask: Any, value: Any) -> Any:
    return _t(input).masked_fill(mask, value)


_EXAMPLES = {
    "norm": "gradlab.norm(gradlab.tensor([3.0, 4.0])).item()\n    5.0",
    "narrow": "gradlab.narrow(gradlab.arange(4), 0, 1, 2).tolist()\n    [1, 2]",
    "log1p": "gradlab.log1p(gradlab.tensor([0.0])).tolist()\n    [0.0]",
    "log10": "gradlab.log10(gradlab.tensor([100.0])).tolist()\n    [2.0]",
    "topk": "gradlab.topk(gradlab.tensor([1.0, 3.0, 2.0]), 2).indices.tolist()\n    [1, 2]",
    "sort": "gradlab.sort(gradlab.tensor([2, 1])).values.tolist()\n    [1, 2]",
    "argsort": "gradlab.argsort(gradlab.tensor([2, 1, 3])).tolist()\n    [1, 0, 2]",
    "cumsum": "gradlab.cumsum(gradlab.tensor([1, 2, 3]), 0).tolist()\n    [1, 3, 6]",
    "tril": "gradlab.tril(gradlab.ones(2, 2)).tolist()\n    [[1.0, 0.0], [1.0, 1.0]]",
    "triu": "gradlab.triu(gradlab.ones(2, 2)).tolist()\n    [[1.0, 1.0], [0.0, 1.0]]",
    "gather": "gradlab.gather(gradlab.tensor([[1, 2]]), 1, gradlab.tensor([[1, 0]])).tolist()\n    [[2, 1]]",
    "multinomial": "gradlab.multinomial(gradlab.tensor([0.0, 1.0]), 1).tolist()\n    [1]",
    "unbind": "[t.tolist() for t in gradlab.unbind(gradlab.tensor([[1, 2], [3, 4]]))]\n    [[1, 2], [3, 4]]",
    "repeat_interleave": "gradlab.repeat_interleave(gradlab.tensor([1, 2]), 2).tolist()\n    [1, 1, 2, 2]",
    "roll": "gradlab.roll(gradlab.tensor([1, 2, 3]), 1).tolist()\n    [3, 1, 2]",
    "flip": "gradlab.flip(gradlab.tensor([1, 2, 3]), [0]).tolist()\n    [3, 2, 1]",
    "unique": "gradlab.unique(gradlab.tensor([2, 1, 2])).tolist()\n    [1, 2]",
    "bmm": "gradlab.bmm(gradlab.ones(2, 1, 3), gradlab.ones(2, 3, 1)).shape\n    gradlab.Size([2, 1, 1])",
    "mm": "gradlab.mm(gradlab.ones(1, 2), gradlab.ones(2, 1)).tolist()\n    [[2.0]]",
    "pow": "gradlab.pow(gradlab.tensor([2.0]), 3).tolist()\n    [8.0]",
    "add": "gradlab.add(gradlab.tensor([1.0]), gradlab.tensor([2.0]), alpha=10).tolist()\n    [21.0]",
    "sub": "gradlab.sub(gradlab.tensor([1.0]), gradlab.tensor([2.0]), alpha=2).tolist()\n    [-3.0]",
    "mul": "gradlab.mul(gradlab.tensor([2.0]), 3).tolist()\n    [6.0]",
    "div": "gradlab.div(gradlab.tensor([-3.0]), 2, rounding_mode='floor').tolist()\n    [-2.0]",
    "scatter": "gradlab.scatter(gradlab.zeros(3), 0, gradlab.tensor([1]), 2.0).tolist()\n    [0.0, 2.0, 0.0]",
    "scatter_add": "gradlab.scatter_add(gradlab.zeros(2), 0, gradlab.tensor([1, 1]), gradlab.ones(2)).tolist()\n"
                   "    [0.0, 2.0]",
    "scatter_reduce": "gradlab.scatter_reduce(gradlab.zeros(2), 0, gradlab.tensor([0, 0]), gradlab.tensor([1.0, 3.0]), "
                      "'amax', include_self=False).tolist()\n    [3.0, 0.0]",
    "floor": "gradlab.floor(gradlab.tensor([-0.5])).tolist()\n    [-1.0]",
    "ceil": "gradlab.ceil(gradlab.tensor([-0.5])).tolist()\n    [-0.0]",
    "round": "gradlab.round(gradlab.tensor([2.5, -1.5, 0.5])).tolist()\n    [2.0, -2.0, 0.0]",
    "trunc": "gradlab.trunc(gradlab.tensor([-1.5])).tolist()\n    [-1.0]",
    "frac": "gradlab.frac(gradlab.tensor([-1.5])).tolist()\n    [-0.5]",
    "floor_divide": "gradlab.floor_divide(gradlab.tensor([-7]), 2).tolist()\n    [-4]",
    "remainder": "gradlab.remainder(gradlab.tensor([-7]), 3).tolist()\n    [2]",
    "fmod": "gradlab.fmod(gradlab.tensor([-7]), 3).tolist()\n    [-1]",
    "allclose": "gradlab.allclose(gradlab.tensor([1.0]), gradlab.tensor([1.0 + 1e-9]))\n    True",
    "nonzero": "gradlab.nonzero(gradlab.tensor([0, 5, 7])).tolist()\n    [[1], [2]]",
    "masked_fill": "gradlab.masked_fill(gradlab.zeros(2), gradlab.tensor([True, False]), 1.0).tolist()\n    [1.0, 0.0]",
}
for _name, _example in _EXAMPLES.items():
    globals()[_name].__doc__ = _doc(_name, _example)
del _name, _example
