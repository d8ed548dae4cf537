"""``export_run(run_dir, path)``: the model of a finished ``gradlab train`` run folder as an ONNX file (what
``gradlab export RUN --onnx model.onnx`` calls). It lives in the train layer because it rebuilds the model the way
``gradlab evaluate`` does (``gradlab.train.experiment.load_run_model``, ``gradlab.train.charlm.load_charlm``);
the export itself is ``gradlab.onnx.export``."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from gradlab.onnx import export

__all__ = ["export_run"]


def export_run(run_dir: str | os.PathLike, path: str | os.PathLike, data_dir: str | None = None,
               opset: int = 17) -> Any:
    """Rebuild a run's model from ``config.json`` + ``weights.safetensors`` (as ``gradlab evaluate`` does) and export
    it to ``path`` with a dynamic batch axis. Image models take ``input`` (batch, C, H, W) float32; a ``charlstm``
    run takes ``input`` (batch, seq_len) int64 character ids, the sequence axis dynamic too; a ``transformer`` run
    takes ``input`` (batch, context) int64 ids, the sequence axis fixed at the trained context. Returns the
    ``onnx.ModelProto``.

    >>> import tempfile, pathlib
    >>> export_run(tempfile.mkdtemp(), "model.onnx")
    Traceback (most recent call last):
    ...
    FileNotFoundError: ... no config.json (is this a finished 'gradlab train' run folder?)
    """
    run = Path(run_dir)
    if not (run / "config.json").is_file():
        raise FileNotFoundError(f"{run}: no config.json (is this a finished 'gradlab train' run folder?)")
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    from gradlab.train.charlm import TEXT_MODELS, load_charlm

    if config.get("model") in TEXT_MODELS:
        model, _, config = load_charlm(run)
        if config["model"] == "transformer":  # the causal mask and positions are traced for one length
            example = np.zeros((2, int(config["model_kwargs"]["context"])), dtype=np.int64)
            axes = {"input": {0: "batch"}}
        else:
            example = np.zeros((2, int(config.get("seq_len", 16))), dtype=np.int64)
            axes = {"input": {0: "batch", 1: "sequence"}}
        return export(model, example, path, input_names=["input"], output_names=["logits"], dynamic_axes=axes,
                      opset=opset)
    from gradlab.train.experiment import load_dataset, load_run_model

    model, config = load_run_model(run, data_dir)
    _, _, info = load_dataset(config["dataset"], train=False, root=data_dir, limit=1)
    example = np.zeros((2, *info["input_shape"]), dtype=np.float32)
    return export(model, example, path, input_names=["input"], output_names=["logits"], opset=opset)
