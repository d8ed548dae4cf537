"""The tracer: runs one forward pass with ``Function.apply`` and ``Module.__call__`` temporarily wrapped, and turns
every op (or covered module) that touches the graph's inputs into ONNX nodes.

Nothing is patched outside ``Tracer.active()``, so ordinary runs pay nothing. Rules:

- A module with a module exporter (the recurrent layers, ``Embedding``) is exported whole; the ops inside it are
  not recorded. Every other module is transparent: its ops are recorded one by one.
- An op whose tensor arguments are all constants (parameters, buffers, tensors made inside ``forward``) is folded:
  its result becomes an initializer when something traced uses it.
- Sizes: to keep the dynamic axes (the batch axis by default) dynamic, the forward pass runs twice, the second time
  with every dynamic axis one longer; a shape that differs between the two runs is batch-dependent and exported
  as such (a ``-1`` in a reshape, an open slice end). A constant built inside ``forward`` whose shape depends on
  the batch size cannot be exported and raises ``ExportError``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from gradlab.autograd.function import Function
from gradlab.nn.module import Module
from gradlab.onnx._graph import ExportError, GraphBuilder
from gradlab.tensor import Tensor
from gradlab.tensor_math import TensorMath

__all__ = ["Tracer", "Call", "flat_tensors"]


# ops whose array arguments are bookkeeping (MaxDim's precomputed arg-max), not values the graph needs
_ARRAY_NOT_DATA = frozenset({"MaxDim"})


def flat_tensors(obj: Any) -> list[Tensor]:
    """The tensors inside nested tuples/lists, in order.

    >>> import gradlab
    >>> a, b = gradlab.zeros(1), gradlab.ones(2)
    >>> [t.shape for t in flat_tensors((a, [3, (b, None)]))]
    [gradlab.Size([1]), gradlab.Size([2])]
    """
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in flat_tensors(o)]
    return []


def _statics(args: tuple) -> tuple:
    return tuple(None if isinstance(a, (Tensor, np.ndarray)) else a for a in args)


class Call:
    """One recorded call: an op (``target`` a ``Function`` subclass) or a covered module (``target`` the module).

    ``alt_in``/``alt_out`` are the shapes of the same call's tensor arguments and output(s) in the second run (one
    longer along each dynamic axis), or None when every axis is static.

    >>> import gradlab
    >>> c = Call(object, (gradlab.zeros(2, 3),), {}, gradlab.zeros(2), None, "fc")
    >>> c.path, c.dynamic_out(), c.in_shape(0)
    ('fc', [False], (2, 3))
    """

    __slots__ = ("target", "args", "kwargs", "out", "alt", "path")

    def __init__(self, target: Any, args: tuple, kwargs: dict, out: Any, alt: Any, path: str) -> None:
        self.target, self.args, self.kwargs, self.out, self.alt, self.path = target, args, kwargs, out, alt, path

    @property
    def name(self) -> str:
        return getattr(self.target, "__name__", type(self.target).__name__)

    def in_shape(self, i: int) -> tuple:
        return tuple(flat_tensors(self.args)[i].shape)

    def alt_in(self, i: int) -> tuple:
        return tuple(self.alt[1][i]) if self.alt is not None else self.in_shape(i)

    def alt_out(self) -> tuple:
        return tuple(self.alt[3][0]) if self.alt is not None else tuple(self.out.shape)

    def dynamic_out(self) -> list[bool]:
        """Per output axis: does its size change with the dynamic input axes?"""
        return [a != b for a, b in zip(self.out.shape, self.alt_out())]

    def dynamic_in(self, i: int) -> list[bool]:
        return [a != b for a, b in zip(self.in_shape(i), self.alt_in(i))]


class Tracer:
    """Records one forward pass; ``record_only`` runs (the second, resized pass) just log the calls' shapes.

    >>> import gradlab
    >>> from gradlab import nn
    >>> tr = Tracer(GraphBuilder(), nn.Linear(3, 2), record_only=True)
    >>> x = gradlab.zeros(4, 3)
    >>> tr.bind(x, "input")
    >>> with tr.active():
    ...     y = tr.model(x)
    >>> [e[0] for e in tr.events]
    ['Linear']
    """

    def __init__(self, graph: GraphBuilder, model: Module, record_only: bool = False, alt: list | None = None,
                 op_exporters: dict | None = None, module_exporters: dict | None = None) -> None:
        self.g = graph
        self.model = model
        self.record_only = record_only
        self.alt = alt
        self.events: list[tuple] = []
        self.values: dict[int, str] = {}
        self.keep: list[Any] = []
        self.depth = 0
        self.stack: list[str] = []
        self.op_exporters = op_exporters or {}
        self.module_exporters = module_exporters or {}
        self.paths = {id(m): name for name, m in model.named_modules()}
        self.consts: dict[int, str] = {}
        self.param_names = {id(p): name for name, p in model.named_parameters()}
        self.param_names.update({id(b): name for name, b in model.named_buffers()})

    # ---- values ----------------------------------------------------------------------------------------------
    def traced(self, t: Any) -> bool:
        return isinstance(t, Tensor) and id(t) in self.values

    def bind(self, t: Tensor, name: str) -> None:
        """Record that tensor ``t`` is the ONNX value ``name``."""
        self.values[id(t)] = name
        self.keep.append(t)

    def name(self, t: Any, hint: str = "const") -> str:
        """The ONNX value of ``t``: traced values by their name, anything else as an initializer (once)."""
        if isinstance(t, Tensor) and id(t) in self.values:
            return self.values[id(t)]
        key = id(t)
        if key in self.consts:
            return self.consts[key]
        arr = t._data if isinstance(t, Tensor) else np.asarray(t)
        name = self.g.const(arr, self.param_names.get(key, hint))
        self.consts[key] = name
        self.keep.append(t)
        return name

    def path(self) -> str:
        return self.stack[-1] if self.stack else "<model>"

    # ---- events -----------------------------------------------------------------------------------------------
    def _event(self, label: str, args: tuple, out: Any) -> Any:
        arrays = () if label in _ARRAY_NOT_DATA else tuple(a.shape for a in args if isinstance(a, np.ndarray))
        ev = (label, tuple(tuple(t.shape) for t in flat_tensors(args)), _statics(args),
              tuple(tuple(t.shape) for t in flat_tensors(out)), arrays)
        if self.record_only:
            self.events.append(ev)
            return None
        if self.alt is None:
            return None
        k = len(self.events)
        self.events.append(ev)
        other = self.alt[k] if k < len(self.alt) else None
        if other is None or other[0] != label:
            raise ExportError(
                f"the forward pass takes a different path when the dynamic axes change size (call {k}: {label} in "
                f"{self.path()}); export with dynamic_axes={{}} for a fixed-size model"
            )
        consts = [(s_main, s_alt) for t, s_main, s_alt in zip(flat_tensors(args), ev[1], other[1])
                  if not self.traced(t)]
        for s_main, s_alt in consts + list(zip(ev[4], other[4])):
            if s_main != s_alt:
                raise ExportError(
                    f"{label} in {self.path()}: a tensor of shape {s_main} made inside forward (not from the "
                    f"model's inputs, e.g. by a comparison such as x > 0, which is not traced) changes with the "
                    f"dynamic axes, so it cannot be stored in the ONNX file; export with dynamic_axes={{}} to fix "
                    f"every size"
                )
        return other

    def _op(self, fn: type, args: tuple, kwargs: dict, out: Tensor) -> None:
        alt = self._event(fn.__name__, args, out)
        if self.record_only:
            self.bind(out, "")
            return
        exporter = self.op_exporters.get(fn)
        if exporter is None:
            raise ExportError(
                f"no ONNX exporter for op {fn.__module__}.{fn.__name__} (called in module {self.path()}); "
                f"covered ops: {', '.join(sorted(f.__name__ for f in self.op_exporters))}"
            )
        self.bind(out, exporter(self, Call(fn, args, kwargs, out, alt, self.path())))

    def _module(self, module: Module, exporter: Callable, args: tuple, kwargs: dict, out: Any) -> None:
        alt = self._event(type(module).__name__, args, out)
        if self.record_only:
            for t in flat_tensors(out):
                self.bind(t, "")
            return
        exporter(self, Call(module, args, kwargs, out, alt, self.path()))

    def _module_exporter(self, module: Module) -> Callable | None:
        for cls in type(module).__mro__:
            if cls in self.module_exporters:
                return self.module_exporters[cls]
        return None

    # ---- patching ---------------------------------------------------------------------------------------------
    @contextmanager
    def active(self) -> Iterator[Tracer]:
        """Wrap ``Function.apply``, ``Module.__call__`` and the Tensor's in-place writers for the block."""
        orig_apply = Function.__dict__["apply"]
        orig_call = Module.__dict__["__call__"]
        apply = orig_apply.__func__
        tracer = self

        def traced_apply(cls: type, *args: Any, **kwargs: Any) -> Any:
            out = apply(cls, *args, **kwargs)
            if tracer.depth == 0 and any(tracer.traced(a) for a in args):
                tracer._op(cls, args, kwargs, out)
            return out

        def traced_call(module: Module, *args: Any, **kwargs: Any) -> Any:
            tracer.stack.append(tracer.paths.get(id(module)) or type(module).__name__)
            try:
                exporter = tracer._module_exporter(module) if tracer.depth == 0 else None
                if exporter is None or not any(tracer.traced(t) for t in flat_tensors((args, kwargs))):
                    return orig_call(module, *args, **kwargs)
                tracer.depth += 1
                try:
                    out = orig_call(module, *args, **kwargs)
                finally:
                    tracer.depth -= 1
                tracer._module(module, exporter, args, kwargs, out)
                return out
            finally:
                tracer.stack.pop()

        orig_set_inplace, orig_setitem, orig_fill = Tensor._set_inplace, Tensor.__setitem__, Tensor.fill_

        def traced_set_inplace(t: Tensor, result: Tensor) -> Tensor:
            out = orig_set_inplace(t, result)
            if tracer.traced(result):  # x.add_(y), relu_(x) ...: x now is the op's result
                tracer.values[id(t)] = tracer.values[id(result)]
                tracer.keep.append(t)
            elif tracer.traced(t):
                raise ExportError(f"an in-place write of a constant into a traced tensor in {tracer.path()}")
            return out

        def traced_setitem(t: Tensor, index: Any, value: Any) -> None:
            if tracer.traced(t) or tracer.traced(value):
                raise ExportError(
                    f"in-place item assignment (x[...] = v) on a traced tensor in {tracer.path()} is not exportable; "
                    f"build the result with gradlab.where or gradlab.cat instead"
                )
            orig_setitem(t, index, value)

        def traced_fill(t: Tensor, value: Any) -> Tensor:
            if tracer.traced(t):
                raise ExportError(f"fill_/zero_ on a traced tensor in {tracer.path()} is not exportable")
            return orig_fill(t, value)

        orig_compare, orig_arg = TensorMath._compare, TensorMath._arg

        def untraceable(what: str, orig: Callable) -> Callable:
            def check(t: Any, other: Any, *rest: Any) -> Any:
                if tracer.traced(t) or tracer.traced(other):
                    raise ExportError(
                        f"{what} on a traced tensor in {tracer.path()} is not exportable (its result is not an op, "
                        f"so the ONNX file would hold the example's value); use ops such as clamp, maximum or relu"
                    )
                return orig(t, other, *rest)

            return check

        patches = [
            (Function, "apply", classmethod(traced_apply)), (Module, "__call__", traced_call),
            (Tensor, "_set_inplace", traced_set_inplace), (Tensor, "__setitem__", traced_setitem),
            (Tensor, "fill_", traced_fill),
            (TensorMath, "_compare", untraceable("a comparison or logical op (x > 0, x == y, ~m ...)", orig_compare)),
            (TensorMath, "_arg", untraceable("argmax/argmin", orig_arg)),
        ]
        saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
        for owner, name, value in patches:
            setattr(owner, name, value)
        try:
            yield self
        finally:
            for owner, name, value in saved:
                setattr(owner, name, value)
