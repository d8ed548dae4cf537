"""The same architecture with the same weights, exported by ``torch.onnx.export`` (TorchScript exporter,
``dynamo=False``) and by gradlab: ONNX Runtime gives the same outputs for both files."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import gradlab
import gradlab.onnx
from gradlab.models import MLP, LeNet5, SequenceClassifier
from tests.onnx.common import TOL, run_session, session


def _torch_lenet(torch):
    tn = torch.nn

    class LeNet5T(tn.Module):
        def __init__(self):
            super().__init__()
            self.features = tn.Sequential(tn.Conv2d(1, 6, 5, padding=2), tn.ReLU(), tn.MaxPool2d(2),
                                          tn.Conv2d(6, 16, 5), tn.ReLU(), tn.MaxPool2d(2))
            self.classifier = tn.Sequential(tn.Flatten(), tn.Linear(400, 120), tn.ReLU(), tn.Linear(120, 84),
                                            tn.ReLU(), tn.Linear(84, 10))

        def forward(self, x):
            return self.classifier(self.features(x))

    return LeNet5T()


def _torch_mlp(torch):
    tn = torch.nn
    return tn.Sequential(tn.Flatten(), tn.Linear(784, 64), tn.ReLU(), tn.Linear(64, 32), tn.ReLU(), tn.Linear(32, 10))


def _torch_seq(torch, cell, bidirectional):
    tn = torch.nn

    class SeqT(tn.Module):
        def __init__(self):
            super().__init__()
            rnn = {"lstm": tn.LSTM, "gru": tn.GRU}[cell]
            self.rnn = rnn(28, 16, num_layers=2, batch_first=True, bidirectional=bidirectional)
            self.fc = tn.Linear(16 * (2 if bidirectional else 1), 10)

        def forward(self, x):
            x = x.reshape(x.shape[0], 28, 28)
            _, h_n = self.rnn(x)
            if isinstance(h_n, tuple):
                h_n = h_n[0]
            last = torch.cat([h_n[-2], h_n[-1]], 1) if bidirectional else h_n[-1]
            return self.fc(last)

    return SeqT()


def _torch_file(torch, model, example):
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.from_numpy(example),), buf, dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    return buf.getvalue()


CASES = {
    "mlp": (lambda: MLP(hidden=(64, 32)), _torch_mlp),
    "lenet5": (LeNet5, _torch_lenet),
    "lstm": (lambda: SequenceClassifier(hidden_size=16, num_layers=2),
             lambda torch: _torch_seq(torch, "lstm", False)),
    "bi-gru": (lambda: SequenceClassifier(hidden_size=16, num_layers=2, bidirectional=True, cell="gru"),
               lambda torch: _torch_seq(torch, "gru", True)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_torch_and_gradlab_exports_agree(torch, name):
    make_gradlab, make_torch = CASES[name]
    model = make_gradlab()
    tmodel = make_torch(torch)
    tmodel.load_state_dict({k: torch.from_numpy(np.array(v._data)) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(0)
    example = rng.standard_normal((2, 1, 28, 28)).astype(np.float32)
    try:
        torch_file = _torch_file(torch, tmodel, example)
    except Exception as e:  # pragma: no cover - depends on the installed torch
        pytest.skip(f"torch.onnx.export does not work here: {e}")
    ours, theirs = session(gradlab.onnx.export(model, example)), session(torch_file)
    for n in (1, 7):
        x = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
        (a,), (b,) = run_session(ours, x), run_session(theirs, x)
        np.testing.assert_allclose(a, b, **TOL)
        with torch.no_grad():
            np.testing.assert_allclose(a, tmodel(torch.from_numpy(x)).numpy(), **TOL)
