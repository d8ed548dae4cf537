"""gradlab: a deep-learning library on NumPy with PyTorch's interface.

>>> import gradlab
>>> x = gradlab.tensor([2.0], requires_grad=True)
>>> (x ** 3).sum().backward()
>>> x.grad.tolist()
[12.0]
"""
from gradlab.tensor import Tensor  # noqa: I001  (must come first: the autograd modules need it)
from gradlab import backend
from gradlab.autograd import (
    Function, GradcheckError, enable_grad, gradcheck, is_grad_enabled, no_grad, set_grad_enabled,
)
from gradlab.autograd import inference_mode, is_inference_mode_enabled
from gradlab import autograd
from gradlab.size import Size
from gradlab.legacy import BoolTensor, ByteTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor
from gradlab.backend import Generator, get_default_dtype, manual_seed, set_default_dtype
from gradlab.creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, normal, ones, ones_like, rand,
    rand_like, randint, randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from gradlab.functions import (
    abs, argmax, argmin, cat, chunk, clamp, cos, exp, flatten, log, logsumexp, matmul, max, maximum, mean, min,
    minimum, permute, relu, reshape, sigmoid, sin, softmax, split, sqrt, squeeze, stack, std, sum, tanh, transpose,
    unsqueeze, var, where,
)
from gradlab.functions_more import (
    add, allclose, argsort, bmm, cumsum, div, einsum, flip, gather, log1p, log10, masked_fill, mm, mul, multinomial,
    narrow, nonzero, norm, pow, repeat_interleave, roll, sort, sub, topk, tril, triu, unbind, unique,
)
from gradlab.functions_more import (
    ceil, floor, floor_divide, fmod, frac, remainder, round, scatter, scatter_add, scatter_reduce, trunc,
)
from gradlab.functions_torch import (
    all, any, bernoulli, bincount, broadcast_to, clone, column_stack, count_nonzero, detach, diagonal, dstack, eq,
    equal, fliplr, flipud, ge, gt, hstack, index_add, index_select, initial_seed, is_floating_point, is_tensor,
    isclose, isfinite, isinf, isnan, le, logical_and, logical_not, logical_or, logical_xor, lt, masked_select,
    meshgrid, movedim, ne, numel, ravel, seed, swapaxes, t, take_along_dim, tile, tril_indices, triu_indices,
    unflatten, vstack,
)
from gradlab.functions_torch_math import (
    acos, addcdiv, addcmul, addmm, amax, amin, asin, atan, atan2, clamp_max, clamp_min, clip, cosh, cumprod, diag,
    dot, erf, exp2, expm1, hypot, lerp, log2, log_softmax, logit, median, nan_to_num, outer, prod, reciprocal,
    rsqrt, sgn, sign, sinh, square, std_mean, tan, trace, var_mean, xlogy,
)
from gradlab import nn, optim, data
from gradlab import utils
from gradlab import backends
from gradlab import distributions
from gradlab import cuda
from gradlab.devices import device, get_default_device, set_default_device
from gradlab.io.torch_style import load, save

float16 = backend.float16
float32 = backend.float32
float64 = backend.float64
int8 = backend.int8
int16 = backend.int16
int32 = backend.int32
int64 = backend.int64
uint8 = backend.uint8
bool = backend.bool_  # noqa: A001  (torch.bool)
float = float32  # noqa: A001
double = float64
long = int64

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "GradcheckError", "gradcheck", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "inference_mode", "is_inference_mode_enabled", "autograd", "Size", "FloatTensor",
    "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor",
    "Generator", "manual_seed", "get_default_dtype", "set_default_dtype", "backend", "nn", "optim",
    "data", "utils", "backends", "distributions", "save", "load", "cuda", "device", "get_default_device",
    "set_default_device", "is_tensor", "is_floating_point", "numel", "meshgrid", "hstack", "vstack", "outer", "dot",
    "diag", "rsqrt", "reciprocal", "expm1", "log2", "square", "clamp_min", "clamp_max", "clip", "logical_not",
    "logical_and", "logical_or", "isinf", "isnan", "isfinite", "unflatten", "movedim", "swapaxes", "broadcast_to",
    "ravel", "tile", "sign", "log_softmax", "eq", "ne", "lt", "gt", "le", "ge", "all", "any", "amax", "amin", "t",
    "index_select", "clone", "detach", "tan", "asin", "acos", "atan", "sinh", "cosh", "erf", "prod", "lerp",
    "masked_select", "diagonal", "trace", "addmm", "bernoulli", "bincount", "count_nonzero", "isclose", "equal",
    "take_along_dim", "index_add", "addcmul", "addcdiv", "atan2", "hypot", "exp2", "logit", "xlogy", "cumprod",
    "median", "nan_to_num", "logical_xor", "sgn", "fliplr", "flipud", "tril_indices", "triu_indices", "dstack",
    "column_stack", "std_mean", "var_mean", "seed", "initial_seed",
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "randn", "rand",
    "randint", "randperm", "normal", "zeros_like", "ones_like", "full_like", "empty_like", "randn_like", "rand_like",
    "randint_like", "abs", "argmax", "argmin", "cat", "chunk", "clamp", "cos", "exp", "flatten", "log", "logsumexp",
    "matmul", "max", "maximum", "mean", "min", "minimum", "permute", "reshape", "sigmoid", "sin", "split", "sqrt",
    "squeeze", "stack", "relu", "softmax", "std", "sum", "tanh", "transpose", "unsqueeze", "var", "where",
    "float16", "float32", "float64", "add", "allclose", "argsort", "bmm", "cumsum", "div", "einsum", "flip", "gather",
    "log1p", "log10", "masked_fill", "mm", "mul", "multinomial", "narrow", "nonzero", "norm", "pow",
    "repeat_interleave", "roll", "sort", "sub", "topk", "tril", "triu", "unbind", "unique",
    "ceil", "floor", "floor_divide", "fmod", "frac", "remainder", "round", "scatter", "scatter_add", "scatter_reduce",
    "trunc",
    "int8", "int16", "int32", "int64", "uint8", "bool", "float", "double", "long", "__version__",
]
