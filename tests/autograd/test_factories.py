"""Tensor factories and random reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from tests.helpers import to_numpy


def test_zeros_ones_full_shapes_and_dtypes() -> None:
    for z in (gradlab.zeros(2, 3), gradlab.zeros((2, 3))):
        assert z.shape == (2, 3) and z.dtype == np.float32 and not to_numpy(z).any()
    o = gradlab.ones(4)
    assert o.shape == (4,) and o.dtype == np.float32 and np.all(to_numpy(o) == 1)
    f = gradlab.full((2, 2), 1.5)
    assert f.dtype == np.float32 and np.all(to_numpy(f) == 1.5)
    assert gradlab.full((2,), 7).dtype == np.int64  # as torch: an int fill value gives int64
    assert gradlab.zeros(2, dtype=gradlab.float64).dtype == np.float64
    assert gradlab.ones(2, 2, dtype=gradlab.int64).dtype == np.int64
    assert gradlab.zeros(()).shape == ()
    assert gradlab.empty(3, 2).shape == (3, 2)
    eye = gradlab.eye(3)
    assert eye.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(eye), np.eye(3))


def test_factory_requires_grad() -> None:
    z = gradlab.zeros(2, 3, requires_grad=True)
    assert z.requires_grad and z.is_leaf
    (z + 1.0).sum().backward()
    np.testing.assert_array_equal(to_numpy(z.grad), np.ones((2, 3)))
    assert gradlab.randn(3, requires_grad=True).requires_grad


def test_arange() -> None:
    a = gradlab.arange(5)
    assert a.dtype == np.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert gradlab.arange(1, 7, 2).tolist() == [1, 3, 5]
    b = gradlab.arange(0, 1, 0.25)
    assert b.dtype == np.float32 and b.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert gradlab.arange(3, dtype=gradlab.float64).dtype == np.float64
    assert gradlab.arange(5, 0, -2).tolist() == [5, 3, 1]


def test_linspace() -> None:
    t = gradlab.linspace(0, 1, 5)
    assert t.dtype == np.float32
    np.testing.assert_allclose(to_numpy(t), [0.0, 0.25, 0.5, 0.75, 1.0])
    assert gradlab.linspace(-1, 1, 1).tolist() == [-1.0]


def test_random_factories_shapes_dtypes_ranges() -> None:
    n = gradlab.randn(200, 50)
    assert n.shape == (200, 50) and n.dtype == np.float32
    assert abs(float(to_numpy(n).mean())) < 0.05 and abs(float(to_numpy(n).std()) - 1.0) < 0.05
    r = gradlab.rand(1000)
    assert r.dtype == np.float32 and to_numpy(r).min() >= 0.0 and to_numpy(r).max() < 1.0
    assert gradlab.rand((2, 3)).shape == (2, 3)
    i = gradlab.randint(3, 7, (500,))
    assert i.dtype == np.int64 and to_numpy(i).min() == 3 and to_numpy(i).max() == 6
    j = gradlab.randint(4, (2, 3))
    assert j.shape == (2, 3) and to_numpy(j).min() >= 0 and to_numpy(j).max() < 4
    assert gradlab.randn(3, dtype=gradlab.float64).dtype == np.float64


def test_like_factories() -> None:
    x = gradlab.tensor(np.ones((2, 3)))  # float64
    for t in (gradlab.zeros_like(x), gradlab.ones_like(x), gradlab.full_like(x, 4.0), gradlab.randn_like(x),
              gradlab.rand_like(x)):  # fmt: skip
        assert t.shape == (2, 3) and t.dtype == np.float64 and not t.requires_grad
    assert np.all(gradlab.zeros_like(x).numpy() == 0) and np.all(gradlab.ones_like(x).numpy() == 1)
    assert np.all(gradlab.full_like(x, 4.0).numpy() == 4.0)
    assert gradlab.zeros_like(x, dtype=gradlab.float32).dtype == np.float32
    xi = gradlab.tensor([1, 2])
    assert gradlab.zeros_like(xi).dtype == np.int64
    leaf = gradlab.tensor([1.0], requires_grad=True)
    assert not gradlab.zeros_like(leaf).requires_grad


def test_manual_seed_reproducibility() -> None:
    gradlab.manual_seed(3)
    a = gradlab.randn(5)
    b = gradlab.rand(2)
    c = gradlab.randint(0, 100, (4,))
    gradlab.manual_seed(3)
    np.testing.assert_array_equal(gradlab.randn(5).numpy(), to_numpy(a))
    np.testing.assert_array_equal(gradlab.rand(2).numpy(), to_numpy(b))
    np.testing.assert_array_equal(gradlab.randint(0, 100, (4,)).numpy(), to_numpy(c))
    assert not np.array_equal(gradlab.randn(5).numpy(), to_numpy(a))  # the stream moves on
    gradlab.manual_seed(4)
    assert not np.array_equal(gradlab.randn(5).numpy(), to_numpy(a))


def test_generator_reproducibility_and_independence() -> None:
    g1 = gradlab.Generator().manual_seed(1)
    a = gradlab.randn(4, generator=g1)
    g2 = gradlab.Generator().manual_seed(1)
    np.testing.assert_array_equal(gradlab.randn(4, generator=g2).numpy(), to_numpy(a))
    # a private generator does not disturb the default stream
    gradlab.manual_seed(0)
    x1 = gradlab.randn(3)
    gradlab.manual_seed(0)
    gradlab.rand(10, generator=g1)
    x2 = gradlab.randn(3)
    np.testing.assert_array_equal(to_numpy(x1), to_numpy(x2))


def test_generator_state_roundtrip() -> None:
    g = gradlab.Generator().manual_seed(5)
    state = g.get_state()
    a = gradlab.rand(3, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(gradlab.rand(3, generator=g).numpy(), to_numpy(a))


@pytest.mark.parametrize("bad", [-1])
def test_negative_size_raises(bad) -> None:
    with pytest.raises((ValueError, RuntimeError)):
        gradlab.zeros(bad, 2)
