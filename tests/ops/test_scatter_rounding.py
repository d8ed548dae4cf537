"""The scatter family and the rounding ops beyond the catalogue: torch's semantics on integers and negative
numbers, the errors, the in-place forms and the reduce= forms of scatter_."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab

INTS = np.array([-7, -6, -1, 0, 1, 5, 7])
FLOATS = np.array([-7.5, -6.0, -0.25, 0.0, 0.25, 5.0, 7.25])


@pytest.mark.parametrize("values", [INTS, FLOATS], ids=["int", "float"])
@pytest.mark.parametrize("divisor", [2, -2, 2.5, -3])
def test_division_and_remainder_follow_torch(torch, values, divisor) -> None:
    g, t = gradlab.tensor(values), torch.tensor(values)
    pairs = [
        (g // divisor, t // divisor),
        (g % divisor, t % divisor),
        (gradlab.div(g, divisor, rounding_mode="trunc"), torch.div(t, divisor, rounding_mode="trunc")),
        (g.div(divisor, rounding_mode="floor"), t.div(divisor, rounding_mode="floor")),
        (gradlab.floor_divide(g, divisor), torch.floor_divide(t, divisor)),
        (gradlab.fmod(g, divisor), torch.fmod(t, divisor)),
        (gradlab.remainder(g, divisor), torch.remainder(t, divisor)),
        (divisor // (g.abs() + 1), divisor // (t.abs() + 1)),
        (divisor % (g.abs() + 1), divisor % (t.abs() + 1)),
    ]
    for got, want in pairs:
        assert str(got.dtype).replace("gradlab.", "") in str(want.dtype), (got.dtype, want.dtype)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_tensor_divisor_and_in_place_forms(torch) -> None:
    a, b = np.array([-7, 7, -8, 9]), np.array([2, -2, 3, -4])
    ga, gb, ta, tb = gradlab.tensor(a), gradlab.tensor(b), torch.tensor(a), torch.tensor(b)
    np.testing.assert_array_equal((ga // gb).numpy(), (ta // tb).numpy())
    np.testing.assert_array_equal((ga % gb).numpy(), (ta % tb).numpy())
    x = gradlab.tensor([-7.5, 7.5])
    x //= 2
    assert x.tolist() == [-4.0, 3.0]
    x %= 3
    assert x.tolist() == [2.0, 0.0]
    y = gradlab.tensor([-7.0, 7.0])
    assert y.div_(2, rounding_mode="trunc").tolist() == [-3.0, 3.0]


def test_integer_division_by_zero_raises_as_torch() -> None:
    with pytest.raises(ZeroDivisionError):
        gradlab.tensor([1, 2]) // 0
    with pytest.raises(ZeroDivisionError):
        gradlab.tensor([1, 2]) % gradlab.tensor([1, 0])
    assert np.isinf((gradlab.tensor([1.0]) // 0).numpy()).all()
    with pytest.raises(ValueError, match="rounding_mode"):
        gradlab.div(gradlab.ones(2), 2, rounding_mode="nearest")


def test_rounding_functions_follow_torch(torch) -> None:
    a = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.26, -1.74])
    g, t = gradlab.tensor(a), torch.tensor(a)
    for name in ("floor", "ceil", "round", "trunc", "frac"):
        np.testing.assert_array_equal(getattr(gradlab, name)(g).numpy(), getattr(torch, name)(t).numpy(), err_msg=name)
        np.testing.assert_array_equal(getattr(g, name)().numpy(), getattr(t, name)().numpy(), err_msg=name)
    np.testing.assert_allclose(gradlab.round(g, decimals=1).numpy(), torch.round(t, decimals=1).numpy())
    x = gradlab.tensor([1.7, -1.2])
    assert x.floor_().tolist() == [1.0, -2.0]
    assert gradlab.tensor([3, -3]).floor().tolist() == [3, -3]  # integers unchanged, still integers


def test_rounded_results_have_zero_gradient_and_frac_passes_it() -> None:
    x = gradlab.tensor([1.3, -2.7], requires_grad=True)
    (x.floor() + x.ceil() + x.round() + x.trunc() + x.frac() + x.div(2, rounding_mode="floor")).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_reduce_forms_of_scatter_follow_torch(torch) -> None:
    idx = np.array([[0, 1, 0], [1, 0, 0]])
    src = np.arange(1.0, 7.0).reshape(2, 3)
    for reduce in ("add", "multiply"):
        got = gradlab.ones(2, 3).scatter_(0, gradlab.tensor(idx), gradlab.tensor(src), reduce=reduce)
        want = torch.ones(2, 3, dtype=torch.float64).scatter_(0, torch.tensor(idx), torch.tensor(src), reduce=reduce)
        np.testing.assert_allclose(got.numpy(), want.numpy())
        got = gradlab.ones(2, 3).scatter(0, gradlab.tensor(idx), 2.0, reduce=reduce)
        want = torch.ones(2, 3).scatter(0, torch.tensor(idx), 2.0, reduce=reduce)
        np.testing.assert_allclose(got.numpy(), want.numpy())


def test_scatter_family_on_integer_tensors(torch) -> None:
    idx = np.array([2, 0, 2])
    src = np.array([5, 6, 7])
    got = gradlab.zeros(3, dtype=gradlab.int64).scatter_add_(0, gradlab.tensor(idx), gradlab.tensor(src))
    want = torch.zeros(3, dtype=torch.int64).scatter_add_(0, torch.tensor(idx), torch.tensor(src))
    assert got.tolist() == want.tolist() and got.dtype == gradlab.int64
    for reduce in ("sum", "prod", "amax", "amin"):
        got = gradlab.ones(3, dtype=gradlab.int64).scatter_reduce(0, gradlab.tensor(idx), gradlab.tensor(src), reduce)
        want = torch.ones(3, dtype=torch.int64).scatter_reduce(0, torch.tensor(idx), torch.tensor(src), reduce)
        assert got.tolist() == want.tolist(), reduce


def test_scatter_errors_name_the_problem() -> None:
    x = gradlab.zeros(2, 3)
    with pytest.raises(IndexError, match="out of bounds"):
        x.gather(1, gradlab.tensor([[3]]))
    with pytest.raises(RuntimeError, match="integer"):
        x.gather(1, gradlab.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="dimensions"):
        x.scatter(0, gradlab.tensor([0]), 1.0)
    with pytest.raises(RuntimeError, match="larger than src"):
        x.scatter_add(0, gradlab.tensor([[0, 1, 0]]), gradlab.ones(1, 2))
    with pytest.raises(RuntimeError, match="reduce"):
        x.scatter_reduce(0, gradlab.tensor([[0]]), gradlab.ones(1, 1), "max")
    leaf = gradlab.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        leaf.scatter_(0, gradlab.tensor([0]), 1.0)


def test_scatter_in_place_on_a_non_leaf_backpropagates(torch) -> None:
    a = np.array([1.0, 2.0, 3.0])
    g = gradlab.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    for lib, x in ((gradlab, g), (torch, t)):
        y = x * 2
        y.scatter_add_(0, lib.tensor([0, 0]), x[1:] ** 2)
        y.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy())
