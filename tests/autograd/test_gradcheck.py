"""gradlab.gradcheck itself, and custom ``gradlab.autograd.Function``s."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gradlab
from gradlab.autograd import Function
from tests.helpers import to_numpy


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


class WrongMul(Function):
    """a * b whose gradient for b is wrong (x1.5) at one element only: [1, 2]."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gb = grad * a
        gb[1, 2] *= 1.5
        return grad * b, gb


class ScaledExp(Function):
    """exp(x) * scale with a non-tensor argument; the backward is off by a factor of 2 everywhere."""

    @staticmethod
    def forward(ctx, x, scale):
        y = np.exp(x) * scale
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return 2.0 * grad * y, None


def _inputs(rng_seed=0, shape=(3, 4)):
    rng = np.random.default_rng(rng_seed)
    return [gradlab.tensor(rng.standard_normal(shape), requires_grad=True) for _ in range(2)]


def test_gradcheck_true_for_correct_function() -> None:
    assert gradlab.gradcheck(Mul.apply, _inputs()) is True


def test_gradcheck_true_for_composite_of_builtin_ops() -> None:
    f = lambda a, b: (a.tanh() * b + a.exp()).sum(dim=1)  # noqa: E731
    assert gradlab.gradcheck(f, _inputs()) is True


def test_gradcheck_raises_naming_input_and_element() -> None:
    with pytest.raises(gradlab.GradcheckError) as info:
        gradlab.gradcheck(WrongMul.apply, _inputs())
    msg = str(info.value)
    assert re.search(r"input\D{0,20}1\b", msg, re.IGNORECASE), f"message should name input 1: {msg}"
    assert re.search(r"[\(\[]1, 2[\)\]]", msg), f"message should name the worst element (1, 2): {msg}"


def test_gradcheck_error_is_an_exception_subclass() -> None:
    assert issubclass(gradlab.GradcheckError, Exception)


def test_gradcheck_catches_wrong_factor_with_non_tensor_arg() -> None:
    x = gradlab.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    with pytest.raises(gradlab.GradcheckError) as info:
        gradlab.gradcheck(lambda t: ScaledExp.apply(t, 0.5), [x])
    assert re.search(r"input\D{0,20}0\b", str(info.value), re.IGNORECASE), str(info.value)


def test_gradcheck_skips_inputs_without_grad() -> None:
    a, b = _inputs()
    b.requires_grad_(False)
    # WrongMul is only wrong for b, which does not require grad
    assert gradlab.gradcheck(WrongMul.apply, [a, b]) is True


def test_gradcheck_leaves_inputs_and_grads_unchanged() -> None:
    a, b = _inputs()
    a_before = to_numpy(a).copy()
    gradlab.gradcheck(Mul.apply, [a, b])
    np.testing.assert_array_equal(to_numpy(a), a_before)
    assert a.grad is None and b.grad is None


def test_function_apply_records_graph_and_needs_input_grad() -> None:
    seen = {}

    class Affine(Function):
        @staticmethod
        def forward(ctx, x, w, shift):
            seen["needs"] = ctx.needs_input_grad
            assert isinstance(x, np.ndarray) and isinstance(w, np.ndarray)
            ctx.shift = shift  # arbitrary attributes on ctx
            ctx.save_for_backward(x, w)
            return x * w + shift

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            seen["shift"] = ctx.shift
            return grad * w, grad * x, None

    x = gradlab.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = gradlab.tensor(np.array([3.0, 4.0]))
    y = Affine.apply(x, w, 0.5)
    assert isinstance(y, gradlab.Tensor) and y.requires_grad and y.grad_fn is not None
    assert seen["needs"] == (True, False, False)
    np.testing.assert_allclose(to_numpy(y), [3.5, 8.5])
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [3.0, 4.0])
    assert w.grad is None and seen["shift"] == 0.5


def test_function_apply_without_grad_inputs_or_under_no_grad() -> None:
    a = gradlab.tensor(np.array([1.0]))
    b = gradlab.tensor(np.array([2.0]))
    y = Mul.apply(a, b)
    assert not y.requires_grad and y.grad_fn is None
    a.requires_grad_()
    with gradlab.no_grad():
        z = Mul.apply(a, b)
    assert not z.requires_grad and z.grad_fn is None
