"""nn.init: gains and fans exactly as torch, distribution statistics, bounds, reproducibility, in-place updates."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.nn import init


@pytest.mark.parametrize(
    "name, param",
    [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
     ("leaky_relu", 0.2), ("leaky_relu", 1), ("selu", None), ("conv_transpose3d", None)],
)  # fmt: skip
def test_calculate_gain_matches_torch(torch, name, param) -> None:
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-12)


def test_calculate_gain_errors() -> None:
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swishy")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5), (16, 3, 3, 3), (2, 4, 1, 2, 3)])
def test_fans_match_torch(torch, shape) -> None:
    ours = init._calculate_fan_in_and_fan_out(gradlab.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dims() -> None:
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(gradlab.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(gradlab.empty(3, 3), mode="fan_avg")


BIG = (400, 300)  # fan_in 300, fan_out 400


def _std_close(t, expected, rel=0.03) -> None:
    assert abs(float(t._data.std()) - expected) < rel * expected
    assert abs(float(t._data.mean())) < 3 * expected / math.sqrt(t.numel()) + 1e-3 * expected


def test_uniform_and_normal() -> None:
    t = init.uniform_(gradlab.empty(*BIG), -0.5, 2.0)
    assert t._data.min() >= -0.5 and t._data.max() <= 2.0
    assert abs(float(t._data.mean()) - 0.75) < 0.01
    _std_close(init.normal_(gradlab.empty(*BIG), 0.0, 0.02), 0.02)
    t = init.normal_(gradlab.empty(*BIG), mean=3.0, std=0.5)
    assert abs(float(t._data.mean()) - 3.0) < 0.01 and abs(float(t._data.std()) - 0.5) < 0.015


def test_xavier() -> None:
    std = math.sqrt(2.0 / (300 + 400))
    t = init.xavier_uniform_(gradlab.empty(*BIG), gain=2.0)
    assert np.abs(t._data).max() <= 2.0 * math.sqrt(3.0) * std
    _std_close(t, 2.0 * std)
    _std_close(init.xavier_normal_(gradlab.empty(*BIG)), std)


@pytest.mark.parametrize("mode, fan", [("fan_in", 300), ("fan_out", 400)])
def test_kaiming(mode, fan) -> None:
    t = init.kaiming_uniform_(gradlab.empty(*BIG), mode=mode, nonlinearity="relu")
    std = math.sqrt(2.0) / math.sqrt(fan)
    assert np.abs(t._data).max() <= math.sqrt(3.0) * std
    _std_close(t, std)
    _std_close(init.kaiming_normal_(gradlab.empty(*BIG), a=0.1, mode=mode), math.sqrt(2.0 / 1.01) / math.sqrt(fan))
    conv = init.kaiming_uniform_(gradlab.empty(64, 16, 3, 3), a=math.sqrt(5))
    assert np.abs(conv._data).max() <= 1 / math.sqrt(16 * 9)


def test_trunc_normal() -> None:
    t = init.trunc_normal_(gradlab.empty(*BIG), mean=0.0, std=1.0, a=-2.0, b=2.0)
    assert t._data.min() >= -2.0 and t._data.max() <= 2.0
    assert abs(float(t._data.std()) - 0.8796) < 0.02  # std of N(0, 1) truncated to [-2, 2]
    t = init.trunc_normal_(gradlab.empty(*BIG), mean=1.0, std=0.02, a=0.97, b=1.5)
    assert t._data.min() >= 0.97 and t._data.max() <= 1.5


def test_constant_fills() -> None:
    t = gradlab.empty(3, 4)
    assert np.all(init.zeros_(t)._data == 0)
    assert np.all(init.ones_(t)._data == 1)
    assert np.all(init.constant_(t, 0.25)._data == 0.25)
    assert np.array_equal(init.eye_(t)._data, np.eye(3, 4))


def test_init_in_place_on_parameters_without_grad_and_keeping_dtype() -> None:
    p = nn.Parameter(gradlab.zeros(50, 40, dtype=gradlab.float64))
    data = p._data
    out = init.kaiming_normal_(p)
    assert out is p and p._data is data and p.dtype == np.float64
    assert p.grad_fn is None and p.requires_grad and p._data.std() > 0
    q = nn.Parameter(gradlab.zeros(20, 10))
    init.xavier_uniform_(q)
    assert q.dtype == np.float32


def test_init_is_reproducible_with_manual_seed_and_generator() -> None:
    gradlab.manual_seed(11)
    a = init.xavier_normal_(gradlab.empty(10, 10)).detach().numpy().copy()
    gradlab.manual_seed(11)
    assert np.array_equal(a, init.xavier_normal_(gradlab.empty(10, 10))._data)
    g1, g2 = gradlab.Generator(3), gradlab.Generator(3)
    b = init.uniform_(gradlab.empty(5), generator=g1).detach().numpy().copy()
    assert np.array_equal(b, init.uniform_(gradlab.empty(5), generator=g2)._data)
    assert np.array_equal(init.trunc_normal_(gradlab.empty(5), generator=gradlab.Generator(1))._data,
                          init.trunc_normal_(gradlab.empty(5), generator=gradlab.Generator(1))._data)  # fmt: skip


def test_zero_element_tensors_warn() -> None:
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(gradlab.empty(0, 3))
