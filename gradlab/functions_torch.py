"""Yet more functions in the ``gradlab`` namespace with torch's names: ``is_tensor``, ``numel``, ``meshgrid``,
``hstack``/``vstack``, shape and indexing (``movedim``, ``index_select`` ...), comparisons (``eq``, ``lt`` ...),
logical tests (``isnan``, ``logical_and`` ...) and the seeds; most call the ``Tensor`` method of the same name.
The maths ones (``outer``, ``rsqrt``, ``log_softmax``, ``median`` ...) are in ``gradlab.functions_torch_math``.

>>> import gradlab
>>> xs, ys = gradlab.meshgrid(gradlab.arange(2), gradlab.arange(3), indexing="ij")
>>> xs.shape, gradlab.is_tensor(xs), gradlab.numel(ys), gradlab.hstack([gradlab.ones(1), gradlab.zeros(2)]).tolist()
(gradlab.Size([2, 3]), True, 6, [1.0, 0.0, 0.0])
"""
from __future__ import annotations

from functools import partial
from typing import Any

from gradlab.functions import _t

__all__ = [
    "is_tensor", "is_floating_point", "numel", "meshgrid", "hstack", "vstack", "dstack", "column_stack",
    "tril_indices", "triu_indices", "seed", "initial_seed", "unflatten", "movedim", "swapaxes", "broadcast_to",
    "ravel", "tile", "t", "index_select", "clone", "detach", "fliplr", "flipud", "diagonal", "masked_select",
    "take_along_dim", "index_add", "bernoulli", "bincount", "count_nonzero", "eq", "ne", "lt", "gt", "le", "ge",
    "isclose", "equal", "all", "any", "logical_not", "logical_and", "logical_or", "logical_xor", "isinf", "isnan",
    "isfinite",
]


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a gradlab Tensor (as ``torch.is_tensor``).

    >>> import gradlab
    >>> gradlab.is_tensor(gradlab.ones(2)), gradlab.is_tensor([1.0])
    (True, False)
    """
    from gradlab.tensor import Tensor

    return isinstance(obj, Tensor)


def is_floating_point(input: Any) -> bool:
    """Whether ``input``'s dtype is a floating-point one.

    >>> import gradlab
    >>> gradlab.is_floating_point(gradlab.ones(2)), gradlab.is_floating_point(gradlab.arange(2))
    (True, False)
    """
    return bool(_t(input).is_floating_point())


def numel(input: Any) -> int:
    """The number of elements of ``input``.

    >>> import gradlab
    >>> gradlab.numel(gradlab.zeros(2, 3))
    6
    """
    return int(_t(input).numel())


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors, ``indexing="ij"`` (torch's default) or ``"xy"``; differentiable.

    >>> import gradlab
    >>> xs, ys = gradlab.meshgrid(gradlab.tensor([1, 2]), gradlab.tensor([3, 4, 5]), indexing="ij")
    >>> xs.shape, ys[0]
    (gradlab.Size([2, 3]), tensor([3, 4, 5]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [_t(x).reshape(-1) for x in tensors]
    shape = tuple(int(x.shape[0]) for x in ts)
    n = len(ts)
    grids = [x.reshape((1,) * i + (shape[i],) + (1,) * (n - i - 1)).expand(*shape) for i, x in enumerate(ts)]
    if indexing == "xy" and n >= 2:
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


def hstack(tensors: Any) -> Any:
    """Tensors joined along dim 1 (dim 0 for 1-D ones).

    >>> import gradlab
    >>> gradlab.hstack([gradlab.tensor([1, 2]), gradlab.tensor([3])])
    tensor([1, 2, 3])
    """
    from gradlab.ops.shape import cat

    ts = [_t(x) for x in tensors]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Any) -> Any:
    """Tensors joined along dim 0, 1-D ones taken as rows.

    >>> import gradlab
    >>> gradlab.vstack([gradlab.tensor([1, 2]), gradlab.tensor([3, 4])])
    tensor([[1, 2],
            [3, 4]])
    """
    from gradlab.ops.shape import cat

    return cat([x.reshape(1, -1) if x.ndim == 1 else x for x in (_t(x) for x in tensors)], 0)


def dstack(tensors: Any) -> Any:
    """Tensors joined along dim 2 (1-D and 2-D ones made 3-D first, as numpy's ``dstack``).

    >>> import gradlab
    >>> gradlab.dstack([gradlab.tensor([1, 2]), gradlab.tensor([3, 4])])
    tensor([[[1, 3],
             [2, 4]]])
    """
    from gradlab.ops.shape import cat

    ts = [_t(x) for x in tensors]
    ts = [x.reshape(1, -1, 1) if x.ndim == 1 else (x.unsqueeze(-1) if x.ndim == 2 else x) for x in ts]
    return cat(ts, 2)


def column_stack(tensors: Any) -> Any:
    """Tensors joined as columns (1-D ones as single columns).

    >>> import gradlab
    >>> gradlab.column_stack([gradlab.tensor([1, 2]), gradlab.tensor([3, 4])])
    tensor([[1, 3],
            [2, 4]])
    """
    from gradlab.ops.shape import cat

    return cat([x.reshape(-1, 1) if x.ndim <= 1 else x for x in (_t(x) for x in tensors)], 1)


def isnan(input: Any) -> Any:
    """Where ``input`` is NaN, as a bool Tensor.

    >>> import gradlab
    >>> gradlab.isnan(gradlab.tensor([1.0, float("nan")]))
    tensor([False,  True])
    """
    from gradlab.tensor import Tensor

    x = _t(input)
    return Tensor._make(x._data != x._data, False)


def isfinite(input: Any) -> Any:
    """Where ``input`` is neither infinite nor NaN, as a bool Tensor.

    >>> import gradlab
    >>> gradlab.isfinite(gradlab.tensor([1.0, float("inf"), float("nan")]))
    tensor([ True, False, False])
    """
    import numpy as np

    from gradlab.tensor import Tensor

    return Tensor._make(np.asarray(np.isfinite(_t(input)._data)), False)


def _indices(rows: int, col: int, offset: int, lower: bool) -> Any:
    import numpy as np

    from gradlab.tensor import Tensor

    r, c = (np.tril_indices if lower else np.triu_indices)(rows, offset, col)
    return Tensor._make(np.stack([r, c]).astype(np.int64), False)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Any:
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col`` matrix.

    >>> import gradlab
    >>> gradlab.tril_indices(3, 3)
    tensor([[0, 1, 1, 2, 2, 2],
            [0, 0, 1, 0, 1, 2]])
    """
    return _indices(row, col, offset, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Any:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col`` matrix.

    >>> import gradlab
    >>> gradlab.triu_indices(2, 3, 1)
    tensor([[0, 0, 1],
            [1, 2, 2]])
    """
    return _indices(row, col, offset, False)


def seed() -> int:
    """Seed the default generator from fresh entropy and return the seed.

    >>> import gradlab
    >>> s = gradlab.seed()
    >>> gradlab.initial_seed() == s
    True
    """
    import numpy as np

    from gradlab.backend import manual_seed

    s = int(np.random.default_rng().integers(2**63 - 1))
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed of the default generator (0 before any ``manual_seed`` or ``seed``).

    >>> import gradlab
    >>> _ = gradlab.manual_seed(0)
    >>> gradlab.initial_seed()
    0
    """
    from gradlab.backend import default_generator

    return int(default_generator.initial_seed() or 0)


def _method_function(module: str, name: str, call: str, *output: str) -> Any:
    """The function form of the Tensor method ``name``, its docstring's example ``call`` printing ``output``.

    ``module`` (the caller's ``__name__``) becomes the function's ``__module__``, so that doctest collects its
    example from the module that exports it.
    """
    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_t(input), name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = module
    fn.__doc__ = "\n".join([f"``input.{name}(...)`` as a function, as ``torch.{name}``.", "",
                            ">>> import gradlab", f">>> {call}", *output, ""])
    return fn


_method = partial(_method_function, __name__)


unflatten = _method("unflatten", "gradlab.unflatten(gradlab.zeros(6), 0, (2, 3)).shape", "gradlab.Size([2, 3])")
movedim = _method("movedim", "gradlab.movedim(gradlab.zeros(2, 3, 4), 0, -1).shape", "gradlab.Size([3, 4, 2])")
swapaxes = _method("swapaxes", "gradlab.swapaxes(gradlab.zeros(2, 3), 0, 1).shape", "gradlab.Size([3, 2])")
broadcast_to = _method("broadcast_to", "gradlab.broadcast_to(gradlab.tensor([1, 2]), (2, 2))",
                       "tensor([[1, 2],", "        [1, 2]])")
ravel = _method("ravel", "gradlab.ravel(gradlab.tensor([[1, 2], [3, 4]]))", "tensor([1, 2, 3, 4])")
tile = _method("tile", "gradlab.tile(gradlab.tensor([1, 2]), (2,))", "tensor([1, 2, 1, 2])")
t = _method("t", "gradlab.t(gradlab.tensor([[1, 2]]))", "tensor([[1],", "        [2]])")
index_select = _method("index_select", "gradlab.index_select(gradlab.tensor([[1, 2], [3, 4]]), 0, gradlab.tensor([1]))",
                       "tensor([[3, 4]])")
clone = _method("clone", "gradlab.clone(gradlab.tensor([1.0, 2.0]))", "tensor([1., 2.])")
detach = _method("detach", "gradlab.detach(gradlab.ones(2, requires_grad=True)).requires_grad", "False")
fliplr = _method("fliplr", "gradlab.fliplr(gradlab.tensor([[1, 2], [3, 4]]))", "tensor([[2, 1],", "        [4, 3]])")
flipud = _method("flipud", "gradlab.flipud(gradlab.tensor([[1, 2], [3, 4]]))", "tensor([[3, 4],", "        [1, 2]])")
diagonal = _method("diagonal", "gradlab.diagonal(gradlab.tensor([[1, 2], [3, 4]]))", "tensor([1, 4])")
masked_select = _method("masked_select",
                        "gradlab.masked_select(gradlab.tensor([1, 2, 3]), gradlab.tensor([True, False, True]))",
                        "tensor([1, 3])")
take_along_dim = _method("take_along_dim",
                         "gradlab.take_along_dim(gradlab.tensor([[10, 30, 20]]), gradlab.tensor([[1, 2]]), dim=1)",
                         "tensor([[30, 20]])")
index_add = _method("index_add",
                    "gradlab.index_add(gradlab.zeros(3), 0, gradlab.tensor([0, 0, 2]), gradlab.tensor([1., 2., 3.]))",
                    "tensor([3., 0., 3.])")
bernoulli = _method("bernoulli", "gradlab.bernoulli(gradlab.tensor([0.0, 1.0]))  # probabilities 0 and 1",
                    "tensor([0., 1.])")
bincount = _method("bincount", "gradlab.bincount(gradlab.tensor([0, 2, 2]))", "tensor([1, 0, 2])")
count_nonzero = _method("count_nonzero", "gradlab.count_nonzero(gradlab.tensor([0, 1, 2]))", "tensor(2)")
eq = _method("eq", "gradlab.eq(gradlab.tensor([1, 2]), gradlab.tensor([1, 3]))", "tensor([ True, False])")
ne = _method("ne", "gradlab.ne(gradlab.tensor([1, 2]), gradlab.tensor([1, 3]))", "tensor([False,  True])")
lt = _method("lt", "gradlab.lt(gradlab.tensor([1, 2]), 2)", "tensor([ True, False])")
gt = _method("gt", "gradlab.gt(gradlab.tensor([1, 2]), 1)", "tensor([False,  True])")
le = _method("le", "gradlab.le(gradlab.tensor([1, 2]), 1)", "tensor([ True, False])")
ge = _method("ge", "gradlab.ge(gradlab.tensor([1, 2]), 2)", "tensor([False,  True])")
isclose = _method("isclose", "gradlab.isclose(gradlab.tensor([1.0, 2.0]), gradlab.tensor([1.0, 2.1]))",
                  "tensor([ True, False])")
equal = _method("equal", "gradlab.equal(gradlab.tensor([1, 2]), gradlab.tensor([1, 2]))", "True")
all = _method("all", "gradlab.all(gradlab.tensor([True, False]))", "tensor(False)")
any = _method("any", "gradlab.any(gradlab.tensor([True, False]))", "tensor(True)")
logical_not = _method("logical_not", "gradlab.logical_not(gradlab.tensor([True, False]))", "tensor([False,  True])")
logical_and = _method("logical_and", "gradlab.logical_and(gradlab.tensor([True, True]), gradlab.tensor([True, False]))",
                      "tensor([ True, False])")
logical_or = _method("logical_or", "gradlab.logical_or(gradlab.tensor([True, False]), gradlab.tensor([False, False]))",
                     "tensor([ True, False])")
logical_xor = _method("logical_xor",
                      "gradlab.logical_xor(gradlab.tensor([True, True]), gradlab.tensor([True, False]))",
                      "tensor([False,  True])")
isinf = _method("isinf", "gradlab.isinf(gradlab.tensor([1.0, float('-inf')]))", "tensor([False,  True])")
