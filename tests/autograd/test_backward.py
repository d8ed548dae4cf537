"""The backward pass: deep graphs, retain_graph, gradient accumulation, freeing the graph."""

from __future__ import annotations

import gc
import math
import sys
import weakref

import numpy as np
import pytest

import gradlab
from tests.helpers import to_numpy


def test_chain_of_10000_muls_backpropagates_without_recursion_error() -> None:
    x = gradlab.tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    expected = 1.0001**10_000
    assert y.item() == pytest.approx(expected, rel=1e-9)
    assert x.grad.item() == pytest.approx(expected, rel=1e-9)


def test_chain_of_10000_mixed_ops_keeps_the_recursion_limit() -> None:
    limit = sys.getrecursionlimit()
    x = gradlab.tensor(np.array([0.5, -0.5]), requires_grad=True)
    y = x
    steps = (lambda t: t * 1.0001, lambda t: t + 0.5, lambda t: t.exp(), lambda t: t.log(), lambda t: t - 0.5)
    for i in range(10_000):
        y = steps[i % 5](y)
    y.sum().backward()
    assert sys.getrecursionlimit() == limit
    np.testing.assert_allclose(to_numpy(y), to_numpy(x) * 1.0001**2000, rtol=1e-9)
    np.testing.assert_allclose(to_numpy(x.grad), [1.0001**2000] * 2, rtol=1e-9)
    del y
    gc.collect()  # freeing a 10,000-long chain must not overflow the stack either


def test_second_backward_without_retain_graph_raises() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_through_freed_intermediate_raises() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    h = x.sigmoid()
    h.sum().backward()
    # h's grad_fn was freed by the first backward: using it again must fail, not silently give zeros
    with pytest.raises(RuntimeError):
        (h * 2.0).sum().backward()


def test_retain_graph_allows_second_backward_and_grads_accumulate() -> None:
    x = gradlab.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    first = to_numpy(x.grad).copy()
    np.testing.assert_allclose(first, 3 * to_numpy(x) ** 2)
    y.backward()
    np.testing.assert_allclose(to_numpy(x.grad), 2 * first)


def test_grad_accumulates_across_calls() -> None:
    x = gradlab.tensor([1.0, -2.0], requires_grad=True)
    assert x.grad is None
    (x * 2.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [5.0, 5.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [2.0, -4.0])


def test_grad_zero_then_accumulate() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    (x * 4.0).sum().backward()
    x.grad.zero_()
    (x * 1.5).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [1.5, 1.5])


def test_input_used_twice_sums_both_paths() -> None:
    x = gradlab.tensor(np.array([2.0, 3.0]), requires_grad=True)
    a = x * 3.0
    y = (a * x + a).sum()  # 3x^2 + 3x
    y.backward()
    np.testing.assert_allclose(to_numpy(x.grad), 6 * to_numpy(x) + 3)


def test_diamond_graph() -> None:
    x = gradlab.tensor(np.array(0.7), requires_grad=True)
    a = x.exp()
    b = a.sin()
    c = a.cos()
    (b * c).backward()  # d/dx sin(e^x)cos(e^x) = e^x cos(2 e^x)
    assert x.grad.item() == pytest.approx(math.exp(0.7) * math.cos(2 * math.exp(0.7)), rel=1e-12)


def test_backward_of_non_scalar_without_gradient_raises() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()


def test_backward_of_non_scalar_with_gradient() -> None:
    x = gradlab.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    y.backward(gradlab.tensor(np.array([1.0, 10.0])))
    np.testing.assert_allclose(to_numpy(x.grad), [2.0, 40.0])


def test_backward_of_one_element_non_0d_tensor_without_gradient() -> None:
    x = gradlab.tensor([[3.0]], requires_grad=True)
    (x * x).backward()  # torch allows implicit gradient for any one-element output
    np.testing.assert_allclose(to_numpy(x.grad), [[6.0]])


def test_backward_on_tensor_without_grad_raises() -> None:
    x = gradlab.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError):
        (x * 2.0).sum().backward()


def test_leaf_backward_directly() -> None:
    x = gradlab.tensor(np.array(2.0), requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_only_leaves_requiring_grad_get_grad() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    c = gradlab.tensor([3.0, 4.0])
    h = x * c
    (h * h).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), 2 * (to_numpy(x) * to_numpy(c)) * to_numpy(c))
    assert c.grad is None
    assert h.grad is None  # a non-leaf keeps no .grad unless retain_grad() was called


def test_graph_releases_saved_arrays_after_backward() -> None:
    w = gradlab.tensor(np.ones(100_000), requires_grad=True)
    a = gradlab.tensor(np.full(100_000, 2.0))
    loss = (w * a).sum()  # mul saves a's array for w's gradient
    ref = weakref.ref(a._data)
    del a
    loss.backward()
    gc.collect()
    assert ref() is None, "the graph still holds a saved array after backward (graph not freed)"
    np.testing.assert_allclose(to_numpy(w.grad)[:3], [2.0, 2.0, 2.0])
    assert loss.grad_fn is not None or loss.requires_grad  # loss itself is still usable as a value
    assert loss.item() == pytest.approx(200_000.0)


def test_graph_kept_alive_by_retain_graph() -> None:
    w = gradlab.tensor(np.ones(1000), requires_grad=True)
    a = gradlab.tensor(np.full(1000, 2.0))
    loss = (w * a).sum()
    ref = weakref.ref(a._data)
    del a
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None  # still needed for a second backward
    loss.backward()
    np.testing.assert_allclose(to_numpy(w.grad)[:2], [4.0, 4.0])


def test_gradient_of_float32_graph_is_float32() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    (x.exp() * 2.0).sum().backward()
    assert x.grad.dtype == gradlab.float32
    assert isinstance(x.grad, gradlab.Tensor)
    assert x.grad.shape == x.shape
    assert not x.grad.requires_grad
