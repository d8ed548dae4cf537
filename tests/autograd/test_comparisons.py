"""Comparisons, argmax/argmin, max/min with dim."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from tests.helpers import to_numpy

X = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])


@pytest.mark.parametrize(
    "name, fn, ref",
    [
        ("gt", lambda a, b: a > b, np.greater),
        ("lt", lambda a, b: a < b, np.less),
        ("ge", lambda a, b: a >= b, np.greater_equal),
        ("le", lambda a, b: a <= b, np.less_equal),
        ("eq", lambda a, b: a == b, np.equal),
        ("ne", lambda a, b: a != b, np.not_equal),
    ],
)
def test_comparisons_are_bool_without_grad(name, fn, ref) -> None:
    x = gradlab.tensor(X, requires_grad=True)
    y = gradlab.tensor(np.array([4.0, 2.0, 3.0]), requires_grad=True)
    for other, other_np in ((y, to_numpy(y)), (3.0, 3.0), (3, 3)):
        out = fn(x, other)
        assert isinstance(out, gradlab.Tensor), f"{name} must return a Tensor, got {type(out)}"
        assert out.dtype == np.bool_ and out.shape == (2, 3)
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(to_numpy(out), ref(X, other_np))


def test_reflected_comparison_with_scalar() -> None:
    x = gradlab.tensor([1.0, 3.0])
    out = 2.0 < x
    assert isinstance(out, gradlab.Tensor) and out.tolist() == [False, True]


def test_bool_mask_selects() -> None:
    x = gradlab.tensor(X)
    np.testing.assert_array_equal(x[x > 2.5].numpy(), X[X > 2.5])


def test_argmax_argmin() -> None:
    x = gradlab.tensor(X, requires_grad=True)
    am = x.argmax()
    assert am.shape == () and am.item() == 5 and am.dtype == np.int64 and not am.requires_grad
    assert x.argmin().item() == 0
    assert x.argmax(dim=1).tolist() == [1, 2]
    assert x.argmin(dim=0).tolist() == [0, 1, 0]
    assert x.argmax(dim=1, keepdim=True).shape == (2, 1)
    assert gradlab.argmax(x, dim=-1).tolist() == [1, 2]


def test_max_min_with_dim_return_values_and_indices() -> None:
    x = gradlab.tensor(X, requires_grad=True)
    res = x.max(dim=1)
    values, indices = res
    assert isinstance(res, tuple) and len(res) == 2
    assert res.values is values and res.indices is indices
    assert values.tolist() == [5.0, 6.0] and indices.tolist() == [1, 2]
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert values.requires_grad
    r0 = x.min(dim=0, keepdim=True)
    assert r0.values.shape == (1, 3) and r0.values.tolist() == [[1.0, 2.0, 3.0]]
    assert r0.indices.tolist() == [[0, 1, 0]]
    assert res[0].tolist() == [5.0, 6.0] and res[1].tolist() == [1, 2]
    values.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [[0, 1, 0], [0, 0, 1]])


def test_max_min_without_dim_are_0d() -> None:
    x = gradlab.tensor(X)
    assert x.max().shape == () and x.max().item() == 6.0
    assert x.min().shape == () and x.min().item() == 1.0


def test_max_with_dim_matches_torch_on_ties(torch) -> None:
    """With ties, gradient goes to one element per reduction (max(dim)) but is shared by max() without dim."""
    data = np.array([[2.0, 2.0, 1.0], [0.0, 3.0, 3.0]])
    x = gradlab.tensor(data, requires_grad=True)
    x.max(dim=1).values.sum().backward()
    assert to_numpy(x.grad).sum(axis=1).tolist() == [1.0, 1.0]
    assert set(np.unique(to_numpy(x.grad)).tolist()) == {0.0, 1.0}
    y = gradlab.tensor(data, requires_grad=True)
    ty = torch.tensor(data, requires_grad=True)
    y.max().backward()
    ty.max().backward()
    np.testing.assert_allclose(to_numpy(y.grad), to_numpy(ty.grad))
