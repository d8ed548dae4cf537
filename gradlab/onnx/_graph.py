"""``GraphBuilder``: collects ONNX nodes and initializers with unique names, then assembles a ``ModelProto``.

Only this module and the exporters touch the ``onnx`` package, always through ``require_onnx()`` so that importing
``gradlab.onnx`` works without it and a call fails with a message naming what to install.
"""
from __future__ import annotations

import os
import re
import tempfile
from typing import Any

import numpy as np

__all__ = ["GraphBuilder", "require_onnx", "save_atomic", "ExportError"]


class ExportError(TypeError):
    """A model (or an op inside it) that the ONNX exporter cannot express.

    >>> str(ExportError("no exporter for op Foo"))
    'no exporter for op Foo'
    """


def require_onnx() -> Any:
    """The ``onnx`` package, or an ImportError that says how to install it.

    >>> require_onnx().__name__
    'onnx'
    """
    try:
        import onnx
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "gradlab.onnx needs the 'onnx' package: pip install 'gradlab[onnx]' (or pip install onnx; "
            "onnxruntime to run the exported models)"
        ) from e
    return onnx


def _clean(hint: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:/-]", "_", hint) or "v"


class GraphBuilder:
    """Nodes, initializers and value names of one ONNX graph under construction.

    >>> g = GraphBuilder(opset=17)
    >>> w = g.const(np.ones((2, 3), np.float32), "w")
    >>> y = g.node("MatMul", ["x", w])
    >>> len(g.nodes), len(g.initializers), w
    (1, 1, 'w')
    """

    def __init__(self, opset: int = 17) -> None:
        self.opset = int(opset)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._used: set[str] = set()
        self._counter = 0

    def fresh(self, hint: str = "v") -> str:
        """A value name not used yet, built from ``hint``."""
        base = _clean(hint)
        name = base
        while name in self._used:
            self._counter += 1
            name = f"{base}_{self._counter}"
        self._used.add(name)
        return name

    def reserve(self, name: str) -> str:
        """Claim an exact name (graph inputs); a clash is an error."""
        if name in self._used:
            raise ValueError(f"ONNX value name {name!r} is used twice")
        self._used.add(name)
        return name

    def const(self, array: Any, hint: str = "const") -> str:
        """Add ``array`` as an initializer and return its name."""
        onnx = require_onnx()
        name = self.fresh(hint)
        self.initializers.append(onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values: Any, hint: str = "shape") -> str:
        """An int64 1-D initializer (shapes, axes, pads)."""
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), hint)

    def node(self, op_type: str, inputs: list[str], outputs: int = 1, hint: str | None = None,
             **attrs: Any) -> Any:
        """Append one node; returns its output name (or the list of names when ``outputs > 1``)."""
        onnx = require_onnx()
        base = hint or op_type
        outs = [self.fresh(f"{base}_out{i}" if outputs > 1 else base) for i in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(onnx.helper.make_node(op_type, inputs, outs, name=self.fresh(f"node_{base}"), **attrs))
        return outs if outputs > 1 else outs[0]

    def model(self, inputs: list[Any], outputs: list[Any], graph_name: str = "gradlab") -> Any:
        """The finished ``ModelProto``: ``inputs``/``outputs`` are ValueInfoProtos."""
        onnx = require_onnx()
        helper = onnx.helper
        graph = helper.make_graph(self.nodes, graph_name, inputs, outputs, initializer=self.initializers)
        opsets = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="gradlab")
        model.ir_version = helper.find_min_ir_version_for(opsets)
        return model


def save_atomic(model: Any, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` through a temporary file in the same folder (no half-written files).

    >>> import tempfile, pathlib
    >>> onnx = require_onnx()
    >>> g = GraphBuilder()
    >>> y = g.node("Identity", ["x"])
    >>> info = onnx.helper.make_tensor_value_info
    >>> m = g.model([info("x", onnx.TensorProto.FLOAT, [1])], [info(y, onnx.TensorProto.FLOAT, [1])])
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.onnx"
    >>> save_atomic(m, p)
    >>> p.stat().st_size > 0
    True
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file 0600; give it the permissions open() would
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
