"""``SyncBatchNorm`` in one process ("self" backend): BatchNorm's values, gradients and running statistics; float64
central differences. The 2-rank equivalence with BatchNorm on the concatenated batch is in tests/distributed."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import distributed as dist
from gradlab import nn
from gradlab.autograd.gradcheck import gradcheck
from gradlab.nn.sync_batchnorm import SyncBatchNorm, _SyncBatchNormFunction


@pytest.fixture
def group():
    dist.init_process_group("self")
    yield
    dist.destroy_process_group()


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_matches_batchnorm(group, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    bn = nn.BatchNorm2d(3) if len(shape) == 4 else nn.BatchNorm1d(3)
    bn = bn.double()
    sbn = SyncBatchNorm(3).double()
    bn.weight._data[:] = sbn.weight._data[:] = [0.5, 2.0, -1.0]
    outs, grads = [], []
    for m in (bn, sbn):
        xt = gradlab.tensor(x, requires_grad=True)
        y = m(xt)
        (y * gradlab.tensor(np.arange(y._data.size).reshape(y.shape) % 7)).sum().backward()
        outs.append(y._data)
        grads.append((xt.grad._data, m.weight.grad._data, m.bias.grad._data))
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-12, atol=1e-12)
    for a, b in zip(grads[0], grads[1]):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sbn.running_mean._data, bn.running_mean._data, rtol=1e-12)
    np.testing.assert_allclose(sbn.running_var._data, bn.running_var._data, rtol=1e-12)
    assert int(sbn.num_batches_tracked._data) == 1
    sbn.eval()
    bn.eval()
    np.testing.assert_allclose(sbn(gradlab.tensor(x))._data, bn(gradlab.tensor(x))._data, rtol=1e-12)


def test_gradcheck(group):
    rng = np.random.default_rng(1)
    x = gradlab.tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    w = gradlab.tensor([1.5, -0.5], dtype=gradlab.float64, requires_grad=True)
    b = gradlab.tensor([0.1, 0.2], dtype=gradlab.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: _SyncBatchNormFunction.apply(x, w, b, None, None, 0.1, 1e-5), (x, w, b))


def test_without_a_process_group_it_is_batchnorm():
    x = gradlab.randn(6, 3)
    assert not dist.is_initialized()
    gradlab.manual_seed(0)
    a = SyncBatchNorm(3)(x)._data
    b = nn.BatchNorm1d(3)(x)._data
    np.testing.assert_array_equal(a, b)


def test_convert_keeps_the_parameters_and_buffers():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    weight, mean = model[1].weight, model[1].running_mean
    converted = SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model and isinstance(model[1], SyncBatchNorm)
    assert model[1].weight is weight and model[1].running_mean is mean
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                        "1.running_var", "1.num_batches_tracked"]


def test_one_value_per_channel_is_refused(group):
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        SyncBatchNorm(2)(gradlab.randn(1, 2))
