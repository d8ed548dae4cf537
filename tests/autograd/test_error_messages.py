"""Errors are raised early, with the type torch uses and a message that helps."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab

SHAPE_ERRORS = (ValueError, RuntimeError)


def test_broadcast_mismatch_names_both_shapes() -> None:
    x = gradlab.tensor(np.zeros((2, 3)))
    y = gradlab.tensor(np.zeros(4))
    for op in (lambda: x + y, lambda: x * y, lambda: x - y, lambda: x / y, lambda: y + x):
        with pytest.raises(SHAPE_ERRORS) as info:
            op()
        assert "(2, 3)" in str(info.value) and "(4,)" in str(info.value), str(info.value)


def test_matmul_mismatch_names_both_shapes() -> None:
    a = gradlab.tensor(np.zeros((2, 3)))
    b = gradlab.tensor(np.zeros((4, 5)))
    with pytest.raises(SHAPE_ERRORS) as info:
        a @ b
    assert "(2, 3)" in str(info.value) and "(4, 5)" in str(info.value), str(info.value)


def test_matmul_of_0d_raises() -> None:
    with pytest.raises(SHAPE_ERRORS):
        gradlab.tensor(1.0) @ gradlab.tensor(2.0)


def test_reshape_to_wrong_size_raises() -> None:
    x = gradlab.tensor(np.zeros((3, 4)))
    with pytest.raises(SHAPE_ERRORS) as info:
        x.reshape(5, 2)
    assert "(5, 2)" in str(info.value) or "[5, 2]" in str(info.value), str(info.value)


def test_cat_mismatched_shapes_raises() -> None:
    with pytest.raises(SHAPE_ERRORS):
        gradlab.cat([gradlab.zeros(2, 3), gradlab.zeros(3, 2)], dim=0)


def test_index_out_of_range_raises_index_error() -> None:
    x = gradlab.tensor([1.0, 2.0])
    with pytest.raises(IndexError):
        x[5]


def test_backward_non_scalar_message() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 3.0).backward()


def test_backward_gradient_of_wrong_shape_raises() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(SHAPE_ERRORS):
        (x * 3.0).backward(gradlab.tensor([1.0, 2.0, 3.0]))


@pytest.mark.parametrize(
    "data",
    [
        np.array([1 + 2j, 3j]),
        np.array(["a", "b"]),
        np.array([object(), object()], dtype=object),
        "abc",
        [1.0, "x"],
    ],
    ids=["complex", "str_array", "object_array", "str", "mixed_list"],
)
def test_unsupported_dtype_raises_type_error(data) -> None:
    with pytest.raises(TypeError):
        gradlab.tensor(data)


def test_unsupported_dtype_argument_raises_type_error() -> None:
    with pytest.raises(TypeError):
        gradlab.tensor([1.0], dtype=np.complex128)


def test_requires_grad_on_integer_tensor_raises() -> None:
    with pytest.raises((RuntimeError, TypeError, ValueError)) as info:
        gradlab.tensor([1, 2, 3], requires_grad=True)
    assert "float" in str(info.value).lower()
    t = gradlab.tensor([1, 2, 3])
    with pytest.raises((RuntimeError, TypeError, ValueError)):
        t.requires_grad_()
    assert not t.requires_grad


def test_requires_grad_on_bool_tensor_raises() -> None:
    with pytest.raises((RuntimeError, TypeError, ValueError)):
        gradlab.tensor([True, False], requires_grad=True)


def test_requires_grad_on_non_leaf_cannot_be_turned_off() -> None:
    x = gradlab.tensor([1.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError):
        y.requires_grad_(False)


def test_item_of_multi_element_tensor_raises() -> None:
    with pytest.raises((ValueError, RuntimeError)):
        gradlab.tensor([1.0, 2.0]).item()
