"""The glue a forward does with tensor ops, the tracer's rules (folding, dynamic sizes), and clear errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gradlab
import gradlab.onnx
from gradlab import nn
from gradlab.nn import functional as F
from gradlab.onnx import ExportError
from tests.onnx.common import check_export, onnx, run_session, session


def _rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.w = nn.Parameter(_rand(4, 4, seed=7))

    def forward(self, *xs):
        return self.fn(self, *xs)


GLUE = {
    "view-flatten": lambda m, x: x.view(x.shape[0], -1),
    "reshape-merge-batch": lambda m, x: x.reshape(-1, 4).relu().reshape(x.shape[0], 3, 4),
    "reshape-split-last": lambda m, x: x.reshape(x.shape[0], 3, 2, 2),
    "flatten-middle": lambda m, x: x.unsqueeze(1).flatten(2),
    "permute-transpose": lambda m, x: x.permute(2, 0, 1).transpose(0, 2),
    "add-mul-sub-div": lambda m, x: (x + 1.5) * x - x / 2.0 - 3.0 * x,
    "pow-neg-abs": lambda m, x: -(x ** 2) + abs(x),
    "exp-log-sqrt": lambda m, x: (x.abs() + 1).log() + x.exp() + (x * x + 1).sqrt(),
    "sin-cos": lambda m, x: x.sin() * x.cos(),
    "matmul-param": lambda m, x: x @ m.w,
    "matmul-batched": lambda m, x: x @ x.transpose(1, 2),
    "functions": lambda m, x: F.relu(x) + F.tanh(x) + F.sigmoid(x) + F.leaky_relu(x) + F.elu(x) + F.silu(x),
    "softmax-logsoftmax": lambda m, x: F.softmax(x, dim=-1) + x.log_softmax(1),
    "getitem-int-slices": lambda m, x: x[:, -1, :2] + x[:, 0, 1:3],
    "getitem-step-none-ellipsis": lambda m, x: x[:, ::2, None][..., 1],
    "getitem-negative-stop": lambda m, x: x[:, 1:-1],
    "getitem-array": lambda m, x: x[:, [2, 0]],
    "cat-stack": lambda m, x: gradlab.cat([x, x * 2], 1) .sum(1) + gradlab.stack([x, x], 0).mean(0).sum(1),
    "reductions": lambda m, x: x.sum(-1, keepdim=True) + x.mean(1, keepdim=True) + x.amax(-1, keepdim=True)
    + x.max(1, keepdim=True)[0] + x.min(2, keepdim=True)[0] + x.logsumexp(2, keepdim=True) + x.max() + x.sum(),
    "squeeze-unsqueeze": lambda m, x: x.unsqueeze(-1).unsqueeze(1).squeeze(-1).squeeze(),
    "expand-repeat": lambda m, x: x[:, :1, :].expand(-1, 3, 4) + x.repeat(1, 1, 2)[..., :4],
    "clamp-maximum-where": lambda m, x: x.clamp(-0.5, 0.5) + x.clamp(min=0.1) + x.maximum(x * 0.3)
    + x.minimum(m.w[0]) + gradlab.where(m.w[0] > 0, x, x * 0.1),
    "pad": lambda m, x: F.pad(x, (1, 2)) [..., :4] + F.pad(x, (1, 1, 0, 0), mode="replicate")[..., 1:5],
    "cast-clone": lambda m, x: x.double().float().clone(),
    "gelu-softplus": lambda m, x: F.gelu(x) + F.softplus(x, beta=2.0),
    "constant-folding": lambda m, x: x @ (m.w.t() * 2).exp() + m.w.sum(),
}


@pytest.mark.parametrize("name", list(GLUE))
def test_glue_ops_match_gradlab(name):
    check_export(Lambda(GLUE[name]), [_rand(2, 3, 4), _rand(5, 3, 4, seed=1)])


def test_constants_are_folded_into_initializers():
    proto = gradlab.onnx.export(Lambda(GLUE["constant-folding"]), _rand(2, 3, 4))
    assert [n.op_type for n in proto.graph.node] == ["MatMul", "Add", "Identity"]


def test_weights_are_named_initializers_and_batch_is_dynamic():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    proto = gradlab.onnx.export(model, _rand(2, 4))
    assert {i.name for i in proto.graph.initializer} == {"0.weight", "0.bias"}
    for value in (proto.graph.input[0], proto.graph.output[0]):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.opset_import[0].version == 17


def test_names_paths_and_atomic_write(tmp_path):
    path = tmp_path / "m.onnx"
    gradlab.onnx.export(nn.Linear(4, 3), _rand(2, 4), path, input_names=["x"], output_names=["y"])
    loaded = onnx.load(str(path))
    assert [i.name for i in loaded.graph.input] == ["x"] and [o.name for o in loaded.graph.output] == ["y"]
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]
    (tmp_path / "plain").write_bytes(b"")
    assert path.stat().st_mode == (tmp_path / "plain").stat().st_mode
    (out,) = run_session(session(loaded), _rand(7, 4))
    (tmp_path / "plain").unlink()
    assert out.shape == (7, 3)


def test_output_axes_follow_the_inputs_or_the_given_labels():
    model = Lambda(lambda m, x: (x.sum(1), x.transpose(0, 2)))
    proto = gradlab.onnx.export(model, _rand(2, 3, 4), dynamic_axes={"input": {0: "n"}, "output_1": {2: "rows"}})
    shapes = [[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in proto.graph.output]
    assert shapes == [["n", 4], [4, 3, "rows"]]


def test_float64_models():
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh()).double()
    x = np.random.default_rng(0).standard_normal((2, 4))
    proto = check_export(model, [x, x[:1]])
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_static_shapes_with_empty_dynamic_axes():
    proto = gradlab.onnx.export(nn.Linear(4, 3), _rand(2, 4), dynamic_axes={})
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [2, 4]


@pytest.mark.parametrize("opset", [17, 18, 20])
def test_newer_opsets(opset):
    proto = check_export(Lambda(lambda m, x: F.gelu(x).mean(1) + x.sum(1)), [_rand(2, 3, 4), _rand(4, 3, 4)],
                         opset=opset)
    assert proto.opset_import[0].version == opset


def test_model_and_submodules_stay_in_their_modes():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    model.train()
    model[1].eval()
    gradlab.onnx.export(model, _rand(2, 4))
    assert [m.training for m in model.modules()] == [True, True, False, True]


def test_a_model_that_needs_a_fixed_size_on_a_dynamic_axis():
    model = Lambda(lambda m, x: x.reshape(x.shape[0], 2, 2) if x.shape[1] == 4 else x.sum(1))
    with pytest.raises(ExportError, match="different path"):
        gradlab.onnx.export(model, _rand(2, 4), dynamic_axes={"input": [0, 1]})
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    with pytest.raises(ExportError, match="fails on inputs one longer"):
        gradlab.onnx.export(model, _rand(2, 3, 4), dynamic_axes={"input": {0: "batch", 2: "width"}})


def test_unsupported_op_names_op_and_module_path():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 4), Lambda(lambda m, x: x.var(1)))

        def forward(self, x):
            return self.body(x)

    with pytest.raises(ExportError, match=r"no ONNX exporter for op gradlab\.ops\.reduce\.Var .*module body\.1"):
        gradlab.onnx.export(Net(), _rand(2, 4))


def test_recurrent_layer_op_outside_its_module_names_the_op():
    from gradlab.ops.recurrent import rnn_layer

    lstm = nn.LSTM(3, 4)
    model = Lambda(lambda m, x: rnn_layer("LSTM", x, None, None, *lstm._layer_weights(0, 0))[0])
    with pytest.raises(ExportError, match="LSTMLayer"):
        gradlab.onnx.export(model, _rand(5, 2, 3), dynamic_axes={})


def test_batch_dependent_constant_is_an_error():
    model = Lambda(lambda m, x: x + gradlab.ones(x.shape[0], 4))
    with pytest.raises(ExportError, match=r"shape \(2, 4\) made inside forward"):
        gradlab.onnx.export(model, _rand(2, 4))
    check_export(model, [_rand(2, 4)], dynamic_axes={})  # fine with fixed sizes



@pytest.mark.parametrize("fn", [lambda m, x: gradlab.where(x > 0, x, x * 0.1), lambda m, x: x * (x.sum() > 0),
                                lambda m, x: x[:, x.argmax(1)[0]]])
def test_comparisons_and_argmax_on_traced_tensors_are_errors(fn):
    with pytest.raises(ExportError, match="comparison|argmax"):
        gradlab.onnx.export(Lambda(fn), _rand(2, 4), dynamic_axes={})


def test_in_place_ops_follow_the_new_value():
    def fn(m, x):
        y = x * 2
        y += 1
        F.relu_(y)
        y.mul_(x)
        return y

    check_export(Lambda(fn), [_rand(2, 3, 4), _rand(4, 3, 4, seed=1)])
    check_export(nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True), nn.Linear(4, 2)), [_rand(2, 4), _rand(5, 4)])


def test_item_assignment_on_traced_tensors_is_an_error():
    def fn(m, x):
        y = x * 1
        y[:, 0] = 0.0
        return y

    with pytest.raises(ExportError, match="item assignment"):
        gradlab.onnx.export(Lambda(fn), _rand(2, 4))


def test_training_mode_ops_and_options_are_errors():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ExportError, match="training=True"):
        gradlab.onnx.export(Lambda(lambda m, x: F.batch_norm(x, bn.running_mean, bn.running_var, training=True)),
                            _rand(3, 4))
    with pytest.raises(ExportError, match="return_indices"):
        gradlab.onnx.export(Lambda(lambda m, x: F.max_pool2d(x, 2, return_indices=True)[0]), _rand(1, 2, 4, 4))
    with pytest.raises(ExportError, match="divisor_override"):
        gradlab.onnx.export(nn.AvgPool2d(2, divisor_override=3), _rand(1, 2, 4, 4))
    with pytest.raises(ExportError, match="max_norm"):
        gradlab.onnx.export(nn.Embedding(5, 3, max_norm=1.0), np.array([[1, 2]]))
    with pytest.raises(ExportError, match="only batched"):
        gradlab.onnx.export(nn.GRU(3, 4), _rand(5, 3), dynamic_axes={})


def test_bad_arguments():
    with pytest.raises(ValueError, match="opset"):
        gradlab.onnx.export(nn.Linear(2, 2), _rand(1, 2), opset=13)
    with pytest.raises(TypeError, match="nn.Module"):
        gradlab.onnx.export(lambda x: x, _rand(1, 2))
    with pytest.raises(TypeError, match="example_input"):
        gradlab.onnx.export(nn.Linear(2, 2), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="input_names"):
        gradlab.onnx.export(nn.Linear(2, 2), _rand(1, 2), input_names=["a", "b"])
    with pytest.raises(ValueError, match="neither an input nor an output"):
        gradlab.onnx.export(nn.Linear(2, 2), _rand(1, 2), dynamic_axes={"nope": [0]})
    with pytest.raises(ExportError, match="does not depend on the inputs"):
        gradlab.onnx.export(Lambda(lambda m, x: m.w * 2), _rand(1, 2))


def test_import_gradlab_does_not_import_onnx():
    code = "import sys, gradlab, gradlab.onnx; assert 'onnx' not in sys.modules, 'onnx imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_onnx_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'gradlab\[onnx\]'"):
        gradlab.onnx.export(nn.Linear(2, 2), _rand(1, 2))
