"""Dropout: inverted scaling, fraction dropped, gradient through the same mask, eval identity, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
import gradlab.nn.functional as F
from gradlab import nn
from tests.helpers import assert_close


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_train_fraction_and_scaling(p) -> None:
    x = gradlab.ones(200, 500, requires_grad=True)
    y = nn.Dropout(p)(x)
    vals = y._data
    dropped = float((vals == 0).mean())
    assert abs(dropped - p) < 0.01
    kept = vals[vals != 0]
    assert np.allclose(kept, 1 / (1 - p))
    assert y.dtype == np.float32  # float32 stays float32
    up = np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    y.backward(up)
    assert_close(x.grad, up * (vals != 0) / (1 - p), rtol=1e-6, atol=1e-7)


def test_dropout_float64_and_expectation() -> None:
    x = gradlab.tensor(np.random.default_rng(0).standard_normal(100_000))
    y = F.dropout(x, 0.3)
    assert y.dtype == np.float64
    assert abs(float(y._data.mean()) - float(x._data.mean())) < 0.02


def test_dropout_eval_and_p0_return_input() -> None:
    x = gradlab.randn(4, 5)
    drop = nn.Dropout(0.5)
    assert drop.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_p1_zeros_everything() -> None:
    x = gradlab.randn(3, 3, requires_grad=True)
    y = nn.Dropout(1.0)(x)
    assert not y._data.any()
    y.sum().backward()
    assert not x.grad._data.any()


def test_dropout_reproducible_with_manual_seed_and_generator() -> None:
    x = gradlab.ones(50)
    gradlab.manual_seed(7)
    a = nn.Dropout(0.5)(x).detach().numpy().copy()
    gradlab.manual_seed(7)
    assert np.array_equal(a, nn.Dropout(0.5)(x)._data)
    g1, g2 = gradlab.Generator(5), gradlab.Generator(5)
    assert np.array_equal(F.dropout(x, 0.5, generator=g1)._data, F.dropout(x, 0.5, generator=g2)._data)


def test_dropout_rejects_bad_p_and_reprs(torch) -> None:
    with pytest.raises(ValueError):
        nn.Dropout(1.5)
    with pytest.raises(ValueError):
        F.dropout(gradlab.ones(2), -0.1)
    assert repr(nn.Dropout(0.2)) == repr(torch.nn.Dropout(0.2))


def test_dropout2d_on_a_2d_input_masks_each_element_as_torch_does():
    # (N, C) has no spatial dims: torch drops elements one by one, not one mask for the whole tensor
    gradlab.manual_seed(0)
    y = gradlab.nn.functional.dropout2d(gradlab.ones(64, 32), p=0.5).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    rows_mixed = ((y == 0).any(axis=1) & (y == 2).any(axis=1)).mean()
    assert rows_mixed > 0.9  # nearly every row holds both kept and dropped elements
    assert 0.4 < (y == 0).mean() < 0.6


def test_dropout2d_draws_one_mask_per_channel():
    gradlab.manual_seed(0)
    y = gradlab.nn.Dropout2d(0.5)(gradlab.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert (per_channel == per_channel[:, :, :1]).all()  # constant over H, W
    assert 0.3 < (per_channel[:, :, 0] == 0).mean() < 0.7


def test_dropout2d_reads_a_3d_input_as_n_c_l_as_torch_does():
    # torch 2.x: "assuming that channel-wise 1D dropout behavior is desired": one draw per (sample, channel)
    gradlab.manual_seed(0)
    y = gradlab.nn.functional.dropout2d(gradlab.ones(16, 12, 5), p=0.5).numpy()
    assert (y == y[:, :, :1]).all()  # constant along L
    first = y[:, :, 0]
    assert ((first == 0).any(axis=0) & (first == 2).any(axis=0)).all()  # each channel kept in some samples only
    assert 0.35 < (first == 0).mean() < 0.65
