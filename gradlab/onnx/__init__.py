"""ONNX export of gradlab models, checked with ONNX Runtime (optional extra ``gradlab[onnx]``: the ``onnx`` package,
imported only when an export runs).

- ``export(model, example_input, path, ...)``: trace one forward pass, write an ONNX graph (``exporter.py``);
- (``gradlab.train.onnx_run.export_run(run_dir, path)`` does it for a ``gradlab train`` run folder);
- the tracer (``tracer.py``), the op exporters (``ops.py``, ``shape_ops.py``) and the module exporters for the
  recurrent layers and embeddings (``recurrent.py``); ``ExportError`` for what ONNX cannot express.

>>> import gradlab, gradlab.onnx
>>> proto = gradlab.onnx.export(gradlab.nn.Linear(3, 2), gradlab.randn(5, 3))
>>> proto.opset_import[0].version
17
"""
from gradlab.onnx._graph import ExportError
from gradlab.onnx.exporter import MIN_OPSET, export

__all__ = ["export", "ExportError", "MIN_OPSET"]
