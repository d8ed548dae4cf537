"""Shared helpers for the ONNX tests: export a gradlab model, run the file in ONNX Runtime, compare with gradlab."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import gradlab  # noqa: E402
import gradlab.onnx  # noqa: E402
from tests.helpers import assert_close  # noqa: E402

__all__ = ["session", "run_session", "check_export", "outputs_of", "TOL"]

TOL = {"rtol": 1e-5, "atol": 1e-5}  # float32


def session(proto: Any) -> Any:
    """An ONNX Runtime session (CPU, one thread) for a ModelProto or serialized bytes."""
    data = proto if isinstance(proto, bytes) else proto.SerializeToString()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def run_session(sess: Any, *inputs: np.ndarray) -> list[np.ndarray]:
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, {n: np.asarray(x) for n, x in zip(names, inputs)})


def outputs_of(out: Any) -> list[np.ndarray]:
    """gradlab's (possibly nested) outputs as a flat list of arrays."""
    if isinstance(out, gradlab.Tensor):
        return [out._data]
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in outputs_of(o)]
    return []


def check_export(model: Any, batches: list, **kwargs: Any) -> Any:
    """Export on ``batches[0]`` and check ONNX Runtime against gradlab on every batch (each an array or a tuple of
    arrays); the ONNX checker must pass. Returns the ModelProto."""
    first = batches[0] if isinstance(batches[0], tuple) else (batches[0],)
    proto = gradlab.onnx.export(model, first, **kwargs)
    onnx.checker.check_model(proto, full_check=True)
    sess = session(proto)
    model.eval()
    for batch in batches:
        batch = batch if isinstance(batch, tuple) else (batch,)
        with gradlab.no_grad():
            want = outputs_of(model(*[gradlab.tensor(b) for b in batch]))
        got = run_session(sess, *batch)
        assert len(got) == len(want)
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.shape == w.shape, f"output {k}: shape {g.shape}, gradlab {w.shape}"
            assert g.dtype == w.dtype, f"output {k}: dtype {g.dtype}, gradlab {w.dtype}"
            assert_close(g, w, **TOL, msg=f"output {k} for inputs of shape {[b.shape for b in batch]}")
    return proto
