"""Every covered module, exported alone: ONNX Runtime gives gradlab's output (1e-5, float32) for two batch sizes."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab import nn
from tests.onnx.common import check_export


def _rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _two(shape: tuple, other_batch: int = 5) -> list[np.ndarray]:
    return [_rand(*shape), _rand(other_batch, *shape[1:], seed=1)]


ACTIVATIONS = [
    nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.GELU(), nn.GELU(approximate="tanh"),
    nn.Softplus(), nn.Softplus(beta=2.0, threshold=1.0), nn.SiLU(), nn.Swish(), nn.Softmax(dim=1),
    nn.LogSoftmax(dim=-1), nn.Identity(), nn.Dropout(0.5), nn.Dropout2d(0.3),
]


@pytest.mark.parametrize("module", ACTIVATIONS, ids=lambda m: repr(m))
def test_activations_and_identities(module):
    check_export(module, [x * 3 for x in _two((3, 4, 6))])


@pytest.mark.parametrize("shape", [(3, 7), (3, 5, 7)], ids=["2d", "3d"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    check_export(nn.Linear(7, 4, bias=bias), _two(shape))


def _trained_norm(module, shape):
    """Give the normalisation layer non-trivial affine parameters and running statistics."""
    rng = np.random.default_rng(3)
    for p in module.parameters():
        p._data[...] = rng.standard_normal(p.shape).astype(np.float32)
    module.train()
    for _ in range(3):
        module(nn.Parameter(_rand(*shape, seed=4) * 2 + 1))
    return module


@pytest.mark.parametrize("module, shape", [
    (nn.BatchNorm1d(6), (4, 6)), (nn.BatchNorm1d(6), (4, 6, 5)), (nn.BatchNorm2d(3), (4, 3, 5, 5)),
    (nn.BatchNorm1d(6, affine=False), (4, 6)), (nn.LayerNorm(6), (4, 6)), (nn.LayerNorm([5, 6]), (4, 3, 5, 6)),
    (nn.LayerNorm(6, elementwise_affine=False), (4, 2, 6)),
], ids=lambda v: repr(v) if isinstance(v, nn.Module) else str(v))
def test_normalisation_in_eval_mode(module, shape):
    check_export(_trained_norm(module, shape), _two(shape))


@pytest.mark.parametrize("module, shape", [
    (nn.Conv1d(3, 4, 3), (2, 3, 10)),
    (nn.Conv1d(4, 6, 5, stride=2, padding=2, dilation=1, groups=2), (2, 4, 11)),
    (nn.Conv2d(1, 6, 5, padding=2), (2, 1, 12, 12)),
    (nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4, bias=False), (2, 4, 9, 9)),
    (nn.Conv2d(2, 3, (3, 2), padding="same", dilation=2), (2, 2, 8, 7)),
    (nn.ConvTranspose2d(3, 2, 3), (2, 3, 5, 5)),
    (nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5, 6)),
    (nn.MaxPool2d(2), (2, 3, 8, 8)),
    (nn.MaxPool2d(3, stride=2, padding=1, dilation=1), (2, 3, 9, 9)),
    (nn.MaxPool2d(3, stride=2, ceil_mode=True), (2, 3, 8, 8)),
    (nn.AvgPool2d(2), (2, 3, 8, 8)),
    (nn.AvgPool2d(3, stride=2, padding=1), (2, 3, 9, 9)),
    (nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 9, 9)),
    (nn.AdaptiveAvgPool2d(1), (2, 3, 7, 7)),
    (nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 8, 9)),
    (nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    (nn.Flatten(), (2, 3, 4, 5)),
    (nn.Flatten(2), (2, 3, 4, 5)),
    (nn.Upsample(scale_factor=2), (2, 3, 4, 5)),
], ids=lambda v: repr(v) if isinstance(v, nn.Module) else str(v))
def test_conv_pool_and_shape_modules(module, shape):
    check_export(module, _two(shape))


def test_embedding_takes_integer_ids_with_dynamic_batch_and_length():
    emb = nn.Embedding(11, 4, padding_idx=0)
    rng = np.random.default_rng(0)
    ids = [rng.integers(0, 11, (3, 6)), rng.integers(0, 11, (5, 9))]
    proto = check_export(emb, ids, dynamic_axes={"input": {0: "batch", 1: "sequence"}})
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", "sequence", 4]


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (1, True), (2, False), (3, True)])
@pytest.mark.parametrize("batch_first", [True, False])
def test_recurrent_layers_all_outputs(cls, num_layers, bidirectional, batch_first):
    rnn = cls(4, 5, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    axis = 0 if batch_first else 1
    shape = (3, 6, 4) if batch_first else (6, 3, 4)
    other = (5, 7, 4) if batch_first else (7, 5, 4)
    proto = check_export(rnn, [_rand(*shape), _rand(*other, seed=1)],
                         dynamic_axes={"input": {axis: "batch", 1 - axis: "time"}})
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count({nn.RNN: "RNN", nn.LSTM: "LSTM", nn.GRU: "GRU"}[cls]) == num_layers


def test_rnn_relu_and_no_bias():
    check_export(nn.RNN(3, 4, nonlinearity="relu", bias=False, bidirectional=True), [_rand(5, 2, 3)],
                 dynamic_axes={"input": {1: "batch"}})
    check_export(nn.GRU(3, 4, num_layers=2, bias=False, batch_first=True), _two((2, 5, 3)))


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_recurrent_initial_states_as_inputs(cls):
    rnn = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True)

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn

        def forward(self, x, h, c):
            out, state = self.rnn(x, (h, c) if cls is nn.LSTM else h)
            return out, state

    model = WithState()
    batches = [(_rand(n, 6, 3, seed=n), _rand(4, n, 4, seed=n + 1), _rand(4, n, 4, seed=n + 2)) for n in (2, 5)]
    check_export(model, batches, input_names=["x", "h0", "c0"],
                 dynamic_axes={"x": {0: "batch"}, "h0": {1: "batch"}, "c0": {1: "batch"}})


@pytest.mark.parametrize("cell", [nn.RNNCell(3, 4), nn.RNNCell(3, 4, nonlinearity="relu", bias=False),
                                  nn.LSTMCell(3, 4), nn.GRUCell(3, 4)], ids=repr)
def test_recurrent_cells_with_and_without_state(cell):
    check_export(cell, _two((2, 3)))
    is_lstm = isinstance(cell, nn.LSTMCell)

    class Step(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell

        def forward(self, x, h, c):
            return self.cell(x, (h, c) if is_lstm else h)

    batches = [(_rand(n, 3, seed=n), _rand(n, 4, seed=n + 1), _rand(n, 4, seed=n + 2)) for n in (2, 5)]
    check_export(Step(), batches, input_names=["x", "h", "c"])
