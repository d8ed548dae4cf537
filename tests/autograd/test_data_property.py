"""``Tensor.data``: a Tensor sharing storage with its owner, detached from the graph (torch's semantics)."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn


def _pair(torch, values=(1.0, -2.0, 3.0)):
    arr = np.array(values, dtype=np.float64)
    return gradlab.tensor(arr.copy(), requires_grad=True), torch.tensor(arr.copy(), requires_grad=True)


def test_data_is_a_detached_tensor_sharing_storage(torch) -> None:
    g, t = _pair(torch)
    gd, td = g.data, t.data
    assert isinstance(gd, gradlab.Tensor) and not isinstance(gd, np.ndarray)
    assert gd.requires_grad is td.requires_grad is False
    assert gd.grad_fn is None and td.grad_fn is None
    gd[0] = 10.0
    td[0] = 10.0
    np.testing.assert_array_equal(g.detach().numpy(), t.detach().numpy())
    assert g.requires_grad and g.is_leaf


def test_data_of_a_parameter_is_a_plain_tensor(torch) -> None:
    p = nn.Parameter(gradlab.zeros(2))
    assert type(p.data) is gradlab.Tensor and type(torch.nn.Parameter(torch.zeros(2)).data) is torch.Tensor


def test_manual_sgd_with_add_underscore_alpha_matches_torch(torch) -> None:
    g, t = _pair(torch)
    for _ in range(3):
        (g * g * g).sum().backward()
        (t * t * t).sum().backward()
        g.data.add_(g.grad, alpha=-0.1)
        t.data.add_(t.grad, alpha=-0.1)
        g.grad.zero_()
        t.grad.zero_()
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-12)
    assert g.grad_fn is None and g.requires_grad


def test_augmented_assignment_and_copy_through_data(torch) -> None:
    g, t = _pair(torch)
    g.data += gradlab.tensor([1.0, 1.0, 1.0], dtype=gradlab.float64)
    t.data += torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64)
    g.data *= 2
    t.data *= 2
    np.testing.assert_array_equal(g.detach().numpy(), t.detach().numpy())
    g.data.copy_(gradlab.tensor([7.0, 8.0, 9.0]))
    t.data.copy_(torch.tensor([7.0, 8.0, 9.0]))
    np.testing.assert_array_equal(g.detach().numpy(), t.detach().numpy())
    assert g.dtype == np.float64


def test_assigning_data_swaps_the_storage(torch) -> None:
    g, t = _pair(torch)
    go, to = gradlab.zeros(4, dtype=gradlab.float64), torch.zeros(4, dtype=torch.float64)
    g.data = go
    t.data = to
    assert g.shape == (4,) and tuple(t.shape) == (4,)
    go.fill_(5.0)
    to.fill_(5.0)  # the storage is shared with the assigned tensor in both libraries
    np.testing.assert_array_equal(g.detach().numpy(), t.detach().numpy())
    assert g.requires_grad and t.requires_grad
    g.data = np.ones(2)  # an array is accepted too, and kept without a copy
    assert g.tolist() == [1.0, 1.0]


def test_assigning_integer_data_to_a_tensor_that_requires_grad_is_refused() -> None:
    g = gradlab.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating"):
        g.data = gradlab.tensor([1, 2])


def test_changes_through_data_are_invisible_to_autograd(torch) -> None:
    """torch gives ``.data`` its own version counter: no in-place error, backward uses the new values."""
    g, t = _pair(torch)
    gy, ty = (g * g).sum(), (t * t).sum()
    g.data.mul_(2)
    t.data.mul_(2)
    gy.backward()
    ty.backward()
    np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())


def test_numpy_reaches_the_array() -> None:
    g = gradlab.tensor([1.0, 2.0], requires_grad=True)
    arr = g.data.numpy()
    arr[0] = 5.0
    assert g.tolist() == [5.0, 2.0] and isinstance(g.detach().numpy(), np.ndarray)
