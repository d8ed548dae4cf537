"""Every activation module against torch: outputs and input gradients in float64 and float32, reprs, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn
from tests.helpers import assert_close, to_torch
from tests.nn.common import tol

# (gradlab module, torch module factory, name)
CASES = [
    (lambda: nn.Sigmoid(), lambda t: t.nn.Sigmoid(), "Sigmoid"),
    (lambda: nn.Tanh(), lambda t: t.nn.Tanh(), "Tanh"),
    (lambda: nn.ReLU(), lambda t: t.nn.ReLU(), "ReLU"),
    (lambda: nn.LeakyReLU(), lambda t: t.nn.LeakyReLU(), "LeakyReLU"),
    (lambda: nn.LeakyReLU(0.2), lambda t: t.nn.LeakyReLU(0.2), "LeakyReLU0.2"),
    (lambda: nn.ELU(), lambda t: t.nn.ELU(), "ELU"),
    (lambda: nn.ELU(alpha=0.5), lambda t: t.nn.ELU(alpha=0.5), "ELU0.5"),
    (lambda: nn.GELU(), lambda t: t.nn.GELU(), "GELU"),
    (lambda: nn.GELU("tanh"), lambda t: t.nn.GELU("tanh"), "GELUtanh"),
    (lambda: nn.Softplus(), lambda t: t.nn.Softplus(), "Softplus"),
    (lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda t: t.nn.Softplus(beta=2.0, threshold=3.0), "Softplus2"),
    (lambda: nn.SiLU(), lambda t: t.nn.SiLU(), "SiLU"),
    (lambda: nn.Softmax(dim=1), lambda t: t.nn.Softmax(dim=1), "Softmax1"),
    (lambda: nn.Softmax(dim=-1), lambda t: t.nn.Softmax(dim=-1), "Softmax-1"),
    (lambda: nn.LogSoftmax(dim=1), lambda t: t.nn.LogSoftmax(dim=1), "LogSoftmax1"),
    (lambda: nn.LogSoftmax(dim=0), lambda t: t.nn.LogSoftmax(dim=0), "LogSoftmax0"),
]
IDS = [c[2] for c in CASES]


def _input(dtype) -> np.ndarray:
    x = np.random.default_rng(0).standard_normal((4, 5, 3)) * 3
    x[0, 0, 0] = 25.0  # beyond softplus' threshold
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_activation_matches_torch(torch, case, dtype) -> None:
    make, make_torch, _ = case
    x = _input(dtype)
    gx, tx = gradlab.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    gy, ty = make()(gx), make_torch(torch)(tx)
    assert gy.dtype == dtype
    assert_close(gy, ty, **tol(dtype))
    up = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    gy.backward(up)
    ty.backward(to_torch(up))
    assert_close(gx.grad, tx.grad, **tol(dtype))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_activation_repr_matches_torch(torch, case) -> None:
    make, make_torch, _ = case
    assert repr(make()) == repr(make_torch(torch))


def test_inplace_flags_in_repr(torch) -> None:
    for g, t in [(nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
                 (nn.LeakyReLU(inplace=True), torch.nn.LeakyReLU(inplace=True)),
                 (nn.ELU(inplace=True), torch.nn.ELU(inplace=True)),
                 (nn.SiLU(inplace=True), torch.nn.SiLU(inplace=True))]:  # fmt: skip
        assert repr(g) == repr(t)


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
def test_swish_is_x_sigmoid_beta_x(torch, beta) -> None:
    x = _input(np.float64)
    gx, tx = gradlab.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    gy, ty = nn.Swish(beta)(gx), tx * torch.sigmoid(beta * tx)
    assert_close(gy, ty, **tol(np.float64))
    gy.sum().backward()
    ty.sum().backward()
    assert_close(gx.grad, tx.grad, **tol(np.float64))
    assert repr(nn.Swish(beta)) == f"Swish(beta={beta})"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_activation_gradcheck(case) -> None:
    x = gradlab.tensor(np.random.default_rng(2).standard_normal((2, 3)), requires_grad=True)
    assert gradlab.gradcheck(case[0](), (x,))


def test_gelu_rejects_unknown_approximation() -> None:
    with pytest.raises(ValueError):
        nn.GELU("fast")
