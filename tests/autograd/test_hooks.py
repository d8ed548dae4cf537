"""Hooks, retain_grad, detach, leaves."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from tests.helpers import to_numpy


def test_hook_on_leaf_sees_gradient() -> None:
    x = gradlab.tensor(np.array([1.0, 2.0]), requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(to_numpy(g).copy()))
    (x * x).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    np.testing.assert_allclose(to_numpy(x.grad), [2.0, 4.0])


def test_hook_on_leaf_can_replace_gradient() -> None:
    x = gradlab.tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.register_hook(lambda g: g * 10.0)
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [30.0, 30.0])


def test_hook_on_non_leaf_sees_and_replaces_gradient() -> None:
    x = gradlab.tensor(np.array([1.0, -1.0]), requires_grad=True)
    y = x * 2.0
    seen = []

    def hook(g):
        seen.append(to_numpy(g).copy())
        return g * 10.0

    y.register_hook(hook)
    (y * 3.0).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(to_numpy(x.grad), [60.0, 60.0])


def test_hook_returning_none_keeps_gradient() -> None:
    x = gradlab.tensor(np.array([1.0]), requires_grad=True)
    y = x * 2.0
    calls = []
    y.register_hook(lambda g: calls.append(1))
    (y * 5.0).sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(to_numpy(x.grad), [10.0])


def test_hooks_run_in_registration_order() -> None:
    x = gradlab.tensor(np.array([1.0]), requires_grad=True)
    y = x * 1.0
    y.register_hook(lambda g: g + 1.0)
    y.register_hook(lambda g: g * 3.0)
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [6.0])  # (1 + 1) * 3


def test_hook_on_tensor_used_twice_sees_summed_gradient() -> None:
    x = gradlab.tensor(np.array([2.0]), requires_grad=True)
    y = x * 1.0
    seen = []
    y.register_hook(lambda g: seen.append(g.item()))
    (y * y + y).sum().backward()
    assert seen == [pytest.approx(5.0)]  # called once, with 2y + 1


def test_hook_handle_remove() -> None:
    x = gradlab.tensor(np.array([1.0]), requires_grad=True)
    handle = x.register_hook(lambda g: g * 100.0)
    handle.remove()
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [2.0])


def test_register_hook_on_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError):
        gradlab.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad() -> None:
    x = gradlab.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    z = x * 2.0
    (y * y + z).sum().backward()
    np.testing.assert_allclose(to_numpy(y.grad), 2 * to_numpy(y))
    assert z.grad is None
    np.testing.assert_allclose(to_numpy(x.grad), 18 * to_numpy(x) + 2)


def test_retain_grad_accumulates_with_retain_graph() -> None:
    x = gradlab.tensor(np.array([1.0]), requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    s = (y * 2.0).sum()
    s.backward(retain_graph=True)
    s.backward()
    np.testing.assert_allclose(to_numpy(y.grad), [4.0])
    np.testing.assert_allclose(to_numpy(x.grad), [12.0])


def test_detach_shares_data_and_has_no_grad() -> None:
    x = gradlab.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2.0
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf and d.grad is None
    assert np.shares_memory(d.data, y.data)
    dx = x.detach()
    assert np.shares_memory(dx.data, x.data)
    dx.data[0] = 7.0  # shares storage, as torch
    assert to_numpy(x)[0] == 7.0


def test_detach_stops_gradient() -> None:
    x = gradlab.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    (y.detach() * x).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [1.0, 4.0])


def test_clone_is_differentiable_and_copies() -> None:
    x = gradlab.tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None
    assert not np.shares_memory(c.data, x.data)
    (c * 4.0).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [4.0, 4.0])


def test_is_leaf_and_grad_fn() -> None:
    x = gradlab.tensor([1.0], requires_grad=True)
    c = gradlab.tensor([1.0])
    y = x * 2.0
    assert x.is_leaf and x.grad_fn is None
    assert c.is_leaf and not c.requires_grad
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad
    assert (c * 2.0).is_leaf and not (c * 2.0).requires_grad


def test_requires_grad_flag_and_method() -> None:
    x = gradlab.tensor([1.0, 2.0])
    assert not x.requires_grad
    r = x.requires_grad_()
    assert r is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
