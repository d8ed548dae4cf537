"""The op catalogue: one table listing every differentiable op.

Each entry holds a single callable ``fn(lib, *tensors)`` where ``lib`` is either the ``gradlab`` or the ``torch``
module: gradlab mirrors torch's API, so the same callable runs on both and the results can be compared.

A new op is not done until it is in this table (``tests/ops/test_catalogue.py`` checks that every name in
``REQUIRED_OPS`` is covered, gradchecks every entry in float64 and compares every entry with torch).

Fields of an :class:`OpCase`:

- ``name``: unique id of the case (used as the pytest id).
- ``op``: the op this case covers (the names in ``REQUIRED_OPS``); several cases may cover one op.
- ``fn``: ``fn(lib, *tensors) -> tensor``.
- ``shapes``: one shape per tensor input.
- ``domain``: how input values are drawn, one of ``DOMAINS`` (for all inputs) or a tuple with one per input.
- ``avoid``: points (kinks, thresholds) that input values are kept at least ``0.1`` away from.
- ``dtypes``: the floating dtypes the case is compared with torch in (gradcheck always uses float64).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Shape = tuple[int, ...]

DOMAINS = ("real", "positive", "wide", "distinct", "unit")


@dataclass(frozen=True)
class OpCase:
    name: str
    op: str
    fn: Callable[..., Any]
    shapes: tuple[Shape, ...]
    domain: str | tuple[str, ...] = "real"
    avoid: tuple[float, ...] = ()
    dtypes: tuple[str, ...] = ("float32", "float64")

    def domains(self) -> tuple[str, ...]:
        if isinstance(self.domain, str):
            return (self.domain,) * len(self.shapes)
        assert len(self.domain) == len(self.shapes), self.name
        return self.domain


def make_array(rng: np.random.Generator, shape: Shape, domain: str, avoid: Sequence[float] = ()) -> np.ndarray:
    """A float64 array of ``shape`` with values from ``domain``, kept 0.1 away from each point of ``avoid``."""
    n = int(np.prod(shape, dtype=np.int64))
    if domain == "real":
        a = rng.standard_normal(n)
    elif domain == "positive":
        a = rng.uniform(0.5, 2.0, n)
    elif domain == "wide":
        a = rng.uniform(-6.0, 6.0, n)
    elif domain == "unit":
        a = rng.uniform(-0.9, 0.9, n)
    elif domain == "distinct":
        # all values pairwise >= 0.2 apart: no ties for max/min, whatever the dim
        a = (rng.permutation(n) - (n - 1) / 2.0) * 0.25 + rng.uniform(-0.02, 0.02, n)
    else:
        raise ValueError(f"unknown domain {domain!r}")
    for p in avoid:
        d = a - p
        a = np.where(np.abs(d) < 0.1, p + np.where(d >= 0, 1.0, -1.0) * (0.1 + np.abs(d)), a)
    return a.reshape(shape)


def make_inputs(case: OpCase, rng: np.random.Generator) -> list[np.ndarray]:
    return [make_array(rng, s, d, case.avoid) for s, d in zip(case.shapes, case.domains())]


def _const(lib: Any, like: Any, values: Any) -> Any:
    """A constant shaped like ``values`` with ``like``'s dtype: a numpy array for gradlab, a tensor for torch.

    gradlab must accept raw numpy arrays as operands (including reflected: ``arr * x``); torch refuses
    ``ndarray * tensor`` when the tensor requires grad, so torch gets a tensor built from the same numbers.
    """
    if lib.__name__ == "torch":
        return lib.tensor(values, dtype=like.dtype)
    return np.asarray(values, dtype=like.dtype)


def _split_parts(lib: Any, x: Any) -> Any:
    a, b = lib.split(x, [1, 3], dim=1)
    return a * 2.0 + b.sum(dim=1, keepdim=True)


def _chunk_mul(lib: Any, x: Any) -> Any:
    a, b = x.chunk(2, dim=0)
    return a * b


C = OpCase
R = "real"
P = "positive"
D = "distinct"

CATALOGUE: list[OpCase] = [
    # ---- arithmetic -------------------------------------------------------------------------------------------
    C("add", "add", lambda lib, x, y: x + y, ((3, 4), (3, 4))),
    C("add_broadcast_col_row", "add", lambda lib, x, y: x + y, ((3, 1), (1, 4))),
    C("add_broadcast_3d_1d", "add", lambda lib, x, y: x + y, ((2, 3, 4), (4,))),
    C("add_broadcast_scalar_tensor", "add", lambda lib, x, y: x + y, ((), (3,))),
    C("add_python_scalar", "add", lambda lib, x: x + 2.5, ((3, 4),)),
    C("radd_python_scalar", "radd", lambda lib, x: 2.5 + x, ((3, 4),)),
    C("add_method", "add", lambda lib, x, y: x.add(y), ((2, 3), (3,))),
    C("sub", "sub", lambda lib, x, y: x - y, ((3, 4), (3, 4))),
    C("sub_broadcast", "sub", lambda lib, x, y: x - y, ((3, 1), (1, 4))),
    C("rsub_python_scalar", "rsub", lambda lib, x: 2 - x, ((3, 4),)),
    C("mul", "mul", lambda lib, x, y: x * y, ((3, 4), (3, 4))),
    C("mul_broadcast", "mul", lambda lib, x, y: x * y, ((2, 3, 4), (3, 1))),
    C("mul_scalar_tensor", "mul", lambda lib, x, y: x * y, ((2, 3), ())),
    C("rmul_python_scalar", "rmul", lambda lib, x: 3.0 * x, ((3, 4),)),
    C("rmul_numpy_array", "rmul_numpy", lambda lib, x: _const(lib, x, [[1.5], [-2.0], [0.5]]) * x, ((3, 4),)),
    C("mul_numpy_array", "mul_numpy", lambda lib, x: x * _const(lib, x, [1.0, -1.0, 2.0, 0.5]), ((3, 4),)),
    C("radd_numpy_array", "radd_numpy", lambda lib, x: _const(lib, x, [1.0, 2.0, 3.0, 4.0]) + x, ((3, 4),)),
    C("div", "div", lambda lib, x, y: x / y, ((3, 4), (3, 4)), (R, P)),
    C("div_broadcast", "div", lambda lib, x, y: x / y, ((4,), (3, 1)), (R, P)),
    C("div_negative_denominator", "div", lambda lib, x, y: x / (-y), ((3, 4), (4,)), (R, P)),
    C("rdiv_python_scalar", "rdiv", lambda lib, x: 2 / x, ((3, 4),), P),
    C("div_python_scalar", "div", lambda lib, x: x / 4.0, ((3, 4),)),
    C("neg", "neg", lambda lib, x: -x, ((3, 4),)),
    C("neg_method", "neg", lambda lib, x: x.neg(), ((3, 4),)),
    C("pow_scalar_int", "pow", lambda lib, x: x**2, ((3, 4),)),
    C("pow_scalar_int3_negative_base", "pow", lambda lib, x: x**3, ((3, 4),)),
    C("pow_scalar_float", "pow", lambda lib, x: x**0.5, ((3, 4),), P),
    C("pow_scalar_negative_float", "pow", lambda lib, x: x**-1.5, ((3, 4),), P),
    C("pow_method", "pow", lambda lib, x: x.pow(3.0), ((2, 3),), P),
    C("pow_tensor_tensor", "pow", lambda lib, x, y: x**y, ((3, 4), (3, 4)), (P, R)),
    C("pow_tensor_tensor_broadcast", "pow", lambda lib, x, y: x**y, ((3, 1), (4,)), (P, R)),
    C("rpow_python_scalar", "rpow", lambda lib, x: 2.0**x, ((3, 4),)),
    # ---- matmul -----------------------------------------------------------------------------------------------
    C("matmul_1d_1d", "matmul", lambda lib, x, y: x @ y, ((4,), (4,))),
    C("matmul_2d", "matmul", lambda lib, x, y: x @ y, ((3, 4), (4, 5))),
    C("matmul_matrix_vector", "matmul", lambda lib, x, y: x @ y, ((3, 4), (4,))),
    C("matmul_vector_matrix", "matmul", lambda lib, x, y: x @ y, ((3,), (3, 4))),
    C("matmul_batched", "matmul", lambda lib, x, y: x @ y, ((2, 3, 4), (2, 4, 2))),
    C("matmul_batched_broadcast_2d", "matmul", lambda lib, x, y: x @ y, ((2, 3, 4), (4, 2))),
    C("matmul_batched_broadcast_batch", "matmul", lambda lib, x, y: x @ y, ((2, 1, 3, 4), (3, 4, 2))),
    C("matmul_batched_vector", "matmul", lambda lib, x, y: x @ y, ((2, 3, 4), (4,))),
    C("matmul_vector_batched", "matmul", lambda lib, x, y: x @ y, ((3,), (2, 3, 4))),
    C("matmul_function", "matmul", lambda lib, x, y: lib.matmul(x, y), ((2, 3), (3, 2))),
    # ---- indexing ---------------------------------------------------------------------------------------------
    C("index_slice", "getitem", lambda lib, x: x[1:3], ((4, 5),)),
    C("index_slice_past_end", "getitem", lambda lib, x: x[2:100], ((4, 5),)),
    C("index_slice_step", "getitem", lambda lib, x: x[:, ::2], ((4, 5),)),
    C("index_slice_negative_bounds", "getitem", lambda lib, x: x[-3:-1, 1:], ((4, 5),)),
    C("index_int", "getitem", lambda lib, x: x[-1], ((4, 5),)),
    C("index_int_int", "getitem", lambda lib, x: x[1, 2], ((4, 5),)),
    C("index_int_array", "getitem", lambda lib, x: x[:, [0, 2]], ((4, 5),)),
    C("index_int_array_repeats", "getitem", lambda lib, x: x[[0, 2, 0, 0]], ((4, 5),)),
    C("index_int_arrays_pairs_repeats", "getitem", lambda lib, x: x[[0, 1, 0], [2, 2, 2]], ((4, 5),)),
    C("index_bool_mask", "getitem", lambda lib, x: x[x > 0], ((4, 5),), avoid=(0.0,)),
    C("index_bool_mask_rows", "getitem", lambda lib, x: x[x.sum(dim=1) > 0], ((4, 5),), avoid=(0.0,)),
    C("index_none", "getitem", lambda lib, x: x[None, :, 1], ((4, 5),)),
    C("index_ellipsis", "getitem", lambda lib, x: x[..., 1], ((2, 3, 4),)),
    C("index_ellipsis_none", "getitem", lambda lib, x: x[..., None, 1:3], ((2, 3, 4),)),
    # ---- shape --------------------------------------------------------------------------------------------------
    C("reshape", "reshape", lambda lib, x: x.reshape(2, 6), ((3, 4),)),
    C("reshape_minus_one", "reshape", lambda lib, x: x.reshape(-1, 2) * 2.0, ((3, 4),)),
    C("reshape_tuple", "reshape", lambda lib, x: x.reshape((4, 3)), ((3, 4),)),
    C("view", "view", lambda lib, x: x.view(4, 3), ((3, 4),)),
    C("view_minus_one", "view", lambda lib, x: x.view(-1), ((2, 3, 2),)),
    C("transpose", "transpose", lambda lib, x: x.transpose(0, 1), ((3, 4),)),
    C("transpose_3d", "transpose", lambda lib, x: x.transpose(-1, 0), ((2, 3, 4),)),
    C("T", "T", lambda lib, x: x.T, ((3, 4),)),
    C("permute", "permute", lambda lib, x: x.permute(2, 0, 1), ((2, 3, 4),)),
    C("unsqueeze", "unsqueeze", lambda lib, x: x.unsqueeze(1), ((3, 4),)),
    C("unsqueeze_negative", "unsqueeze", lambda lib, x: x.unsqueeze(-1), ((3, 4),)),
    C("squeeze_all", "squeeze", lambda lib, x: x.squeeze(), ((3, 1, 4, 1),)),
    C("squeeze_dim", "squeeze", lambda lib, x: x.squeeze(1), ((3, 1, 4),)),
    C("flatten", "flatten", lambda lib, x: x.flatten(), ((2, 3, 4),)),
    C("flatten_start_dim", "flatten", lambda lib, x: x.flatten(1), ((2, 3, 4),)),
    C("expand", "expand", lambda lib, x: x.expand(3, 4), ((3, 1),)),
    C("expand_new_dim", "expand", lambda lib, x: x.expand(2, 3, 4), ((3, 1),)),
    C("expand_minus_one", "expand", lambda lib, x: x.expand(-1, 5), ((4, 1),)),
    C("cat", "cat", lambda lib, x: lib.cat([x, x * 2.0], dim=0), ((2, 3),)),
    C("cat_two_inputs_dim1", "cat", lambda lib, x, y: lib.cat([x, y], dim=1), ((2, 3), (2, 2))),
    C("cat_negative_dim", "cat", lambda lib, x, y: lib.cat([x, y, x], dim=-1), ((2, 1, 3), (2, 1, 2))),
    C("stack", "stack", lambda lib, x, y: lib.stack([x, y], dim=0), ((2, 3), (2, 3))),
    C("stack_dim1", "stack", lambda lib, x, y: lib.stack([x, y, x], dim=1), ((2, 3), (2, 3))),
    C("split_one_part", "split", lambda lib, x: x.split(2, dim=1)[1], ((3, 5),)),
    C("split_sizes", "split", _split_parts, ((3, 4),)),
    C("chunk", "chunk", _chunk_mul, ((4, 3),)),
    C("chunk_function", "chunk", lambda lib, x: lib.chunk(x, 3, dim=1)[2], ((2, 5),)),
    C("pad_last_dim", "pad", lambda lib, x: lib.nn.functional.pad(x, (1, 2)), ((2, 3),)),
    C("pad_two_dims_value", "pad", lambda lib, x: lib.nn.functional.pad(x, (1, 0, 2, 1), value=0.5), ((2, 3),)),
    C("pad_constant_mode", "pad", lambda lib, x: lib.nn.functional.pad(x, (0, 1), mode="constant"), ((2, 2, 3),)),
    # ---- selection / clamping ---------------------------------------------------------------------------------
    C("where", "where", lambda lib, x, y: lib.where(x > 0, x, y), ((3, 4), (3, 4)), avoid=(0.0,)),
    C("where_broadcast", "where", lambda lib, x, y: lib.where(x > 0, x, y), ((3, 4), (4,)), avoid=(0.0,)),
    C("where_scalar_other", "where", lambda lib, x: lib.where(x > 0, x, 0.0), ((3, 4),), avoid=(0.0,)),
    C("maximum", "maximum", lambda lib, x, y: lib.maximum(x, y), ((3, 4), (3, 4)), D),
    C("maximum_broadcast", "maximum", lambda lib, x, y: lib.maximum(x, y), ((3, 4), (4,)), D),
    C("minimum", "minimum", lambda lib, x, y: lib.minimum(x, y), ((3, 4), (3, 4)), D),
    C("minimum_broadcast", "minimum", lambda lib, x, y: lib.minimum(x, y), ((3, 1), (1, 4)), D),
    C("clamp_min", "clamp", lambda lib, x: x.clamp(min=-0.5), ((3, 4),), avoid=(-0.5,)),
    C("clamp_max", "clamp", lambda lib, x: x.clamp(max=0.5), ((3, 4),), avoid=(0.5,)),
    C("clamp_both", "clamp", lambda lib, x: x.clamp(-0.5, 0.5), ((3, 4),), avoid=(-0.5, 0.5)),
    C("clamp_function", "clamp", lambda lib, x: lib.clamp(x, min=-0.3, max=0.7), ((3, 4),), avoid=(-0.3, 0.7)),
    # ---- reductions -------------------------------------------------------------------------------------------
    C("sum", "sum", lambda lib, x: x.sum(), ((3, 4),)),
    C("sum_dim", "sum", lambda lib, x: x.sum(dim=1), ((3, 4),)),
    C("sum_dim_keepdim", "sum", lambda lib, x: x.sum(dim=0, keepdim=True), ((3, 4),)),
    C("sum_negative_dim", "sum", lambda lib, x: x.sum(-1), ((2, 3, 4),)),
    C("sum_dims_tuple", "sum", lambda lib, x: x.sum(dim=(0, 2)), ((2, 3, 4),)),
    C("sum_function", "sum", lambda lib, x: lib.sum(x, dim=1), ((2, 3),)),
    C("mean", "mean", lambda lib, x: x.mean(), ((3, 4),)),
    C("mean_dim", "mean", lambda lib, x: x.mean(dim=1), ((3, 4),)),
    C("mean_dim_keepdim", "mean", lambda lib, x: x.mean(dim=-1, keepdim=True), ((2, 3, 4),)),
    C("mean_dims_tuple", "mean", lambda lib, x: x.mean(dim=(0, 1)), ((2, 3, 4),)),
    C("max_all", "max", lambda lib, x: x.max(), ((3, 4),), D),
    C("max_dim", "max", lambda lib, x: x.max(dim=1).values, ((3, 4),), D),
    C("max_dim_keepdim", "max", lambda lib, x: x.max(dim=0, keepdim=True).values, ((3, 4),), D),
    C("max_dim_tuple_unpack", "max", lambda lib, x: x.max(-1)[0], ((2, 3, 4),), D),
    C("min_all", "min", lambda lib, x: x.min(), ((3, 4),), D),
    C("min_dim", "min", lambda lib, x: x.min(dim=1).values, ((3, 4),), D),
    C("min_dim_keepdim", "min", lambda lib, x: x.min(dim=1, keepdim=True).values, ((2, 3, 4),), D),
    C("var", "var", lambda lib, x: x.var(), ((3, 4),)),
    C("var_dim", "var", lambda lib, x: x.var(dim=1), ((3, 4),)),
    C("var_dim_keepdim", "var", lambda lib, x: x.var(dim=0, keepdim=True), ((3, 4),)),
    C("var_unbiased_false", "var", lambda lib, x: x.var(dim=1, unbiased=False), ((3, 4),)),
    C("var_correction_0", "var", lambda lib, x: x.var(correction=0), ((3, 4),)),
    C("std", "std", lambda lib, x: x.std(), ((3, 4),)),
    C("std_dim", "std", lambda lib, x: x.std(dim=1), ((3, 4),)),
    C("std_unbiased_false", "std", lambda lib, x: x.std(dim=0, unbiased=False), ((3, 4),)),
    C("std_correction_0_keepdim", "std", lambda lib, x: x.std(dim=-1, correction=0, keepdim=True), ((2, 3, 4),)),
    C("logsumexp", "logsumexp", lambda lib, x: x.logsumexp(dim=1), ((3, 4),)),
    C("logsumexp_keepdim", "logsumexp", lambda lib, x: x.logsumexp(dim=0, keepdim=True), ((3, 4),)),
    C("logsumexp_function", "logsumexp", lambda lib, x: lib.logsumexp(x, dim=-1), ((2, 3, 4),), "wide"),
    # ---- elementwise unary ------------------------------------------------------------------------------------
    C("exp", "exp", lambda lib, x: x.exp(), ((3, 4),)),
    C("exp_function", "exp", lambda lib, x: lib.exp(x), ((3, 4),)),
    C("log", "log", lambda lib, x: x.log(), ((3, 4),), P),
    C("log_function", "log", lambda lib, x: lib.log(x), ((3, 4),), P),
    C("sqrt", "sqrt", lambda lib, x: x.sqrt(), ((3, 4),), P),
    C("sqrt_function", "sqrt", lambda lib, x: lib.sqrt(x), ((3, 4),), P),
    C("abs", "abs", lambda lib, x: x.abs(), ((3, 4),), avoid=(0.0,)),
    C("abs_function", "abs", lambda lib, x: lib.abs(x), ((3, 4),), avoid=(0.0,)),
    C("sin", "sin", lambda lib, x: x.sin(), ((3, 4),)),
    C("sin_function", "sin", lambda lib, x: lib.sin(x), ((3, 4),)),
    C("cos", "cos", lambda lib, x: x.cos(), ((3, 4),)),
    C("cos_function", "cos", lambda lib, x: lib.cos(x), ((3, 4),)),
    C("tanh", "tanh", lambda lib, x: x.tanh(), ((3, 4),), "wide"),
    C("tanh_function", "tanh", lambda lib, x: lib.tanh(x), ((3, 4),)),
    C("sigmoid", "sigmoid", lambda lib, x: x.sigmoid(), ((3, 4),), "wide"),
    C("sigmoid_function", "sigmoid", lambda lib, x: lib.sigmoid(x), ((3, 4),)),
    # ---- nn.functional ----------------------------------------------------------------------------------------
    C("relu", "relu", lambda lib, x: lib.nn.functional.relu(x), ((3, 4),), avoid=(0.0,)),
    C("relu_method", "relu", lambda lib, x: x.relu(), ((3, 4),), avoid=(0.0,)),
    C("leaky_relu", "leaky_relu", lambda lib, x: lib.nn.functional.leaky_relu(x), ((3, 4),), avoid=(0.0,)),
    C(
        "leaky_relu_slope",
        "leaky_relu",
        lambda lib, x: lib.nn.functional.leaky_relu(x, negative_slope=0.2),
        ((3, 4),),
        avoid=(0.0,),
    ),
    C("elu", "elu", lambda lib, x: lib.nn.functional.elu(x), ((3, 4),), avoid=(0.0,)),
    C("elu_alpha", "elu", lambda lib, x: lib.nn.functional.elu(x, alpha=0.7), ((3, 4),), avoid=(0.0,)),
    C("gelu", "gelu", lambda lib, x: lib.nn.functional.gelu(x), ((3, 4),), "wide"),
    C("gelu_tanh", "gelu", lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"), ((3, 4),), "wide"),
    C("softplus", "softplus", lambda lib, x: lib.nn.functional.softplus(x), ((3, 4),), "wide"),
    C(
        "softplus_beta_threshold",
        "softplus",
        lambda lib, x: lib.nn.functional.softplus(x, beta=2.0, threshold=5.0),
        ((3, 4),),
        "wide",
        avoid=(2.5,),
    ),
    C("silu", "silu", lambda lib, x: lib.nn.functional.silu(x), ((3, 4),), "wide"),
    C("softmax_last", "softmax", lambda lib, x: lib.nn.functional.softmax(x, dim=-1), ((3, 4),)),
    C("softmax_dim0", "softmax", lambda lib, x: lib.nn.functional.softmax(x, dim=0), ((3, 4),)),
    C("softmax_3d_dim1", "softmax", lambda lib, x: lib.nn.functional.softmax(x, dim=1), ((2, 3, 4),), "wide"),
    C("softmax_method", "softmax", lambda lib, x: x.softmax(dim=1), ((3, 4),)),
    C("log_softmax_last", "log_softmax", lambda lib, x: lib.nn.functional.log_softmax(x, dim=-1), ((3, 4),)),
    C("log_softmax_dim0", "log_softmax", lambda lib, x: lib.nn.functional.log_softmax(x, dim=0), ((3, 4),)),
    C(
        "log_softmax_3d_dim1",
        "log_softmax",
        lambda lib, x: lib.nn.functional.log_softmax(x, dim=1),
        ((2, 3, 4),),
        "wide",
    ),
    C("log_softmax_method", "log_softmax", lambda lib, x: x.log_softmax(dim=0), ((2, 3),)),
    C("linear", "linear", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), ((4, 3), (5, 3), (5,))),
    C("linear_no_bias", "linear", lambda lib, x, w: lib.nn.functional.linear(x, w), ((4, 3), (5, 3))),
    C("linear_batched", "linear", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), ((2, 4, 3), (5, 3), (5,))),
    C("linear_vector_input", "linear", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), ((3,), (2, 3), (2,))),
    # ---- compositions (several ops in one graph, shared inputs) ----------------------------------------------
    C("composite_mlp", "composite", lambda lib, x, w: (x @ w).tanh().sum(dim=1) * x[:, 0], ((4, 3), (3, 5))),
    C("composite_reuse", "composite", lambda lib, x: x * x.exp() - x.sin() / (x * x + 1.0), ((3, 4),)),
]

# The ops the "Foundation" issue names: each must appear as ``op`` of at least one catalogue entry.
REQUIRED_OPS: tuple[str, ...] = (
    "add", "sub", "mul", "div", "pow", "rpow", "matmul", "neg",
    "radd", "rsub", "rmul", "rdiv", "rmul_numpy",
    "getitem",
    "reshape", "view", "transpose", "permute", "unsqueeze", "squeeze", "flatten", "expand",
    "cat", "stack", "split", "chunk", "pad",
    "where", "maximum", "minimum", "clamp",
    "sum", "mean", "max", "min", "var", "std", "logsumexp",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid",
    "relu", "leaky_relu", "elu", "gelu", "softplus", "silu", "softmax", "log_softmax",
    "linear",
)  # fmt: skip

BY_NAME: dict[str, OpCase] = {c.name: c for c in CATALOGUE}
assert len(BY_NAME) == len(CATALOGUE), "duplicate case names in the catalogue"

# ---- issue 16: unfold/fold (gradlab/ops/fold.py) and the functions built on existing ops -----------------------


def _f(lib: Any, name: str) -> Any:
    return getattr(lib.nn.functional, name)


CATALOGUE += [
    C("unfold", "unfold", lambda lib, x: _f(lib, "unfold")(x, 2), ((2, 3, 4, 5),)),
    C(
        "unfold_dilation_padding_stride",
        "unfold",
        lambda lib, x: _f(lib, "unfold")(x, (2, 3), dilation=(2, 1), padding=1, stride=(2, 1)),
        ((2, 2, 5, 5),),
    ),
    C("fold", "fold", lambda lib, x: _f(lib, "fold")(x, (3, 3), 2), ((2, 4, 4),)),
    C("fold_overlap_stride", "fold", lambda lib, x: _f(lib, "fold")(x, (3, 4), 2, dilation=(1, 2)), ((2, 4, 4),)),
    C("prelu_shared", "prelu", lambda lib, x, w: _f(lib, "prelu")(x, w), ((3, 4), (1,)), avoid=(0.0,)),
    C("prelu_channels", "prelu", lambda lib, x, w: _f(lib, "prelu")(x, w), ((2, 3, 4), (3,)), avoid=(0.0,)),
    C("selu", "selu", lambda lib, x: _f(lib, "selu")(x), ((3, 4),), "wide", avoid=(0.0,)),
    C("relu6", "relu6", lambda lib, x: _f(lib, "relu6")(x * 4.0), ((3, 4),), "wide", avoid=(0.0, 1.5)),
    C("hardtanh", "hardtanh", lambda lib, x: _f(lib, "hardtanh")(x, -0.5, 0.7), ((3, 4),), avoid=(-0.5, 0.7)),
    C("mish", "mish", lambda lib, x: _f(lib, "mish")(x), ((3, 4),), "wide"),
    C("normalize", "normalize", lambda lib, x: _f(lib, "normalize")(x), ((3, 4),)),
    C("normalize_p1_dim0", "normalize", lambda lib, x: _f(lib, "normalize")(x, p=1.0, dim=0), ((3, 4),), avoid=(0.0,)),
    C("cosine_similarity", "cosine_similarity", lambda lib, x, y: _f(lib, "cosine_similarity")(x, y), ((3, 4), (3, 4))),
    C(
        "cosine_similarity_broadcast_dim",
        "cosine_similarity",
        lambda lib, x, y: _f(lib, "cosine_similarity")(x, y, dim=-1),
        ((2, 3, 4), (3, 4)),
    ),
    C("group_norm", "group_norm", lambda lib, x, w, b: _f(lib, "group_norm")(x, 2, w, b), ((2, 4, 3), (4,), (4,))),
    C(
        "bilinear",
        "bilinear",
        lambda lib, x, y, w, b: _f(lib, "bilinear")(x, y, w, b),
        ((2, 3), (2, 4), (5, 3, 4), (5,)),
    ),
    C("pixel_shuffle", "pixel_shuffle", lambda lib, x: _f(lib, "pixel_shuffle")(x, 2), ((1, 4, 2, 3),)),
    C("pixel_unshuffle", "pixel_unshuffle", lambda lib, x: _f(lib, "pixel_unshuffle")(x, 2), ((1, 1, 4, 4),)),
    C("max_pool1d", "max_pool1d", lambda lib, x: _f(lib, "max_pool1d")(x, 3, 2, padding=1), ((2, 3, 5),), D),
    C("avg_pool1d", "avg_pool1d", lambda lib, x: _f(lib, "avg_pool1d")(x, 3, 2, padding=1), ((2, 3, 5),)),
    C("adaptive_avg_pool1d", "adaptive_avg_pool1d", lambda lib, x: _f(lib, "adaptive_avg_pool1d")(x, 3), ((2, 3, 5),)),
    C(
        "adaptive_max_pool2d",
        "adaptive_max_pool2d",
        lambda lib, x: _f(lib, "adaptive_max_pool2d")(x, (2, 3)),
        ((2, 2, 5, 5),),
        D,
    ),  # fmt: skip
    C(
        "adaptive_max_pool1d",
        "adaptive_max_pool1d",
        lambda lib, x: _f(lib, "adaptive_max_pool1d")(x, 3),
        ((2, 3, 5),),
        D,
    ),
    C(
        "conv_transpose1d",
        "conv_transpose1d",
        lambda lib, x, w, b: _f(lib, "conv_transpose1d")(x, w, b, stride=2, padding=1, output_padding=1),
        ((2, 4, 5), (4, 3, 3), (3,)),
    ),
    C(
        "instance_norm",
        "instance_norm",
        lambda lib, x, w, b: _f(lib, "instance_norm")(x, weight=w, bias=b),
        ((2, 3, 4, 5), (3,), (3,)),
    ),
]
CATALOGUE += [
    C(
        "hardsigmoid",
        "hardsigmoid",
        lambda lib, x: _f(lib, "hardsigmoid")(x * 3.0),
        ((3, 4),),
        "wide",
        avoid=(-1.0, 1.0),
    ),
    C("hardswish", "hardswish", lambda lib, x: _f(lib, "hardswish")(x * 3.0), ((3, 4),), "wide", avoid=(-1.0, 1.0)),
    C("logsigmoid", "logsigmoid", lambda lib, x: _f(lib, "logsigmoid")(x), ((3, 4),), "wide"),
    C("softsign", "softsign", lambda lib, x: _f(lib, "softsign")(x), ((3, 4),), avoid=(0.0,)),
    C("softmin", "softmin", lambda lib, x: _f(lib, "softmin")(x, dim=1), ((3, 4),)),
    C("celu", "celu", lambda lib, x: _f(lib, "celu")(x, alpha=0.6), ((3, 4),), avoid=(0.0,)),
    C("glu", "glu", lambda lib, x: _f(lib, "glu")(x, dim=0), ((4, 3),)),
]
REQUIRED_OPS += ("unfold", "fold")
# ---- issue 16: tensor methods (gradlab/ops/scan.py; the rest built on indexing, gather and where) ---------------
CATALOGUE += [
    C("log1p", "log1p", lambda lib, x: x.log1p(), ((3, 4),), "positive"),
    C("log1p_function", "log1p", lambda lib, x: lib.log1p(x), ((3, 4),), "unit"),
    C("log10", "log10", lambda lib, x: lib.log10(x), ((3, 4),), "positive"),
    C("cumsum", "cumsum", lambda lib, x: x.cumsum(1), ((3, 4),)),
    C("cumsum_neg_dim", "cumsum", lambda lib, x: lib.cumsum(x, -3), ((2, 3, 2),)),
    C("einsum_matmul", "einsum", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), ((2, 3), (3, 4))),
    C("einsum_batched_outer", "einsum", lambda lib, a, b: lib.einsum("bi,bj->bij", a, b), ((2, 3), (2, 4))),
    C("einsum_sum_only_one", "einsum", lambda lib, a, b: lib.einsum("ij,k->ik", a, b), ((2, 3), (4,))),
    C("einsum_implicit_three", "einsum", lambda lib, a, b, c: lib.einsum("ij,jk,kl", a, b, c),
      ((2, 3), (3, 2), (2, 2))),
    C("norm_fro", "norm", lambda lib, x: x.norm(), ((3, 4),)),
    C("norm_dim_p1", "norm", lambda lib, x: lib.norm(x, 1, dim=1, keepdim=True), ((3, 4),), avoid=(0.0,)),
    C("norm_p3", "norm", lambda lib, x: x.norm(3, dim=0), ((3, 4),), avoid=(0.0,)),
    C("narrow", "narrow", lambda lib, x: x.narrow(1, 1, 2), ((3, 4),)),
    C("flip", "flip", lambda lib, x: lib.flip(x, (0, 2)), ((2, 3, 2),)),
    C("roll", "roll", lambda lib, x: x.roll((1, -2), (0, 1)), ((3, 4),)),
    C("roll_flat", "roll", lambda lib, x: lib.roll(x, 5), ((3, 4),)),
    C("sort", "sort", lambda lib, x: x.sort(1, descending=True).values, ((3, 4),), "distinct"),
    C("topk", "topk", lambda lib, x: lib.topk(x, 2, dim=0).values, ((3, 4),), "distinct"),
    C("topk_smallest", "topk", lambda lib, x: x.topk(3, largest=False).values, ((3, 4),), "distinct"),
    C("tril", "tril", lambda lib, x: x.tril(), ((2, 3, 4),)),
    C("triu_offset", "triu", lambda lib, x: lib.triu(x, 1), ((4, 3),)),
    C("repeat_interleave", "repeat_interleave", lambda lib, x: x.repeat_interleave(2, dim=1), ((3, 4),)),
    C("repeat_interleave_flat", "repeat_interleave", lambda lib, x: lib.repeat_interleave(x, 3), ((2, 2),)),
    C("unbind", "unbind", lambda lib, x: lib.stack(x.unbind(1)[::-1]), ((3, 4),)),
    C("masked_fill_tensor", "masked_fill", lambda lib, x: lib.masked_fill(x, x > 0, 0.5), ((3, 4),), avoid=(0.0,)),
    C("bmm", "bmm", lambda lib, a, b: lib.bmm(a, b), ((2, 3, 4), (2, 4, 2))),
    C("add_alpha", "add", lambda lib, a, b: lib.add(a, b, alpha=2.5), ((3, 4), (4,))),
    C("sub_alpha", "sub", lambda lib, a, b: lib.sub(a, b, alpha=-1.5), ((3, 4), (3, 4))),
]
REQUIRED_OPS += ("log1p", "log10", "cumsum", "einsum", "norm", "narrow", "flip", "roll", "sort", "topk", "tril",
                 "triu", "repeat_interleave", "unbind", "bmm")
BY_NAME = {c.name: c for c in CATALOGUE}
assert len(BY_NAME) == len(CATALOGUE), "duplicate case names in the catalogue"
