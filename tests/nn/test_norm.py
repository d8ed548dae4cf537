"""BatchNorm1d and LayerNorm against torch: train/eval outputs, all gradients, running statistics, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
import gradlab.nn.functional as F
from gradlab import nn
from tests.helpers import assert_close, to_torch
from tests.nn.common import compare_module, copy_from_torch, tol


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 2 + 0.5


def _randomise(torch_module, torch) -> None:
    with torch.no_grad():
        for p in torch_module.parameters():
            p.uniform_(0.5, 1.5)


# ---- BatchNorm1d ---------------------------------------------------------------------------------------------------
@pytest.mark.kernel_sets
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"bias": False}, {"track_running_stats": False}])
def test_batchnorm1d_train_matches_torch(torch, dtype, shape, kwargs) -> None:
    t = torch.nn.BatchNorm1d(3, **kwargs)
    _randomise(t, torch)
    g = nn.BatchNorm1d(3, **kwargs)
    compare_module(g, t, _x(shape), dtype)
    for name, buf in t.named_buffers():
        assert_close(dict(g.named_buffers())[name], buf, **tol(dtype), msg=name)
    assert repr(g) == repr(t)


@pytest.mark.kernel_sets
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 7)])
def test_batchnorm1d_running_stats_and_eval_match_torch(torch, momentum, shape) -> None:
    t = torch.nn.BatchNorm1d(4, momentum=momentum).double()
    _randomise(t, torch)
    g = nn.BatchNorm1d(4, momentum=momentum).double()
    copy_from_torch(g, t)
    for step in range(5):
        x = _x(shape, seed=step)
        assert_close(g(gradlab.tensor(x)), t(to_torch(x)), **tol(np.float64))
    for name, buf in t.named_buffers():
        assert_close(dict(g.named_buffers())[name], buf, **tol(np.float64), msg=name)
    assert g.num_batches_tracked.item() == 5
    t.eval(), g.eval()
    compare_module(g, t, _x(shape, seed=9), np.float64)
    assert g.num_batches_tracked.item() == 5  # eval leaves the statistics alone
    assert_close(g.running_mean, t.running_mean)


def test_batchnorm1d_without_running_stats_uses_batch_stats_in_eval(torch) -> None:
    t = torch.nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    g = nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    compare_module(g, t, _x((5, 3)), np.float64)
    assert list(g.state_dict()) == list(t.state_dict()) == ["weight", "bias"]


def test_batchnorm1d_errors() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(gradlab.ones(1, 3))
    with pytest.raises(ValueError, match="2D or 3D"):
        bn(gradlab.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="channels"):
        bn(gradlab.ones(4, 2))


def test_batchnorm1d_state_dict_matches_torch(torch) -> None:
    assert list(nn.BatchNorm1d(3).state_dict()) == list(torch.nn.BatchNorm1d(3).state_dict())


@pytest.mark.kernel_sets
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 3, 2)])
def test_batch_norm_gradcheck(training, shape) -> None:
    rng = np.random.default_rng(3)
    x = gradlab.tensor(rng.standard_normal(shape), requires_grad=True)
    w = gradlab.tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True)
    b = gradlab.tensor(rng.standard_normal(3), requires_grad=True)
    rm, rv = gradlab.tensor(rng.standard_normal(3)), gradlab.tensor(rng.uniform(0.5, 2, 3))
    # running stats are copies so the repeated forwards of gradcheck see the same values
    fn = lambda x, w, b: F.batch_norm(x, rm.clone() if training else rm, rv.clone() if training else rv, w, b,
                                      training=training)  # fmt: skip
    assert gradlab.gradcheck(fn, (x, w, b))


# ---- LayerNorm -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "shape, normalized", [((5, 4), 4), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((4,), 4)]
)
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}])
def test_layernorm_matches_torch(torch, dtype, shape, normalized, kwargs) -> None:
    t = torch.nn.LayerNorm(normalized, **kwargs)
    _randomise(t, torch)
    g = nn.LayerNorm(normalized, **kwargs)
    compare_module(g, t, _x(shape), dtype)
    assert repr(g) == repr(t)
    assert list(g.state_dict()) == list(t.state_dict())


def test_layer_norm_gradcheck_and_errors() -> None:
    rng = np.random.default_rng(4)
    x = gradlab.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = gradlab.tensor(rng.uniform(0.5, 1.5, (3, 4)), requires_grad=True)
    b = gradlab.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradlab.gradcheck(lambda x, w, b: F.layer_norm(x, (3, 4), w, b), (x, w, b))
    assert gradlab.gradcheck(lambda x: F.layer_norm(x, 4), (x,))
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(x, (5,))


def test_norm_layers_keep_float32() -> None:
    x = gradlab.randn(6, 4)
    assert nn.BatchNorm1d(4)(x).dtype == np.float32
    assert nn.LayerNorm(4)(x).dtype == np.float32
    bn = nn.BatchNorm1d(4)
    bn(x)
    assert bn.running_mean.dtype == np.float32 and bn.running_var.dtype == np.float32
