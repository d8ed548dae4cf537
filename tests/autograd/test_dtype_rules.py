"""dtype inference and promotion follow torch (default dtype float32)."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from tests.helpers import to_numpy


@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.5, np.float32),
        ([1.0, 2.0], np.float32),
        ([[1, 2], [3, 4.5]], np.float32),
        (np.array([1.0, 2.0]), np.float64),
        (np.array(1.0), np.float64),
        (np.array([1.0], dtype=np.float32), np.float32),
        (3, np.int64),
        ([1, 2, 3], np.int64),
        (np.array([1, 2], dtype=np.int32), np.int32),
        (True, np.bool_),
        ([True, False], np.bool_),
        (np.array([1, 2], dtype=np.uint8), np.uint8),
    ],
    ids=[
        "py_float", "py_float_list", "mixed_list", "f64_array", "f64_0d", "f32_array", "py_int", "py_int_list",
        "i32_array", "py_bool", "py_bool_list", "u8_array",
    ],
)  # fmt: skip
def test_inferred_dtype(data, dtype) -> None:
    assert gradlab.tensor(data).dtype == np.dtype(dtype)


def test_explicit_dtype() -> None:
    assert gradlab.tensor([1, 2], dtype=gradlab.float64).dtype == np.float64
    assert gradlab.tensor(np.array([1.0, 2.0]), dtype=gradlab.float32).dtype == np.float32
    assert gradlab.float32 == np.dtype("float32") and gradlab.int64 == np.dtype("int64")


def test_tensor_copies_its_input() -> None:
    a = np.array([1.0, 2.0])
    t = gradlab.tensor(a)
    a[0] = 9.0
    assert to_numpy(t)[0] == 1.0


def test_from_numpy_shares_memory() -> None:
    a = np.array([1.0, 2.0])
    t = gradlab.from_numpy(a)
    assert t.dtype == np.float64
    a[0] = 9.0
    assert to_numpy(t)[0] == 9.0


VALUES = {"f32": [1.0, 2.0], "f64": [1.0, 2.0], "i64": [1, 2], "bool": [True, False], "f32_0d": 2.0, "f64_0d": 2.0}


def _gradlab_maker(kind: str):
    if kind.startswith("f64"):
        return gradlab.tensor(np.asarray(VALUES[kind], dtype=np.float64))
    return gradlab.tensor(VALUES[kind])


def _torch_maker(torch):
    dtypes = {"f32": torch.float32, "f64": torch.float64, "i64": torch.int64, "bool": torch.bool}
    return lambda kind: torch.tensor(VALUES[kind], dtype=dtypes[kind.split("_")[0]])


@pytest.mark.parametrize(
    "name, fn",
    [
        ("f32 * 2.0", lambda lib, t: t("f32") * 2.0),
        ("f32 * 2", lambda lib, t: t("f32") * 2),
        ("2.0 * f32", lambda lib, t: 2.0 * t("f32")),
        ("f32 ** 2", lambda lib, t: t("f32") ** 2),
        ("2 ** f32", lambda lib, t: 2 ** t("f32")),
        ("f32 / 2", lambda lib, t: t("f32") / 2),
        ("f32 + f64", lambda lib, t: t("f32") + t("f64")),
        ("f64 + f32", lambda lib, t: t("f64") + t("f32")),
        ("f32 + i64", lambda lib, t: t("f32") + t("i64")),
        ("i64 + 1.5", lambda lib, t: t("i64") + 1.5),
        ("i64 * 2", lambda lib, t: t("i64") * 2),
        ("i64 / i64", lambda lib, t: t("i64") / t("i64")),
        ("i64 + bool", lambda lib, t: t("i64") + t("bool")),
        ("f64 * 0-d f32", lambda lib, t: t("f64") * t("f32_0d")),
        ("f32 * 0-d f64", lambda lib, t: t("f32") * t("f64_0d")),
        ("f32.sum()", lambda lib, t: t("f32").sum()),
        ("f32.mean()", lambda lib, t: t("f32").mean()),
        ("i64.sum()", lambda lib, t: t("i64").sum()),
        ("bool.sum()", lambda lib, t: t("bool").sum()),
        ("f32.exp()", lambda lib, t: t("f32").exp()),
        ("f32 @ f32", lambda lib, t: t("f32") @ t("f32")),
        ("f32.var()", lambda lib, t: t("f32").var()),
        ("f32 softmax", lambda lib, t: lib.nn.functional.softmax(t("f32"), dim=0)),
        ("where f32 f64", lambda lib, t: lib.where(t("bool"), t("f32"), t("f64"))),
        ("maximum i64 f32", lambda lib, t: lib.maximum(t("i64"), t("f32"))),
        ("cat f32 f32", lambda lib, t: lib.cat([t("f32"), t("f32")])),
        ("f32 > 1", lambda lib, t: t("f32") > 1),
        ("i64 == i64", lambda lib, t: t("i64") == t("i64")),
    ],
)
def test_result_dtype_matches_torch(name, fn, torch) -> None:
    ours = fn(gradlab, _gradlab_maker)
    theirs = fn(torch, _torch_maker(torch))
    assert ours.dtype == to_numpy(theirs).dtype, f"{name}: gradlab {ours.dtype}, torch {theirs.dtype}"


def test_grad_dtype_follows_input_dtype() -> None:
    a = gradlab.tensor([1.0, 2.0], requires_grad=True)
    b = gradlab.tensor(np.array([3.0, 4.0]), requires_grad=True)
    (a * b).sum().backward()
    assert (a * b).dtype == np.float64
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_conversions() -> None:
    x = gradlab.tensor([1.7, -2.2])
    assert x.double().dtype == np.float64
    assert x.double().float().dtype == np.float32
    assert x.to(gradlab.float64).dtype == np.float64
    assert x.long().dtype == np.int64
    assert x.long().tolist() == [1, -2]  # truncation toward zero, as torch


def test_conversion_is_differentiable() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * gradlab.tensor(np.array([3.0, 4.0]))
    assert y.dtype == np.float64 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(to_numpy(x.grad), [3.0, 4.0])


def test_item_tolist_numpy_len_iter() -> None:
    x = gradlab.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(gradlab.tensor(2.5).item(), float) and gradlab.tensor(2.5).item() == 2.5
    assert isinstance(gradlab.tensor(3).item(), int)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert isinstance(x.numpy(), np.ndarray)
    with pytest.raises(RuntimeError):  # as torch: numpy() of a tensor that requires grad needs detach()
        gradlab.tensor([1.0], requires_grad=True).numpy()
    assert len(x) == 2 and x.shape == (2, 2) and x.ndim == 2 and x.numel() == 4
    assert x.size() == (2, 2) and x.size(1) == 2 and x.size(-1) == 2
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]
