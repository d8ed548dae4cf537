"""``export(model, example_input, path)``: a gradlab model as an ONNX file (opset 17+, weights as initializers, the
batch axis dynamic by default), traced from one forward pass (see ``gradlab.onnx.tracer``)."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from gradlab.autograd.grad_mode import no_grad
from gradlab.nn.module import Module
from gradlab.onnx._graph import ExportError, GraphBuilder, require_onnx, save_atomic
from gradlab.onnx.ops import op_exporters
from gradlab.onnx.recurrent import module_exporters
from gradlab.onnx.tracer import Tracer, flat_tensors
from gradlab.tensor import Tensor

__all__ = ["export", "MIN_OPSET"]

MIN_OPSET = 17


def _as_inputs(example_input: Any) -> tuple[Tensor, ...]:
    items = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    out = []
    for i, x in enumerate(items):
        if isinstance(x, Tensor):
            out.append(Tensor(x._data.copy()))
        elif isinstance(x, np.ndarray):
            out.append(Tensor(x))
        else:
            raise TypeError(f"example_input[{i}] must be a gradlab Tensor or a numpy array, got {type(x).__name__}")
    return tuple(out)


def _names(given: Any, n: int, stem: str) -> list[str]:
    if given is None:
        return [stem] if n == 1 else [f"{stem}_{i}" for i in range(n)]
    given = [given] if isinstance(given, str) else list(given)
    if len(given) != n or len(set(given)) != n or not all(isinstance(s, str) and s for s in given):
        raise ValueError(f"{stem}_names must be {n} distinct non-empty strings, got {given!r}")
    return given


def _axes_spec(dynamic_axes: Any, inputs: tuple, in_names: list[str], out_names: list[str]) -> dict[str, dict]:
    if dynamic_axes is None:
        return {name: {0: "batch"} for name, x in zip(in_names, inputs) if x.ndim >= 1}
    if not isinstance(dynamic_axes, dict):
        raise TypeError(f"dynamic_axes must be a dict {{name: {{axis: label}} or [axes]}}, got {dynamic_axes!r}")
    spec: dict[str, dict] = {}
    for name, axes in dynamic_axes.items():
        if name not in in_names and name not in out_names:
            raise ValueError(f"dynamic_axes names {name!r}, which is neither an input nor an output name")
        if isinstance(axes, dict):
            spec[name] = {int(a): str(label) for a, label in axes.items()}
        else:
            spec[name] = {int(a): f"{name}_dim{int(a)}" for a in axes}
    return spec


def _grown(x: Tensor, axes: dict[int, str]) -> Tensor:
    """``x`` one longer along each of ``axes`` (repeating the first slice), for the second trace."""
    arr = x._data
    for a in axes:
        if not -arr.ndim <= a < arr.ndim:
            raise ValueError(f"dynamic axis {a} is out of range for an input of shape {arr.shape}")
        if arr.shape[a] == 0:
            raise ValueError(f"the example input has size 0 along dynamic axis {a}")
        arr = np.concatenate([arr, np.take(arr, [0], axis=a)], axis=a)
    return Tensor(arr)


def _run(tracer: Tracer, model: Module, inputs: tuple, names: list[str]) -> Any:
    for x, name in zip(inputs, names):
        tracer.bind(x, name)
    with tracer.active():
        return model(*inputs)


def _value_info(name: str, t: Tensor, dims: dict[int, str]) -> Any:
    onnx = require_onnx()
    shape = [dims.get(a, dims.get(a - t.ndim, n)) for a, n in enumerate(t.shape)]
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(t.dtype), shape)


def export(model: Module, example_input: Any, path: str | os.PathLike | None = None, input_names: Any = None,
           output_names: Any = None, dynamic_axes: dict | None = None, opset: int = MIN_OPSET) -> Any:
    """Trace ``model`` on ``example_input`` (a Tensor/array, or a tuple of them) and write an ONNX model to ``path``.

    The model runs in eval mode (and is put back in its mode after). ``dynamic_axes`` maps input/output names to
    the axes that may change size (``{name: {axis: label}}`` or ``{name: [axes]}``); the default makes axis 0 of
    every input dynamic ("batch"), ``{}`` fixes every size. Output axes that follow a dynamic input axis are
    dynamic too. Returns the ``onnx.ModelProto`` (checked with ``onnx.checker``); ``path=None`` writes nothing.
    Raises ``ExportError`` for an op or module without an exporter, naming it and the module path.

    >>> import gradlab
    >>> from gradlab import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> proto = export(model, gradlab.randn(2, 4))
    >>> [n.op_type for n in proto.graph.node]
    ['Gemm', 'Relu', 'Gemm', 'Identity']
    >>> proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    'batch'
    """
    onnx = require_onnx()
    if not isinstance(model, Module):
        raise TypeError(f"export needs a gradlab nn.Module, got {type(model).__name__}")
    if not isinstance(opset, int) or opset < MIN_OPSET:
        raise ValueError(f"opset must be an int >= {MIN_OPSET}, got {opset!r}")
    inputs = _as_inputs(example_input)
    in_names = _names(input_names, len(inputs), "input")
    spec = _axes_spec(dynamic_axes, inputs, in_names, list(dynamic_axes or ()))  # output names checked below
    ops, modules = op_exporters(), module_exporters()
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            alt = None
            if any(spec.get(n) for n in in_names):
                grown = tuple(_grown(x, spec.get(n, {})) for x, n in zip(inputs, in_names))
                alt_tracer = Tracer(GraphBuilder(opset), model, record_only=True, module_exporters=modules)
                try:
                    alt_out = flat_tensors(_run(alt_tracer, model, grown, in_names))
                except ExportError:
                    raise
                except Exception as e:
                    raise ExportError(
                        f"{type(model).__name__} fails on inputs one longer along the dynamic axes {spec} ({e}); "
                        f"pass dynamic_axes naming only the axes that may change size"
                    ) from e
                alt = alt_tracer.events
            graph = GraphBuilder(opset)
            for name in in_names:
                graph.reserve(name)
            tracer = Tracer(graph, model, alt=alt, op_exporters=ops, module_exporters=modules)
            outs = flat_tensors(_run(tracer, model, inputs, in_names))
    finally:
        for m, mode in modes:
            m.training = mode
    if not outs:
        raise ExportError(f"{type(model).__name__}.forward returned no tensor")
    out_names = _names(output_names, len(outs), "output")
    spec = _axes_spec(dynamic_axes, inputs, in_names, out_names) if dynamic_axes is not None else spec
    in_labels = {x.shape[a]: label for x, n in zip(inputs, in_names) for a, label in spec.get(n, {}).items()}
    graph_outputs = []
    for k, (t, name) in enumerate(zip(outs, out_names)):
        if not tracer.traced(t):
            raise ExportError(f"output {k} of {type(model).__name__} does not depend on the inputs (a constant)")
        graph.reserve(name)
        graph.nodes.append(onnx.helper.make_node("Identity", [tracer.values[id(t)]], [name], name=f"output_{k}"))
        dims = dict(spec.get(name, {}))
        if alt is not None and name not in spec:
            for a, (m, b) in enumerate(zip(t.shape, alt_out[k].shape)):
                if m != b:
                    dims[a] = in_labels.get(m, f"{name}_dim{a}")
        graph_outputs.append(_value_info(name, t, dims))
    graph_inputs = [_value_info(n, x, spec.get(n, {})) for x, n in zip(inputs, in_names)]
    proto = graph.model(graph_inputs, graph_outputs, graph_name=type(model).__name__)
    onnx.checker.check_model(proto)
    if path is not None:
        save_atomic(proto, path)
    return proto
