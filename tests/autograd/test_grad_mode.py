"""no_grad / enable_grad as context managers and decorators."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from tests.helpers import to_numpy


def test_no_grad_context_manager() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    assert gradlab.is_grad_enabled()
    with gradlab.no_grad():
        assert not gradlab.is_grad_enabled()
        y = x * 2.0
        z = (x.exp() + x).sum()
    assert gradlab.is_grad_enabled()
    for t in (y, z):
        assert not t.requires_grad and t.grad_fn is None and t.is_leaf
    np.testing.assert_allclose(to_numpy(y), [2.0, 4.0])


def test_no_grad_decorator() -> None:
    @gradlab.no_grad()
    def double(t):
        """doc"""
        assert not gradlab.is_grad_enabled()
        return t * 2.0

    x = gradlab.tensor([1.0], requires_grad=True)
    y = double(x)
    assert not y.requires_grad and y.grad_fn is None
    assert gradlab.is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "doc"


def test_no_grad_decorator_without_parentheses() -> None:
    """torch accepts ``@torch.no_grad`` as well as ``@torch.no_grad()``."""

    @gradlab.no_grad
    def double(t):
        return t * 2.0

    x = gradlab.tensor([1.0], requires_grad=True)
    y = double(x)
    assert isinstance(y, gradlab.Tensor)
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    with gradlab.no_grad():
        with gradlab.enable_grad():
            assert gradlab.is_grad_enabled()
            y = x * x
        z = x * x
        assert not gradlab.is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [2.0, 4.0])


def test_enable_grad_decorator_inside_no_grad() -> None:
    @gradlab.enable_grad()
    def square(t):
        return t * t

    x = gradlab.tensor([3.0], requires_grad=True)
    with gradlab.no_grad():
        y = square(x)
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [6.0])


def test_nested_no_grad_restores_state() -> None:
    with gradlab.no_grad():
        with gradlab.no_grad():
            pass
        assert not gradlab.is_grad_enabled()
    assert gradlab.is_grad_enabled()


def test_no_grad_restores_state_after_exception() -> None:
    with pytest.raises(ZeroDivisionError):
        with gradlab.no_grad():
            raise ZeroDivisionError
    assert gradlab.is_grad_enabled()

    @gradlab.no_grad()
    def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        boom()
    assert gradlab.is_grad_enabled()


def test_no_grad_result_is_a_constant_in_later_graphs() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    with gradlab.no_grad():
        c = x * 3.0
    (c * x).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [3.0, 6.0])  # not 2 * 3x


def test_no_grad_does_not_change_requires_grad_of_leaves() -> None:
    x = gradlab.tensor([1.0], requires_grad=True)
    with gradlab.no_grad():
        pass
    assert x.requires_grad


def test_set_grad_enabled() -> None:
    x = gradlab.tensor([1.0], requires_grad=True)
    with gradlab.set_grad_enabled(False):
        y = x * 2.0
    with gradlab.set_grad_enabled(True):
        z = x * 2.0
    assert not y.requires_grad and z.requires_grad
    assert gradlab.is_grad_enabled()
