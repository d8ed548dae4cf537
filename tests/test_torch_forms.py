"""Small torch behaviours of the core (issue 16): randint forms, the legacy constructors, ``Size``, ``format``,
NumPy-style ``axis``/``keepdims`` aliases, torch's grad_fn names and ``next_functions``, ``inference_mode``."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.autograd import Variable


@pytest.mark.parametrize("call", [
    lambda m: m.randint(5, size=(2, 3)),
    lambda m: m.randint(1, 5, (2, 3)),
    lambda m: m.randint(1, 5, size=(2, 3)),
    lambda m: m.randint(low=1, high=5, size=(2, 3)),
    lambda m: m.randint(high=5, size=(2, 3)),
    lambda m: m.randint(5, (2, 3)),
])
def test_randint_forms_match_torch(torch, call) -> None:
    g, t = call(gradlab), call(torch)
    assert tuple(g.shape) == tuple(t.shape) == (2, 3) and g.dtype == np.int64 and str(t.dtype) == "torch.int64"
    assert int(g.min()) >= 0 and int(g.max()) < 5


def test_randint_bad_forms_are_named() -> None:
    with pytest.raises(TypeError, match="size"):
        gradlab.randint(5)
    with pytest.raises(ValueError, match="low < high"):
        gradlab.randint(5, 2, (3,))


def test_legacy_constructors_match_torch(torch) -> None:
    for args in [(2, 3), (4,), ()]:
        g, t = gradlab.Tensor(*args), torch.Tensor(*args)
        assert tuple(g.shape) == tuple(t.shape) and g.dtype == np.float32
    assert tuple(gradlab.Tensor(gradlab.Size((2, 5))).shape) == tuple(torch.Tensor(torch.Size((2, 5))).shape)
    assert gradlab.Tensor([1.5, 2.0]).tolist() == torch.Tensor([1.5, 2.0]).tolist()
    assert gradlab.Tensor([1, 2]).dtype == np.float32 and torch.Tensor([1, 2]).dtype == torch.float32
    for name in ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor"]:
        g, t = getattr(gradlab, name)([1, 0]), getattr(torch, name)([1, 0])
        assert str(g.dtype) == str(t.dtype).replace("torch.", "") and g.tolist() == t.tolist()
        assert tuple(getattr(gradlab, name)(2, 3).shape) == tuple(getattr(torch, name)(2, 3).shape)


def test_variable_is_a_tensor(torch) -> None:
    x = gradlab.ones(2)
    assert Variable(x) is x
    v = Variable(x, requires_grad=True)
    (v * v).sum().backward()
    assert v.grad.tolist() == [2.0, 2.0] and not x.requires_grad
    with pytest.raises(TypeError, match="tensor"):
        Variable([1.0])


def test_size_is_a_tuple_with_numel(torch) -> None:
    g, t = gradlab.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    pairs = [(g.shape, t.shape), (g.size(), t.size()), (g.shape[1:], t.shape[1:]), (g.shape + (5,), t.shape + (5,))]
    for gs, ts in pairs:
        assert isinstance(gs, gradlab.Size) and isinstance(gs, tuple) and tuple(gs) == tuple(ts)
        assert gs.numel() == ts.numel()
    assert g.size(1) == 3 and gradlab.tensor(1.0).shape.numel() == 1 and g.shape == (2, 3, 4)


def test_format_of_a_0d_tensor_matches_torch(torch) -> None:
    assert format(gradlab.tensor(1.23456), ".2f") == format(torch.tensor(1.23456), ".2f") == "1.23"
    assert f"{gradlab.tensor(7)}" == f"{torch.tensor(7)}" == "7" and f"{gradlab.tensor(7):>3d}" == "  7"
    with pytest.raises(TypeError, match="format"):
        format(gradlab.ones(2), ".2f")
    with pytest.raises(TypeError, match="format"):
        format(torch.ones(2), ".2f")


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "argmax", "argmin", "logsumexp", "var", "std"])
def test_numpy_style_axis_and_keepdims_as_torch(torch, name) -> None:
    a = np.random.default_rng(0).standard_normal((3, 4))
    g, t = gradlab.tensor(a), torch.tensor(a)
    for kw in [{"axis": 1, "keepdims": True}, {"dim": 0, "keepdims": True}, {"axis": 0}]:
        gv, tv = getattr(g, name)(**kw), getattr(t, name)(**kw)
        np.testing.assert_allclose(gv.numpy(), tv.numpy(), rtol=1e-12)
    np.testing.assert_allclose(getattr(gradlab, name, None)(g, axis=1, keepdims=True).numpy()
                               if hasattr(gradlab, name) else 0,
                               getattr(torch, name)(t, axis=1, keepdims=True).numpy() if hasattr(gradlab, name) else 0)
    with pytest.raises(TypeError, match="axis"):
        getattr(g, name)(0, axis=1)


def test_grad_fn_names_and_next_functions_as_torch(torch) -> None:
    def graph(m, x, w):
        return ((x * 2 + 1) / 3 - x).exp().sum() + m.relu(x @ w).mean()

    a, b = np.ones((2, 3)), np.ones((3, 2))
    gx, gw = gradlab.tensor(a, requires_grad=True), gradlab.tensor(b, requires_grad=True)
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)

    def walk(node, seen):
        if node is None or id(node) in seen:
            return []
        seen.add(id(node))
        out = [node.name().replace("torch::autograd::", "")]
        for nxt, idx in node.next_functions:
            assert idx == 0
            out += walk(nxt, seen)
        return out

    gnames, tnames = walk(graph(gradlab, gx, gw).grad_fn, set()), walk(graph(torch, tx, tw).grad_fn, set())
    assert sorted(gnames) == sorted(tnames)
    leaf = (gx * 2).grad_fn.next_functions[0][0]
    assert leaf.name() == "AccumulateGrad" and leaf.variable is gx and (gx + 1).grad_fn.next_functions[0][0] is leaf
    assert (gx * 2).grad_fn.name == "MulBackward0" and type((gx * 2).grad_fn).__name__ == "Context"


def test_inference_mode_as_torch(torch) -> None:
    x = gradlab.ones(2, requires_grad=True)
    with gradlab.inference_mode():
        assert gradlab.is_inference_mode_enabled() and not gradlab.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad and gradlab.is_grad_enabled() and not gradlab.is_inference_mode_enabled()
    with gradlab.inference_mode(False):
        assert (x * 2).requires_grad

    @gradlab.inference_mode()
    def f(v):
        return v * 2

    @gradlab.inference_mode
    def h(v):
        return v * 2

    assert not f(x).requires_grad and not h(x).requires_grad and (x * 2).requires_grad
