"""nn.utils: gradient clipping against torch, L1/L2 penalties, parameters <-> vector; and the package's surface."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.nn import utils
from tests.helpers import assert_close, to_torch


def _params_with_grads(torch, dtype, scale):
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3,), (2, 2, 2)]
    grads = [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]
    g_params, t_params = [], []
    for s, g in zip(shapes, grads):
        p = nn.Parameter(gradlab.zeros(*s, dtype=dtype))
        p.grad = gradlab.tensor(g.copy())
        g_params.append(p)
        tp = torch.nn.Parameter(torch.zeros(*s, dtype=to_torch(g).dtype))
        tp.grad = to_torch(g)
        t_params.append(tp)
    return g_params, t_params


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale, max_norm", [(1.0, 0.5), (0.01, 10.0)])  # clipped, untouched
def test_clip_grad_norm_matches_torch(torch, dtype, norm_type, scale, max_norm) -> None:
    gp, tp = _params_with_grads(torch, dtype, scale)
    total = utils.clip_grad_norm_(gp, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    assert isinstance(total, gradlab.Tensor) and total.shape == () and total.dtype == dtype
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    assert_close(total, t_total, rtol=rtol, atol=0)
    for a, b in zip(gp, tp):
        assert_close(a.grad, b.grad, rtol=rtol, atol=1e-7)


def test_clip_grad_norm_edge_cases() -> None:
    p = nn.Parameter(gradlab.zeros(3))
    assert utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no grads at all
    p.grad = gradlab.tensor([np.inf, 1.0, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    p.grad = gradlab.tensor([3.0, 4.0, 0.0])
    model = nn.Linear(2, 2)
    model(gradlab.ones(1, 2)).sum().backward()
    assert utils.clip_grad_norm_(model, 1e-3).item() > 0  # a Module is accepted too
    assert utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    assert_close(p.grad, np.array([3.0, 4.0, 0.0]) / (5 + 1e-6), rtol=1e-6)


def test_clip_grad_value(torch) -> None:
    gp, tp = _params_with_grads(torch, np.float64, 1.0)
    utils.clip_grad_value_(gp, 0.5)
    torch.nn.utils.clip_grad_value_(tp, 0.5)
    for a, b in zip(gp, tp):
        assert_close(a.grad, b.grad)


def test_l1_l2_penalties() -> None:
    model = nn.Linear(3, 2)
    w, b = model.weight._data, model.bias._data
    l1, l2 = utils.l1_penalty(model.parameters()), utils.l2_penalty(model)
    assert l1.item() == pytest.approx(float(np.abs(w).sum() + np.abs(b).sum()), rel=1e-6)
    assert l2.item() == pytest.approx(float((w**2).sum() + (b**2).sum()), rel=1e-6)
    (l1 + l2).backward()
    assert_close(model.weight.grad, np.sign(w) + 2 * w, rtol=1e-6)
    assert_close(model.bias.grad, np.sign(b) + 2 * b, rtol=1e-6)
    assert utils.l2_penalty([]).item() == 0.0


def test_parameters_vector_round_trip(torch) -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = utils.parameters_to_vector(model.parameters())
    assert vec.shape == (model.num_parameters(),)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    assert_close(vec, torch.nn.utils.parameters_to_vector(tmodel.parameters()).detach())
    first = model[0].weight
    utils.vector_to_parameters(gradlab.arange(vec.shape[0]).float(), model.parameters())
    assert model[0].weight is first
    assert_close(model[0].weight, np.arange(6).reshape(2, 3))
    assert_close(model[1].bias, [10.0])
    with pytest.raises(ValueError):
        utils.vector_to_parameters(gradlab.zeros(3), model.parameters())
    vec.sum().backward()  # parameters_to_vector is differentiable
    assert_close(model[1].weight.grad, np.ones((1, 2)))


def test_public_surface_has_all_and_doctested_docstrings() -> None:
    import gradlab.nn.functional as F

    core = [
        "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Linear", "Identity", "Flatten", "Dropout",
        "BatchNorm1d", "LayerNorm", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus", "SiLU", "Swish",
        "Softmax", "LogSoftmax", "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
        "CrossEntropyLoss", "NLLLoss", "KLDivLoss",
    ]
    assert set(core) <= set(nn.__all__)
    for name in core:
        obj = getattr(nn, name)
        if inspect.isclass(obj):
            assert obj.__doc__ and ">>>" in obj.__doc__, f"{name} needs a docstring with an example"
    for mod in (nn.init, nn.utils, F):
        for name in mod.__all__:
            assert hasattr(mod, name), f"{mod.__name__}.{name}"
