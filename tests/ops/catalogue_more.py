"""More op catalogue entries (joined to ``tests.ops.catalogue.CATALOGUE`` by the catalogue tests): the scatter family
(``gradlab/ops/scatter.py``) and the rounding ops (``gradlab/ops/rounding.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.ops.catalogue import OpCase

C = OpCase

_IDX_2x4 = np.array([[0, 2, 1, 2], [2, 2, 0, 1]])  # into 3 rows: repeated targets and untouched positions
_IDX_2x3_DISTINCT = np.array([[0, 2, 1], [2, 0, 0]])  # no position written twice (scatter_ keeps one write)
_IDX_3x2 = np.array([[3, 0], [1, 1], [0, 3]])  # along dim 1 of a (3, 4) tensor


def _i(lib: Any, arr: np.ndarray) -> Any:
    return lib.tensor(arr)


def _reduce_case(reduce: str, include_self: bool, domain: str = "real") -> OpCase:
    return C(
        f"scatter_reduce_{reduce}_{'self' if include_self else 'noself'}",
        "scatter_reduce",
        lambda lib, x, s: x.scatter_reduce(0, _i(lib, _IDX_2x4), s, reduce, include_self=include_self),
        ((3, 4), (2, 4)),
        "distinct" if reduce in ("amax", "amin") else domain,
    )


MORE: list[OpCase] = [
    C("gather_dim0", "gather", lambda lib, x: x.gather(0, _i(lib, _IDX_2x4)), ((3, 4),)),
    C("gather_dim1_function", "gather", lambda lib, x: lib.gather(x, 1, _i(lib, _IDX_3x2)), ((3, 4),)),
    C("gather_3d", "gather", lambda lib, x: x.gather(-1, _i(lib, np.array([[[1, 1, 0]], [[2, 0, 0]]]))),
      ((2, 2, 3),)),
    C("scatter_src", "scatter", lambda lib, x, s: x.scatter(1, _i(lib, np.array([[3, 0], [1, 2], [0, 3]])), s),
      ((3, 4), (3, 2))),
    C("scatter_value", "scatter", lambda lib, x: lib.scatter(x, 0, _i(lib, _IDX_2x4[:1]), 0.5), ((3, 4),)),
    C("scatter_add", "scatter_add", lambda lib, x, s: x.scatter_add(0, _i(lib, _IDX_2x4), s), ((3, 4), (2, 4))),
    C("scatter_add_function_dim1", "scatter_add", lambda lib, x, s: lib.scatter_add(x, 1, _i(lib, _IDX_3x2), s),
      ((3, 4), (3, 2))),
    C("scatter_add_inplace", "scatter_add_", lambda lib, x, s: (x * 1.0).scatter_add_(0, _i(lib, _IDX_2x4), s),
      ((3, 4), (2, 4))),
    C("scatter_inplace", "scatter_", lambda lib, x, s: (x * 1.0).scatter_(0, _i(lib, _IDX_2x3_DISTINCT), s),
      ((3, 4), (2, 3))),
    *[_reduce_case(r, inc) for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    C("einsum_ellipsis_batched", "einsum", lambda lib, a, b: lib.einsum("...ij,...jk->...ik", a, b),
      ((2, 2, 3), (3, 4))),
    C("einsum_ellipsis_broadcast", "einsum", lambda lib, a, b: lib.einsum("b...,b...->b", a, b),
      ((2, 3, 1), (2, 1, 4))),
    C("einsum_ellipsis_implicit", "einsum", lambda lib, a, b: lib.einsum("...i,i", a, b), ((2, 3, 4), (4,))),
    C("tan", "tan", lambda lib, x: lib.tan(x), ((3, 4),), "unit"),
    C("asin", "asin", lambda lib, x: lib.asin(x), ((3, 4),), "unit"),
    C("acos", "acos", lambda lib, x: x.acos(), ((3, 4),), "unit"),
    C("atan", "atan", lambda lib, x: lib.atan(x), ((3, 4),), "wide"),
    C("sinh", "sinh", lambda lib, x: lib.sinh(x), ((3, 4),)),
    C("cosh", "cosh", lambda lib, x: x.cosh(), ((3, 4),)),
    C("erf", "erf", lambda lib, x: lib.erf(x), ((3, 4),)),
    C("expm1", "expm1", lambda lib, x: lib.expm1(x), ((3, 4),)),
    C("log2", "log2", lambda lib, x: lib.log2(x), ((3, 4),), "positive"),
    C("prod_dim", "prod", lambda lib, x: lib.prod(x, 1), ((3, 4),)),
    C("prod_all", "prod", lambda lib, x: x.prod(), ((2, 3),), "positive"),
    C("prod_keepdim_with_zero", "prod", lambda lib, x: (x * _i(lib, np.array([[1.0, 0.0, 1.0]]))).prod(0, True),
      ((2, 3),)),
    C("lerp", "lerp", lambda lib, a, b: lib.lerp(a, b, 0.3), ((3, 4), (3, 4))),
    C("masked_select", "masked_select", lambda lib, x: x.masked_select(_i(lib, _IDX_2x4.astype(bool))),
      ((3, 2, 4),)),
    C("diagonal", "diagonal", lambda lib, x: lib.diagonal(x, 1, 0, 2), ((3, 2, 4),)),
    C("trace", "trace", lambda lib, x: lib.trace(x), ((3, 4),)),
    C("addmm", "addmm", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2.0), ((2, 4), (2, 3), (3, 4))),
    C("take_along_dim", "take_along_dim", lambda lib, x: lib.take_along_dim(x, _i(lib, _IDX_3x2), 1), ((3, 4),)),
    C("index_add", "index_add", lambda lib, x, s: x.index_add(1, _i(lib, np.array([0, 3, 0])), s, alpha=2.0),
      ((3, 4), (3, 3))),
    C("addcmul", "addcmul", lambda lib, x, a, b: lib.addcmul(x, a, b, value=0.5), ((3, 4), (3, 4), (4,))),
    C("addcdiv", "addcdiv", lambda lib, x, a, b: x.addcdiv(a, b, value=-1.5), ((3, 4), (3, 4), (3, 4)),
      ("real", "real", "positive")),
    C("atan2", "atan2", lambda lib, y, x: lib.atan2(y, x), ((3, 4), (3, 4)), avoid=(0.0,)),
    C("atan2_broadcast", "atan2", lambda lib, y, x: y.atan2(x), ((3, 4), (4,)), avoid=(0.0,)),
    C("hypot", "hypot", lambda lib, a, b: lib.hypot(a, b), ((3, 4), (3, 4)), avoid=(0.0,)),
    C("exp2", "exp2", lambda lib, x: lib.exp2(x), ((3, 4),)),
    C("logit", "logit", lambda lib, x: (x.sigmoid() * 0.9).logit(), ((3, 4),)),
    C("xlogy", "xlogy", lambda lib, x, y: lib.xlogy(x, y), ((3, 4), (3, 4)), ("real", "positive")),
    C("cumprod", "cumprod", lambda lib, x: lib.cumprod(x, 1), ((3, 4),)),
    C("cumprod_with_zeros", "cumprod", lambda lib, x: (x * _i(lib, np.array([[1.0, 0.0, 1.0]]))).cumprod(-1),
      ((2, 3),)),
    C("median_dim", "median", lambda lib, x: lib.median(x, 1).values, ((3, 5),), "distinct"),
    C("median_all", "median", lambda lib, x: x.median(), ((3, 4),), "distinct"),
    C("frac", "frac", lambda lib, x: x.frac(), ((3, 4),), "wide", avoid=(-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5)),
    C("remainder", "remainder", lambda lib, x, y: x % (y + 2.0), ((3, 4), (3, 4)), "positive"),
    C("remainder_neg_divisor", "remainder", lambda lib, x: lib.remainder(x, -0.7), ((3, 4),), "wide",
      avoid=tuple(np.round(np.arange(-8, 9) * 0.7, 6))),
    C("fmod", "fmod", lambda lib, x, y: lib.fmod(x * 3.0, y), ((3, 4), (3, 4)), ("real", "positive")),
    C("floor_zero_grad", "floor", lambda lib, x: x.floor() + x, ((3, 4),), "wide", avoid=tuple(range(-6, 7))),
    C("div_floor_zero_grad", "div_rounding", lambda lib, x: lib.div(x, 0.5, rounding_mode="floor") + x * x,
      ((3, 4),), "wide", avoid=tuple(np.arange(-12, 13) * 0.5)),
]
MORE_REQUIRED: tuple[str, ...] = ("gather", "scatter", "scatter_add", "scatter_reduce", "prod", "erf")
