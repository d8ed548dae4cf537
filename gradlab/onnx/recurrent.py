"""Module exporters for ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` (as ONNX's own RNN/LSTM/GRU ops, one per layer, both
directions in one op), their cells (the same ops over a one-step sequence) and ``nn.Embedding`` (a Gather).

Gate orders differ: gradlab/torch stack the LSTM's gates i, f, g, o and ONNX i, o, f, c; the GRU's r, z, n become
ONNX's z, r, h, with ``linear_before_reset=1`` (torch's GRU applies the reset gate after the hidden product).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.nn.embedding import Embedding
from gradlab.nn.recurrent import GRUCell, LSTMCell, RNNBase, RNNCellBase
from gradlab.onnx._graph import ExportError
from gradlab.onnx.tracer import flat_tensors

__all__ = ["module_exporters", "GATE_ORDER"]

#: For each mode, the order in which gradlab's gate blocks are stacked in ONNX's weights.
GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _reorder(a: np.ndarray, mode: str, hidden: int) -> np.ndarray:
    blocks = [a[k * hidden:(k + 1) * hidden] for k in GATE_ORDER[mode]]
    return np.concatenate(blocks, axis=0)


def _layer_weights(rnn: RNNBase, layer: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W (D, G*H, I), R (D, G*H, H), B (D, 2*G*H) in ONNX's gate order."""
    H, mode = rnn.hidden_size, rnn.mode
    Ws, Rs, Bs = [], [], []
    for d in range(2 if rnn.bidirectional else 1):
        w_ih, w_hh, b_ih, b_hh = rnn._layer_weights(layer, d)
        Ws.append(_reorder(w_ih._data, mode, H))
        Rs.append(_reorder(w_hh._data, mode, H))
        if b_ih is None:
            Bs.append(np.zeros(2 * w_ih.shape[0], dtype=w_ih.dtype))
        else:
            Bs.append(np.concatenate([_reorder(b_ih._data, mode, H), _reorder(b_hh._data, mode, H)]))
    return np.stack(Ws), np.stack(Rs), np.stack(Bs)


def _state_slice(tr: Any, state: Any, start: int, stop: int) -> str:
    g = tr.g
    return g.node("Slice", [tr.name(state), g.ints([start]), g.ints([stop]), g.ints([0], "axes")])


def _attrs(mode: str, hidden: int, directions: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {"hidden_size": hidden, "direction": "bidirectional" if directions == 2 else "forward"}
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    elif mode in ("RNN_TANH", "RNN_RELU"):
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * directions
    return attrs


def _rnn_node(tr: Any, mode: str, seq: str, weights: tuple, states: list, base: str, attrs: dict) -> list[str]:
    """One ONNX RNN/LSTM/GRU node: outputs Y (T, D, N, H), Y_h (D, N, H) and, for the LSTM, Y_c."""
    g = tr.g
    W, R, B = weights
    ins = [seq, g.const(W, f"{base}.W"), g.const(R, f"{base}.R"), g.const(B, f"{base}.B"), ""]
    ins.append("" if states[0] is None else states[0])
    if mode == "LSTM":
        ins.append("" if states[1] is None else states[1])
    while ins[-1] == "":
        ins.pop()
    n_out = 3 if mode == "LSTM" else 2
    return g.node(_OP[mode], ins, outputs=n_out, hint=f"{base}/{_OP[mode]}", **attrs)


def _export_cell(tr: Any, c: Any) -> None:
    """``RNNCell``/``LSTMCell``/``GRUCell``: a one-step sequence through the layer op."""
    cell = c.target
    g = tr.g
    mode = "LSTM" if isinstance(cell, LSTMCell) else "GRU" if isinstance(cell, GRUCell) else (
        "RNN_TANH" if getattr(cell, "nonlinearity", "tanh") == "tanh" else "RNN_RELU")
    x = c.args[0] if c.args else c.kwargs["input"]
    hx = c.args[1] if len(c.args) > 1 else c.kwargs.get("hx")
    if x.ndim != 2 or not tr.traced(x):
        raise ExportError(f"{type(cell).__name__} in {c.path}: only batched (2-D) inputs from the model's inputs "
                          f"are exportable")
    h, cc = (hx if hx is not None else (None, None)) if mode == "LSTM" else (hx, None)
    H = cell.hidden_size
    W, R = _reorder(cell.weight_ih._data, mode, H)[None], _reorder(cell.weight_hh._data, mode, H)[None]
    if cell.bias_ih is None:
        B = np.zeros((1, 2 * W.shape[1]), dtype=W.dtype)
    else:
        B = np.concatenate([_reorder(cell.bias_ih._data, mode, H), _reorder(cell.bias_hh._data, mode, H)])[None]
    axis0 = g.ints([0], "axes")
    states = [None if s is None else g.node("Unsqueeze", [tr.name(s), axis0]) for s in (h, cc)]
    seq = g.node("Unsqueeze", [tr.name(x), axis0])
    outs = _rnn_node(tr, mode, seq, (W, R, B), states, c.path, _attrs(mode, H, 1))
    results = [g.node("Squeeze", [o, axis0], hint=f"{c.path}/{type(cell).__name__}") for o in outs[1:]]
    for t, name in zip(flat_tensors(c.out), results):
        tr.bind(t, name)


def _export_rnn(tr: Any, c: Any) -> None:
    rnn: RNNBase = c.target
    g = tr.g
    x = c.args[0] if c.args else c.kwargs["input"]
    hx = c.args[1] if len(c.args) > 1 else c.kwargs.get("hx")
    if x.ndim != 3:
        raise ExportError(f"{type(rnn).__name__} in {c.path}: only batched (3-D) inputs are exportable")
    if not tr.traced(x):
        raise ExportError(f"{type(rnn).__name__} in {c.path}: the sequence input must come from the model's inputs")
    mode, H, D = rnn.mode, rnn.hidden_size, 2 if rnn.bidirectional else 1
    h0, c0 = (hx if hx is not None else (None, None)) if mode == "LSTM" else (hx, None)
    seq = tr.name(x)
    if rnn.batch_first:
        seq = g.node("Transpose", [seq], perm=[1, 0, 2])
    hs, cs = [], []
    attrs = _attrs(mode, H, D)
    for layer in range(rnn.num_layers):
        W, R, B = _layer_weights(rnn, layer)
        states = [None if s is None else _state_slice(tr, s, layer * D, (layer + 1) * D) for s in (h0, c0)]
        outs = _rnn_node(tr, mode, seq, (W, R, B), states, f"{c.path}.l{layer}", attrs)
        y = outs[0]  # (T, D, N, H)
        if D == 1:
            seq = g.node("Squeeze", [y, g.ints([1], "axes")])
        else:
            seq = g.node("Reshape", [g.node("Transpose", [y], perm=[0, 2, 1, 3]), g.ints([0, 0, -1])])
        hs.append(outs[1])
        if mode == "LSTM":
            cs.append(outs[2])
    out = g.node("Transpose", [seq], perm=[1, 0, 2]) if rnn.batch_first else seq
    h_n = hs[0] if len(hs) == 1 else g.node("Concat", hs, axis=0)
    results = [out, h_n] + ([cs[0] if len(cs) == 1 else g.node("Concat", cs, axis=0)] if mode == "LSTM" else [])
    tensors = flat_tensors(c.out)
    for t, name in zip(tensors, results):
        tr.bind(t, g.node("Identity", [name], hint=f"{c.path}/{type(rnn).__name__}"))


def _export_embedding(tr: Any, c: Any) -> None:
    emb: Embedding = c.target
    ids = c.args[0] if c.args else c.kwargs["input"]
    if not tr.traced(ids):
        raise ExportError(f"Embedding in {c.path}: the indices must come from the model's inputs")
    if emb.max_norm is not None:
        raise ExportError(
            f"Embedding in {c.path} has max_norm={emb.max_norm}: it renormalises the rows it looks up at every call, "
            f"which an ONNX Gather cannot do; renormalise the weights once and set max_norm=None before exporting"
        )
    tr.bind(c.out, tr.g.node("Gather", [tr.name(emb.weight), tr.name(ids)], hint=f"{c.path}/Embedding", axis=0))


def module_exporters() -> dict[type, Callable]:
    """``{Module class: exporter(tracer, call)}``: modules exported whole (their inner ops are not traced).

    >>> from gradlab import nn
    >>> sorted(cls.__name__ for cls in module_exporters())
    ['Embedding', 'RNNBase', 'RNNCellBase']
    """
    return {RNNBase: _export_rnn, RNNCellBase: _export_cell, Embedding: _export_embedding}
