"""Every op takes its array module from its inputs: the op catalogue, the layers and the optimizers run on a fake
GPU (``tests/fake_cupy.py``) and must keep every output and gradient on that device, with the CPU's values.

A real GPU runs the same comparisons with CuPy in ``tests/gpu/test_cuda.py``.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import gradlab
from gradlab import kernels, nn
from tests.fake_cupy import fake_gpu
from tests.helpers import assert_close
from tests.ops.catalogue import CATALOGUE, OpCase, make_inputs
from tests.ops.device_cases import CASES as DEVICE_CASES
from tests.ops.device_cases import make_case_inputs, run_case


def _rng(*key: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(key).encode()))


def _run(case: OpCase, arrays: list[np.ndarray], g: np.ndarray | None, device: str) -> tuple:
    inputs = [gradlab.tensor(a.copy(), requires_grad=True, device=device) for a in arrays]
    out = case.fn(gradlab, *inputs)
    if g is None:
        return out, None
    out.backward(gradlab.tensor(g, device=device))
    return out, [t.grad for t in inputs]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CATALOGUE])
def test_catalogue_op_stays_on_its_device(case: OpCase) -> None:
    arrays = make_inputs(case, _rng(case.name, "device"))
    out_cpu, _ = _run(case, arrays, None, "cpu")
    g = _rng(case.name, "upstream").standard_normal(tuple(out_cpu.shape))
    out_cpu, grads_cpu = _run(case, arrays, g, "cpu")
    with fake_gpu():
        out, grads = _run(case, arrays, g, "cuda")
        assert str(out.device) == "cuda:0", f"{case.name}: output left the device"
        for i, gr in enumerate(grads):
            assert gr is not None and str(gr.device) == "cuda:0", f"{case.name}: gradient {i} left the device"
        assert_close(out.cpu(), out_cpu)
        for gr, gc in zip(grads, grads_cpu):
            assert_close(gr.cpu(), gc)


def _models() -> dict:
    return {
        "mlp": (lambda: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.0), nn.Linear(8, 3)), (5, 6)),
        "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.Tanh(), nn.MaxPool2d(2),
                                      nn.Conv2d(3, 4, 3, stride=2), nn.AvgPool2d(1), nn.Flatten(),
                                      nn.Linear(4, 3)), (2, 1, 8, 8)),
        "lstm": (lambda: _Recurrent(nn.LSTM(4, 5, num_layers=2, batch_first=True)), (3, 6, 4)),
        "gru": (lambda: _Recurrent(nn.GRU(4, 5, bidirectional=True, batch_first=True)), (3, 6, 4)),
        "rnn": (lambda: _Recurrent(nn.RNN(4, 5, batch_first=True)), (3, 6, 4)),
    }


class _Recurrent(nn.Module):
    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn
        self.head = nn.LayerNorm(rnn.hidden_size * (2 if rnn.bidirectional else 1))

    def forward(self, x: gradlab.Tensor) -> gradlab.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def _train(make, shape, device: str, opt_name: str) -> tuple:
    gradlab.manual_seed(0)
    model = make().double().to(device)
    opt = {"adam": lambda p: gradlab.optim.Adam(p, lr=0.01, weight_decay=0.01),
           "sgd": lambda p: gradlab.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
           "rmsprop": lambda p: gradlab.optim.RMSprop(p, lr=0.01, centered=True),
           "adagrad": lambda p: gradlab.optim.Adagrad(p, lr=0.05)}[opt_name](model.parameters())
    rng = np.random.default_rng(1)
    x = gradlab.tensor(rng.standard_normal(shape), device=device)
    y = gradlab.tensor(rng.integers(0, 3, shape[0]), device=device)
    losses = []
    for _ in range(3):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses


@pytest.mark.parametrize("opt_name", ["adam", "sgd", "rmsprop", "adagrad"])
@pytest.mark.parametrize("name", list(_models()))
def test_training_on_the_device_matches_the_cpu(name: str, opt_name: str) -> None:
    make, shape = _models()[name]
    # the device path is NumPy's code; compare with the CPU's NumPy path (the numba BatchNorm sums in another
    # order, and Adagrad/RMSprop turn the ~1e-17 noise of the pre-BatchNorm conv bias's gradient into full steps)
    with kernels.use("numpy"):
        model_cpu, losses_cpu = _train(make, shape, "cpu", opt_name)
    with fake_gpu():
        model, losses = _train(make, shape, "cuda", opt_name)
        for (k, p), (_, pc) in zip(model.state_dict().items(), model_cpu.state_dict().items()):
            assert str(p.device) == "cuda:0", f"{k} left the device"
            assert_close(p.cpu(), pc, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(losses, losses_cpu, rtol=1e-10)


def test_dropout_draws_on_the_device() -> None:
    with fake_gpu():
        x = gradlab.ones(1000, device="cuda", requires_grad=True)
        y = nn.functional.dropout(x, 0.5, training=True)
        y.sum().backward()
        assert str(y.device) == "cuda:0" and str(x.grad.device) == "cuda:0"
        kept = y.detach().cpu().numpy() != 0
        assert 400 < kept.sum() < 600
        np.testing.assert_array_equal(x.grad.cpu().numpy(), np.where(kept, 2.0, 0.0))


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in DEVICE_CASES])
def test_layer_op_stays_on_its_device(case: tuple) -> None:
    floats, ints = make_case_inputs(case, _rng(case[0], "layer"))
    out_cpu, _ = run_case(case, floats, ints, None, "cpu")
    g = _rng(case[0], "upstream").standard_normal(tuple(out_cpu.shape))
    out_cpu, grads_cpu = run_case(case, floats, ints, g, "cpu")
    with fake_gpu():
        out, grads = run_case(case, floats, ints, g, "cuda")
        assert str(out.device) == "cuda:0", f"{case[0]}: output left the device"
        for i, (gr, gc) in enumerate(zip(grads, grads_cpu)):
            assert (gr is None) == (gc is None), f"{case[0]}: gradient {i}"
            if gr is not None:
                assert str(gr.device) == "cuda:0", f"{case[0]}: gradient {i} left the device"
                assert_close(gr.cpu(), gc)
        assert_close(out.cpu(), out_cpu)
