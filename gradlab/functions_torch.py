"""Yet more functions in the ``gradlab`` namespace with torch's names: ``is_tensor``, ``numel``, ``meshgrid``,
``hstack``/``vstack``, ``outer``/``dot``/``diag``, comparisons (``eq``, ``lt`` ...), ``log_softmax``, ``sign`` and
the other one-tensor functions that call the ``Tensor`` method of the same name.

>>> import gradlab
>>> xs, ys = gradlab.meshgrid(gradlab.arange(2), gradlab.arange(3), indexing="ij")
>>> xs.shape, gradlab.is_tensor(xs), gradlab.numel(ys), gradlab.hstack([gradlab.ones(1), gradlab.zeros(2)]).tolist()
(gradlab.Size([2, 3]), True, 6, [1.0, 0.0, 0.0])
"""
from __future__ import annotations

from typing import Any

__all__ = [
    "is_tensor", "is_floating_point", "numel", "meshgrid", "hstack", "vstack", "outer", "dot", "diag", "rsqrt",
    "reciprocal", "expm1", "log2", "square", "clamp_min", "clamp_max", "clip", "logical_not", "logical_and",
    "logical_or", "isinf", "isnan", "isfinite", "unflatten", "movedim", "swapaxes", "broadcast_to", "ravel", "tile",
    "sign", "log_softmax", "eq", "ne", "lt", "gt", "le", "ge", "all", "any", "amax", "amin", "t", "index_select",
    "clone", "detach", "tan", "asin", "acos", "atan", "sinh", "cosh", "erf", "prod", "lerp", "masked_select",
    "diagonal", "trace", "addmm", "bernoulli", "bincount", "count_nonzero", "isclose", "equal", "take_along_dim",
    "index_add", "addcmul", "addcdiv", "atan2", "hypot", "exp2", "logit", "xlogy", "cumprod", "median",
    "nan_to_num", "logical_xor", "sgn", "fliplr", "flipud", "tril_indices", "triu_indices", "dstack",
    "column_stack", "std_mean", "var_mean", "seed", "initial_seed",
]


def _t(x: Any) -> Any:
    from gradlab.tensor import Tensor, as_array

    return x if isinstance(x, Tensor) else Tensor._make(as_array(x), False)


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a gradlab Tensor (as ``torch.is_tensor``)."""
    from gradlab.tensor import Tensor

    return isinstance(obj, Tensor)


def is_floating_point(input: Any) -> bool:
    return bool(_t(input).is_floating_point())


def numel(input: Any) -> int:
    """The number of elements of ``input``."""
    return int(_t(input).numel())


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors, ``indexing="ij"`` (torch's default) or ``"xy"``; differentiable."""
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
    """Tensors joined along dim 1 (dim 0 for 1-D ones)."""
    from gradlab.ops.shape import cat

    ts = [_t(x) for x in tensors]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Any) -> Any:
    """Tensors joined along dim 0, 1-D ones taken as rows."""
    from gradlab.ops.shape import cat

    return cat([x.reshape(1, -1) if x.ndim == 1 else x for x in (_t(x) for x in tensors)], 0)


def clip(input: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    return _t(input).clamp(min, max)


def isnan(input: Any) -> Any:
    from gradlab.tensor import Tensor

    x = _t(input)
    return Tensor._make(x._data != x._data, False)


def isfinite(input: Any) -> Any:
    import numpy as np

    from gradlab.tensor import Tensor

    return Tensor._make(np.asarray(np.isfinite(_t(input)._data)), False)


def log_softmax(input: Any, dim: int, dtype: Any = None) -> Any:
    x = _t(input)
    return (x if dtype is None else x.to(dtype)).log_softmax(dim)


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
    """``beta * input + alpha * (mat1 @ mat2)``."""
    product = _t(mat1) @ mat2
    return (_t(input) * beta if beta != 1 else _t(input)) + (product * alpha if alpha != 1 else product)


def _indices(rows: int, col: int, offset: int, lower: bool) -> Any:
    import numpy as np

    from gradlab.tensor import Tensor

    r, c = (np.tril_indices if lower else np.triu_indices)(rows, offset, col)
    return Tensor._make(np.stack([r, c]).astype(np.int64), False)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Any:
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col`` matrix."""
    return _indices(row, col, offset, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Any:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col`` matrix."""
    return _indices(row, col, offset, False)


def dstack(tensors: Any) -> Any:
    """Tensors joined along dim 2 (1-D and 2-D ones made 3-D first, as numpy's ``dstack``)."""
    from gradlab.ops.shape import cat

    ts = [_t(x) for x in tensors]
    ts = [x.reshape(1, -1, 1) if x.ndim == 1 else (x.unsqueeze(-1) if x.ndim == 2 else x) for x in ts]
    return cat(ts, 2)


def column_stack(tensors: Any) -> Any:
    """Tensors joined as columns (1-D ones as single columns)."""
    from gradlab.ops.shape import cat

    return cat([x.reshape(-1, 1) if x.ndim <= 1 else x for x in (_t(x) for x in tensors)], 1)


def std_mean(input: Any, dim: Any = None, *, correction: Any = 1, keepdim: bool = False) -> tuple:
    """``(std, mean)`` over ``dim``."""
    x = _t(input)
    return x.std(dim, correction=correction, keepdim=keepdim), x.mean(dim, keepdim=keepdim)


def var_mean(input: Any, dim: Any = None, *, correction: Any = 1, keepdim: bool = False) -> tuple:
    """``(var, mean)`` over ``dim``."""
    x = _t(input)
    return x.var(dim, correction=correction, keepdim=keepdim), x.mean(dim, keepdim=keepdim)


def seed() -> int:
    """Seed the default generator from fresh entropy and return the seed."""
    import numpy as np

    from gradlab.backend import manual_seed

    s = int(np.random.default_rng().integers(2**63 - 1))
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed of the default generator (0 before any ``manual_seed`` or ``seed``)."""
    from gradlab.backend import default_generator

    return int(default_generator.initial_seed() or 0)


def _method(name: str) -> Any:  # noqa: D401  (the function forms of Tensor methods)
    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_t(input), name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``input.{name}(...)`` as a function, as ``torch.{name}``."
    return fn


outer = _method("outer")
dot = _method("dot")
diag = _method("diag")
rsqrt = _method("rsqrt")
reciprocal = _method("reciprocal")
expm1 = _method("expm1")
log2 = _method("log2")
square = _method("square")
clamp_min = _method("clamp_min")
clamp_max = _method("clamp_max")
logical_not = _method("logical_not")
logical_and = _method("logical_and")
logical_or = _method("logical_or")
isinf = _method("isinf")
unflatten = _method("unflatten")
movedim = _method("movedim")
swapaxes = _method("swapaxes")
broadcast_to = _method("broadcast_to")
ravel = _method("ravel")
tile = _method("tile")
sign = _method("sign")
eq = _method("eq")
ne = _method("ne")
lt = _method("lt")
gt = _method("gt")
le = _method("le")
ge = _method("ge")
all = _method("all")
any = _method("any")
amax = _method("amax")
amin = _method("amin")
t = _method("t")
index_select = _method("index_select")
clone = _method("clone")
detach = _method("detach")
tan = _method("tan")
asin = _method("asin")
acos = _method("acos")
atan = _method("atan")
sinh = _method("sinh")
cosh = _method("cosh")
erf = _method("erf")
prod = _method("prod")
lerp = _method("lerp")
masked_select = _method("masked_select")
diagonal = _method("diagonal")
trace = _method("trace")
bernoulli = _method("bernoulli")
bincount = _method("bincount")
count_nonzero = _method("count_nonzero")
isclose = _method("isclose")
equal = _method("equal")
take_along_dim = _method("take_along_dim")
index_add = _method("index_add")
addcmul = _method("addcmul")
addcdiv = _method("addcdiv")
atan2 = _method("atan2")
hypot = _method("hypot")
exp2 = _method("exp2")
logit = _method("logit")
xlogy = _method("xlogy")
cumprod = _method("cumprod")
median = _method("median")
nan_to_num = _method("nan_to_num")
logical_xor = _method("logical_xor")
sgn = _method("sgn")
fliplr = _method("fliplr")
flipud = _method("flipud")
