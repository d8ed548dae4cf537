"""Per-op exporters for arithmetic, activations and the layer ops (linear, conv, pooling, normalisation, reductions):
each takes the tracer and one recorded ``Call`` and returns the ONNX value name of the op's output.

Shape ops (reshape, slicing, concatenation ...) live in ``gradlab.onnx.shape_ops``; ``op_exporters()`` joins both.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.onnx._graph import ExportError, require_onnx
from gradlab.ops import activation as A
from gradlab.ops import conv as C
from gradlab.ops import elementwise as E
from gradlab.ops import matmul as M
from gradlab.ops import nn as N
from gradlab.ops import pooling as P
from gradlab.ops import reduce as R

__all__ = ["op_exporters"]


def _hint(c: Any) -> str:
    return f"{c.path}/{c.name}"


def _scalar(c: Any, value: float) -> np.ndarray:
    return np.asarray(value, dtype=c.out.dtype)


def _unary(op: str, **attrs: Any) -> Callable:
    def export(tr: Any, c: Any) -> str:
        return tr.g.node(op, [tr.name(c.args[0])], hint=_hint(c), **attrs)

    return export


def _operand(tr: Any, t: Any, dtype: Any) -> str:
    """``t`` as a value of ``dtype`` (ONNX's arithmetic wants equal types; numpy promotes Python scalars)."""
    arr_dtype = t.dtype if hasattr(t, "dtype") else np.asarray(t).dtype
    if arr_dtype == dtype:
        return tr.name(t)
    if not tr.traced(t):
        data = t._data if hasattr(t, "data") and not isinstance(t, np.ndarray) else np.asarray(t)
        return tr.g.const(np.asarray(data, dtype=dtype), "scalar")
    to = require_onnx().helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return tr.g.node("Cast", [tr.name(t)], to=to)


def _binary(op: str) -> Callable:
    def export(tr: Any, c: Any) -> str:
        dt = c.out.dtype
        return tr.g.node(op, [_operand(tr, c.args[0], dt), _operand(tr, c.args[1], dt)], hint=_hint(c))

    return export


def _where(tr: Any, c: Any) -> str:
    cond, a, b = c.args[:3]
    ins = [_operand(tr, cond, np.dtype(np.bool_)), _operand(tr, a, c.out.dtype), _operand(tr, b, c.out.dtype)]
    return tr.g.node("Where", ins, hint=_hint(c))


def _arg(c: Any, i: int, name: str, default: Any) -> Any:
    if len(c.args) > i:
        return c.args[i]
    return c.kwargs.get(name, default)


def _leaky_relu(tr: Any, c: Any) -> str:
    return tr.g.node("LeakyRelu", [tr.name(c.args[0])], hint=_hint(c), alpha=float(_arg(c, 1, "negative_slope", 0.01)))


def _elu(tr: Any, c: Any) -> str:
    return tr.g.node("Elu", [tr.name(c.args[0])], hint=_hint(c), alpha=float(_arg(c, 1, "alpha", 1.0)))


def _gelu(tr: Any, c: Any) -> str:
    g, x, h = tr.g, tr.name(c.args[0]), _hint(c)
    approximate = _arg(c, 1, "approximate", "none")
    if g.opset >= 20:
        return g.node("Gelu", [x], hint=h, approximate=approximate)
    if approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(_scalar(c, 0.044715))])])
        t = g.node("Tanh", [g.node("Mul", [inner, g.const(_scalar(c, math.sqrt(2.0 / math.pi)))])])
    else:
        t = g.node("Erf", [g.node("Div", [x, g.const(_scalar(c, math.sqrt(2.0)))])])
    half_x = g.node("Mul", [x, g.const(_scalar(c, 0.5))])
    return g.node("Mul", [half_x, g.node("Add", [t, g.const(_scalar(c, 1.0))])], hint=h)


def _softplus(tr: Any, c: Any) -> str:
    g, x = tr.g, tr.name(c.args[0])
    beta, threshold = float(_arg(c, 1, "beta", 1.0)), float(_arg(c, 2, "threshold", 20.0))
    bx = g.node("Mul", [x, g.const(_scalar(c, beta))])
    soft = g.node("Div", [g.node("Softplus", [bx]), g.const(_scalar(c, beta))])
    return g.node("Where", [g.node("Greater", [bx, g.const(_scalar(c, threshold))]), x, soft], hint=_hint(c))


def _silu(tr: Any, c: Any) -> str:
    x = tr.name(c.args[0])
    return tr.g.node("Mul", [x, tr.g.node("Sigmoid", [x])], hint=_hint(c))


def _clamp(tr: Any, c: Any) -> str:
    lo, hi = _arg(c, 1, "lo", None), _arg(c, 2, "hi", None)
    ins = [tr.name(c.args[0])]
    ins.append("" if lo is None else tr.g.const(_scalar(c, lo), "clip_min"))
    ins.append("" if hi is None else tr.g.const(_scalar(c, hi), "clip_max"))
    while ins[-1] == "":
        ins.pop()
    return tr.g.node("Clip", ins, hint=_hint(c))


def _cast(tr: Any, c: Any) -> str:
    to = require_onnx().helper.np_dtype_to_tensor_dtype(np.dtype(c.out.dtype))
    return tr.g.node("Cast", [tr.name(c.args[0])], hint=_hint(c), to=to)


def _linear(tr: Any, c: Any) -> str:
    g = tr.g
    x, w = c.args[0], c.args[1]
    b = _arg(c, 2, "bias", None)
    if x.ndim == 2:
        ins = [tr.name(x), tr.name(w)] + ([tr.name(b)] if b is not None else [])
        return g.node("Gemm", ins, hint=_hint(c), transB=1)
    wt = g.node("Transpose", [tr.name(w)], perm=[1, 0]) if tr.traced(w) else g.const(w._data.T, f"{c.path}.weight_T")
    y = g.node("MatMul", [tr.name(x), wt], hint=_hint(c) if b is None else None)
    return y if b is None else g.node("Add", [y, tr.name(b)], hint=_hint(c))


def _softmax(op: str) -> Callable:
    def export(tr: Any, c: Any) -> str:
        return tr.g.node(op, [tr.name(c.args[0])], hint=_hint(c), axis=int(c.args[1]))

    return export


def _batch_norm(tr: Any, c: Any) -> str:
    x, w, b, mean, var, training, _momentum, eps = c.args
    if training:
        raise ExportError(
            f"batch_norm with training=True in {c.path}: ONNX export is for inference; call model.eval() (or pass "
            f"training=False)"
        )
    ch = x.shape[1]
    scale = tr.name(w) if w is not None else tr.g.const(np.ones(ch, dtype=x.dtype), f"{c.path}.ones")
    bias = tr.name(b) if b is not None else tr.g.const(np.zeros(ch, dtype=x.dtype), f"{c.path}.zeros")
    ins = [tr.name(x), scale, bias, tr.name(mean), tr.name(var)]
    return tr.g.node("BatchNormalization", ins, hint=_hint(c), epsilon=float(eps))


def _layer_norm(tr: Any, c: Any) -> str:
    x, w, b, ndim, eps = c.args
    shape = x.shape[x.ndim - ndim:]
    scale = tr.name(w) if w is not None else tr.g.const(np.ones(shape, dtype=x.dtype), f"{c.path}.ones")
    ins = [tr.name(x), scale] + ([tr.name(b)] if b is not None else [])
    return tr.g.node("LayerNormalization", ins, hint=_hint(c), axis=-int(ndim), epsilon=float(eps))


def _conv2d(tr: Any, c: Any) -> str:
    x, w, b, stride, pad4, dilation, groups = c.args
    ins = [tr.name(x), tr.name(w)] + ([tr.name(b)] if b is not None else [])
    return tr.g.node("Conv", ins, hint=_hint(c), kernel_shape=list(w.shape[2:]), strides=list(stride),
                     pads=[pad4[0], pad4[2], pad4[1], pad4[3]], dilations=list(dilation), group=int(groups))


def _conv_transpose2d(tr: Any, c: Any) -> str:
    x, w, b, stride, padding, output_padding, dilation, groups = c.args
    ins = [tr.name(x), tr.name(w)] + ([tr.name(b)] if b is not None else [])
    return tr.g.node("ConvTranspose", ins, hint=_hint(c), kernel_shape=list(w.shape[2:]), strides=list(stride),
                     pads=[padding[0], padding[1], padding[0], padding[1]], output_padding=list(output_padding),
                     dilations=list(dilation), group=int(groups))


def _max_pool(tr: Any, c: Any) -> str:
    x, k, s, p, d, ceil_mode = c.args[:6]
    if _arg(c, 6, "indices_sink", None) is not None:
        raise ExportError(f"max_pool2d with return_indices=True in {c.path} is not exportable")
    return tr.g.node("MaxPool", [tr.name(x)], hint=_hint(c), kernel_shape=list(k), strides=list(s),
                     pads=[p[0], p[1], p[0], p[1]], dilations=list(d), ceil_mode=int(bool(ceil_mode)))


def _avg_pool(tr: Any, c: Any) -> str:
    x, k, s, p, ceil_mode, count_include_pad, divisor_override = c.args
    if divisor_override:
        raise ExportError(f"avg_pool2d with divisor_override in {c.path} has no ONNX equivalent")
    if ceil_mode:
        raise ExportError(f"avg_pool2d with ceil_mode=True in {c.path}: the edge windows' divisor differs in ONNX")
    return tr.g.node("AveragePool", [tr.name(x)], hint=_hint(c), kernel_shape=list(k), strides=list(s),
                     pads=[p[0], p[1], p[0], p[1]], count_include_pad=int(bool(count_include_pad)))


def _averaging_matrix(size: int, out: int, dtype: Any) -> np.ndarray:
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        a, b = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, a:b] = 1.0 / (b - a)
    return m


def _adaptive_avg_pool(tr: Any, c: Any) -> str:
    x, (oh, ow) = c.args[0], c.args[1]
    h, w = x.shape[2:]
    if any(c.dynamic_in(0)[2:]):
        raise ExportError(f"adaptive_avg_pool2d in {c.path}: the spatial axes must be static for ONNX export")
    if (oh, ow) == (1, 1):
        return tr.g.node("GlobalAveragePool", [tr.name(x)], hint=_hint(c))
    if h % oh == 0 and w % ow == 0:
        kernel = [h // oh, w // ow]
        return tr.g.node("AveragePool", [tr.name(x)], hint=_hint(c), kernel_shape=kernel, strides=kernel)
    mh = tr.g.const(_averaging_matrix(h, oh, x.dtype), f"{c.path}.rows")
    mw = tr.g.const(_averaging_matrix(w, ow, x.dtype).T.copy(), f"{c.path}.cols")
    return tr.g.node("MatMul", [tr.g.node("MatMul", [mh, tr.name(x)]), mw], hint=_hint(c))


def _upsample(tr: Any, c: Any) -> str:
    x, (oh, ow) = c.args[0], c.args[1]
    h, w = x.shape[2:]
    if oh % h or ow % w:
        raise ExportError(f"nearest upsampling in {c.path}: only integer scale factors are exportable")
    scales = tr.g.const(np.array([1, 1, oh // h, ow // w], dtype=np.float32), "scales")
    return tr.g.node("Resize", [tr.name(x), "", scales], hint=_hint(c), mode="nearest",
                     coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def _axes(dim: Any, ndim: int) -> list[int] | None:
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return [int(d) % ndim for d in dims]


def _reduce(op: str, x_name: str, tr: Any, c: Any, axes: list[int] | None, keepdim: bool) -> str:
    g = tr.g
    if axes is None:
        return g.node(op, [x_name], hint=_hint(c), keepdims=int(keepdim))
    if op == "ReduceSum" or g.opset >= 18:
        return g.node(op, [x_name, g.ints(axes, "axes")], hint=_hint(c), keepdims=int(keepdim))
    return g.node(op, [x_name], hint=_hint(c), axes=axes, keepdims=int(keepdim))


def _reducer(op: str) -> Callable:
    def export(tr: Any, c: Any) -> str:
        x = c.args[0]
        dim, keepdim = _arg(c, 1, "dim", None), bool(_arg(c, 2, "keepdim", False))
        return _reduce(op, tr.name(x), tr, c, _axes(dim, x.ndim), keepdim)

    return export


def _max_all(tr: Any, c: Any) -> str:
    op = "ReduceMax" if _arg(c, 1, "is_max", True) else "ReduceMin"
    return _reduce(op, tr.name(c.args[0]), tr, c, None, False)


def _max_dim(tr: Any, c: Any) -> str:
    x, dim, keepdim = c.args[0], int(c.args[1]), bool(c.args[2])
    is_max = np.array_equal(np.max(x._data, axis=dim, keepdims=keepdim), c.out._data, equal_nan=True)
    return _reduce("ReduceMax" if is_max else "ReduceMin", tr.name(x), tr, c, [dim % x.ndim], keepdim)


def op_exporters() -> dict[type, Callable]:
    """Every op with an exporter, ``{Function subclass: exporter(tracer, call) -> value name}``.

    >>> from gradlab.ops.nn import Linear
    >>> Linear in op_exporters()
    True
    """
    from gradlab.onnx.shape_ops import shape_exporters

    table: dict[type, Callable] = {
        E.Add: _binary("Add"), E.Sub: _binary("Sub"), E.Mul: _binary("Mul"), E.Div: _binary("Div"),
        E.Pow: _binary("Pow"), E.Maximum: _binary("Max"), E.Minimum: _binary("Min"), M.MatMul: _binary("MatMul"),
        E.Neg: _unary("Neg"), E.Exp: _unary("Exp"), E.Log: _unary("Log"), E.Sqrt: _unary("Sqrt"),
        E.Abs: _unary("Abs"), E.Sin: _unary("Sin"), E.Cos: _unary("Cos"), E.Tanh: _unary("Tanh"),
        A.Sigmoid: _unary("Sigmoid"), A.ReLU: _unary("Relu"), E.Clone: _unary("Identity"),
        A.LeakyReLU: _leaky_relu, A.ELU: _elu, A.GELU: _gelu, A.Softplus: _softplus, A.SiLU: _silu,
        E.Clamp: _clamp, E.Cast: _cast,
        E.Where: _where,
        N.Linear: _linear, N.Softmax: _softmax("Softmax"), N.LogSoftmax: _softmax("LogSoftmax"),
        N.Dropout: _unary("Identity"), N.BatchNorm: _batch_norm, N.LayerNorm: _layer_norm,
        C.Conv2d: _conv2d, C.ConvTranspose2d: _conv_transpose2d,
        P.MaxPool2d: _max_pool, P.AvgPool2d: _avg_pool, P.AdaptiveAvgPool2d: _adaptive_avg_pool,
        P.UpsampleNearest2d: _upsample,
        R.Sum: _reducer("ReduceSum"), R.Mean: _reducer("ReduceMean"), R.LogSumExp: _reducer("ReduceLogSumExp"),
        R.MaxAll: _max_all, R.MaxDim: _max_dim,
    }
    table.update(shape_exporters())
    return table
