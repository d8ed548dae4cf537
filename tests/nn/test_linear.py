"""Linear, Identity and Flatten against torch (same weights, same inputs: outputs and all gradients)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradlab
from gradlab import nn
from tests.helpers import assert_close, to_torch
from tests.nn.common import compare_module


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear_matches_torch(torch, dtype, bias, shape) -> None:
    x = np.random.default_rng(1).standard_normal(shape)
    compare_module(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), x, dtype)


def test_linear_default_init_follows_torch() -> None:
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32 and np.abs(p._data).max() <= bound
    # U(-b, b) has std b / sqrt(3)
    assert abs(layer.weight._data.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert nn.Linear(2, 2, bias=False).bias is None
    assert nn.Linear(2, 2, dtype=gradlab.float64).weight.dtype == np.float64


def test_linear_init_is_reproducible_with_manual_seed() -> None:
    gradlab.manual_seed(3)
    a = nn.Linear(5, 5).weight.detach().numpy().copy()
    gradlab.manual_seed(3)
    assert np.array_equal(a, nn.Linear(5, 5).weight._data)


def test_linear_shape_error_names_shapes() -> None:
    with pytest.raises((ValueError, RuntimeError), match=r"\(2, 5\)"):
        nn.Linear(4, 3)(gradlab.zeros(2, 5))


def test_identity_and_flatten(torch) -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    gx = gradlab.tensor(x, requires_grad=True)
    assert nn.Identity()(gx) is gx
    for args in [(), (0,), (1, 2), (2, -1), (0, -2)]:
        out = nn.Flatten(*args)(gx)
        ref = torch.nn.Flatten(*args)(to_torch(x))
        assert out.shape == tuple(ref.shape)
        assert_close(out, ref)
    out = nn.Flatten()(gx)
    out.backward(np.ones(out.shape))
    assert_close(gx.grad, np.ones(x.shape))
