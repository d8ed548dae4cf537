"""In-place operations: version checks of saved tensors, leaves, no_grad updates."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from tests.helpers import to_numpy


def test_inplace_on_saved_output_raises_at_backward() -> None:
    x = gradlab.tensor([0.5, -1.0], requires_grad=True)
    y = x.sigmoid()  # saves its output
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()


def test_inplace_on_saved_input_raises_at_backward() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    b = gradlab.tensor([3.0, 4.0], requires_grad=True)
    a = x * 1.0  # non-leaf
    w = a * b  # saves a (for b's gradient) and b (for a's)
    a.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_inplace_on_saved_leaf_without_grad_raises_at_backward() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    c = gradlab.tensor([3.0, 4.0])
    y = x * c
    c.mul_(10.0)
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()


def test_inplace_on_tensor_not_saved_is_fine() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1.0  # add saves nothing
    z = (y + 3.0) * 2.0  # mul saves (y + 3)'s array, not y's
    y.fill_(5.0)
    z.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [2.0, 2.0])


def test_inplace_on_non_leaf_never_gives_a_silently_wrong_gradient() -> None:
    """torch records y.mul_(3) in the graph (grad 3); refusing the op is acceptable, a gradient of 1 is not."""
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1.0
    try:
        y.mul_(3.0)
    except RuntimeError:
        return
    np.testing.assert_allclose(to_numpy(y), [6.0, 9.0])
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [3.0, 3.0])


@pytest.mark.parametrize(
    "op",
    [
        lambda t: t.add_(1.0),
        lambda t: t.sub_(1.0),
        lambda t: t.mul_(2.0),
        lambda t: t.div_(2.0),
        lambda t: t.zero_(),
        lambda t: t.fill_(3.0),
        lambda t: t.clamp_(min=0.0),
        lambda t: t.copy_(gradlab.tensor([5.0, 6.0])),
    ],
    ids=["add_", "sub_", "mul_", "div_", "zero_", "fill_", "clamp_", "copy_"],
)
def test_inplace_on_leaf_requiring_grad_raises_in_grad_mode(op) -> None:
    x = gradlab.tensor([1.0, -2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        op(x)
    np.testing.assert_allclose(to_numpy(x), [1.0, -2.0])  # left untouched


def test_inplace_on_leaf_allowed_under_no_grad() -> None:
    x = gradlab.tensor([1.0, -2.0], requires_grad=True)
    with gradlab.no_grad():
        r = x.mul_(2.0)
        x.add_(1.0)
        x.clamp_(max=2.0)
    assert r is x  # in-place ops return self, as torch
    np.testing.assert_allclose(to_numpy(x), [2.0, -3.0])
    assert x.requires_grad and x.is_leaf and x.grad_fn is None


def test_inplace_values() -> None:
    t = gradlab.tensor([1.0, -2.0, 3.0])
    t.add_(1.0)
    np.testing.assert_allclose(to_numpy(t), [2.0, -1.0, 4.0])
    t.sub_(gradlab.tensor([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(to_numpy(t), [1.0, -2.0, 3.0])
    t.mul_(2.0).div_(4.0)
    np.testing.assert_allclose(to_numpy(t), [0.5, -1.0, 1.5])
    t.clamp_(-0.5, 1.0)
    np.testing.assert_allclose(to_numpy(t), [0.5, -0.5, 1.0])
    t.copy_(gradlab.tensor([7.0, 8.0, 9.0]))
    np.testing.assert_allclose(to_numpy(t), [7.0, 8.0, 9.0])
    t.fill_(2.5)
    np.testing.assert_allclose(to_numpy(t), [2.5, 2.5, 2.5])
    t.zero_()
    np.testing.assert_allclose(to_numpy(t), [0.0, 0.0, 0.0])
    assert t.dtype == gradlab.float32


def test_inplace_keeps_dtype() -> None:
    t = gradlab.tensor([1.0, 2.0])
    t.mul_(gradlab.tensor(np.array([2.0, 2.0])))  # float64 operand into a float32 tensor
    assert t.dtype == gradlab.float32
    np.testing.assert_allclose(to_numpy(t), [2.0, 4.0])


def test_optimizer_style_data_update_is_allowed() -> None:
    p = gradlab.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad.data
    np.testing.assert_allclose(to_numpy(p), [0.0, 0.0])
    assert p.requires_grad and p.is_leaf
