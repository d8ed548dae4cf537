"""The non-differentiable Tensor methods and functions added for issue 16, compared with torch."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab


def _both(torch, a):
    return gradlab.tensor(a), torch.tensor(a)


def test_new_factories_and_counts(torch) -> None:
    g, t = _both(torch, np.ones((2, 3), dtype=np.float64))
    cases = [("new_zeros", (2, 2)), ("new_ones", ((3,),)), ("new_full", ((2,), 7.0)), ("new_tensor", ([1, 2],))]
    for name, args in cases:
        gv, tv = getattr(g, name)(*args), getattr(t, name)(*args)
        assert gv.tolist() == tv.tolist() and str(gv.dtype) == str(tv.dtype).replace("torch.", "")
    assert g.nelement() == t.nelement() == 6
    assert g.new_zeros(2, dtype=gradlab.int64).dtype == np.int64
    gi, ti = _both(torch, np.arange(3))
    assert str(gi.type_as(g).dtype) == str(ti.type_as(t).dtype).replace("torch.", "")


def test_argsort_nonzero_unique_allclose(torch) -> None:
    a = np.array([[3, 1, 2, 1], [0, 5, 0, 4]])
    g, t = _both(torch, a)
    assert g.argsort(dim=1, stable=True).tolist() == t.argsort(dim=1, stable=True).tolist()
    assert gradlab.argsort(g, 0, descending=True).tolist() == torch.argsort(t, 0, descending=True).tolist()
    assert g.nonzero().tolist() == t.nonzero().tolist()
    assert [x.tolist() for x in g.nonzero(as_tuple=True)] == [x.tolist() for x in t.nonzero(as_tuple=True)]
    gu, tu = g.unique(return_inverse=True, return_counts=True), t.unique(return_inverse=True, return_counts=True)
    assert [x.tolist() for x in gu] == [x.tolist() for x in tu]
    assert gradlab.allclose(gradlab.tensor([1.0]), gradlab.tensor([1.0 + 1e-7])) is True
    assert gradlab.ones(2).allclose(gradlab.zeros(2)) is torch.ones(2).allclose(torch.zeros(2)) is False


def test_scatter_and_masked_fill_in_place(torch) -> None:
    idx = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])
    src = np.arange(8, dtype=np.float64).reshape(2, 4) + 1
    gz, tz = _both(torch, np.zeros((3, 4)))
    gz.scatter_(0, gradlab.tensor(idx), gradlab.tensor(src))
    tz.scatter_(0, torch.tensor(idx), torch.tensor(src))
    assert gz.tolist() == tz.tolist()
    gz.scatter_add_(0, gradlab.tensor(idx), gradlab.tensor(src))
    tz.scatter_add_(0, torch.tensor(idx), torch.tensor(src))
    assert gz.tolist() == tz.tolist()
    gz.scatter_(1, gradlab.tensor(idx[:, :2]), 9.0)
    tz.scatter_(1, torch.tensor(idx[:, :2]), 9.0)
    assert gz.tolist() == tz.tolist()
    gm, tm = gz > 5, tz > 5
    assert gz.masked_fill_(gm, -1.0).tolist() == tz.masked_fill_(tm, -1.0).tolist()
    w = gradlab.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.masked_fill_(gradlab.tensor([True, False]), 1.0)


def test_multinomial_follows_the_weights_and_the_generator() -> None:
    w = gradlab.tensor([[0.0, 1.0, 3.0], [1.0, 0.0, 0.0]])
    draws = w.multinomial(4000, replacement=True, generator=gradlab.Generator(1))
    assert draws.shape == (2, 4000) and set(draws[1].tolist()) == {0}
    assert abs((draws[0] == 2).float().mean().item() - 0.75) < 0.03 and 0 not in draws[0].tolist()
    again = w.multinomial(4000, replacement=True, generator=gradlab.Generator(1))
    assert draws.tolist() == again.tolist()
    assert sorted(gradlab.multinomial(gradlab.ones(5), 5).tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="without replacement"):
        w.multinomial(3)
    with pytest.raises(RuntimeError, match="non-negative"):
        gradlab.tensor([-1.0, 2.0]).multinomial(1)


def test_function_forms_match_torch(torch) -> None:
    a = np.random.default_rng(0).standard_normal((3, 3))
    g, t = _both(torch, a)
    for name, args in [("mm", (g,)), ("pow", (2,)), ("mul", (3.0,)), ("div", (2.0,))]:
        targs = tuple(t if x is g else x for x in args)
        np.testing.assert_allclose(getattr(gradlab, name)(g, *args).numpy(), getattr(torch, name)(t, *targs).numpy())
    with pytest.raises(ValueError, match="rounding_mode"):
        gradlab.div(g, 2, rounding_mode="round")
    with pytest.raises(ValueError, match="ellipsis"):
        gradlab.einsum("...i...->i", g)
    with pytest.raises(ValueError, match="distinct"):
        gradlab.einsum("ii->i", g)
    with pytest.raises(RuntimeError, match="3-D"):
        gradlab.bmm(g, g)
    with pytest.raises(IndexError, match="narrow"):
        g.narrow(0, 2, 5)
