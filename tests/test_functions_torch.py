"""Torch names added for the compat suite: top-level functions (``is_tensor``, ``meshgrid``, ``hstack`` ...), the
extra Tensor methods, ``nn.init.orthogonal_``, ``gradlab.utils.data``, ``gradlab.backends``, in-place ops on 0-d
tensors and ``set_default_device(None)``; each compared with torch."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab

A = np.array([[1.5, -2.0, 0.5], [3.0, 0.25, -1.0]])


def test_one_tensor_functions_match_torch(torch) -> None:
    g, t = gradlab.tensor(np.abs(A) + 0.1), torch.tensor(np.abs(A) + 0.1)
    for name in ("rsqrt", "reciprocal", "expm1", "log2", "square", "logical_not", "isinf", "isnan", "isfinite",
                 "ravel", "sign", "t", "clone", "detach", "diag", "all", "any"):
        np.testing.assert_allclose(getattr(gradlab, name)(g).numpy(), getattr(torch, name)(t).numpy(), err_msg=name)
    np.testing.assert_allclose(gradlab.log_softmax(g, 1).numpy(), torch.log_softmax(t, 1).numpy())
    for name, args in [("clamp_min", (0.3,)), ("clamp_max", (0.3,)), ("clip", (0.2, 1.0)), ("amax", (1,)),
                       ("unflatten", (1, (3, 1))), ("movedim", (0, 1)), ("swapaxes", (0, 1)), ("tile", ((2, 1),)),
                       ("broadcast_to", ((2, 2, 3),)), ("eq", (1.6,)), ("lt", (1.0,)), ("index_select", (1, [2, 0]))]:
        targs = tuple(torch.tensor(a) if isinstance(a, list) else a for a in args)
        np.testing.assert_allclose(getattr(gradlab, name)(g, *args).numpy(), getattr(torch, name)(t, *targs).numpy(),
                                   err_msg=name)
    assert gradlab.is_tensor(g) and not gradlab.is_tensor(A) and gradlab.numel(g) == 6


def test_vector_and_stacking_functions_match_torch(torch) -> None:
    a, b = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 2.0])
    for name in ("outer", "dot"):
        np.testing.assert_allclose(getattr(gradlab, name)(gradlab.tensor(a), gradlab.tensor(b)).numpy(),
                                   getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
    for k in (-1, 0, 2):
        np.testing.assert_allclose(gradlab.diag(gradlab.tensor(a), k).numpy(), torch.diag(torch.tensor(a), k).numpy())
        np.testing.assert_allclose(gradlab.diag(gradlab.tensor(A), k).numpy(), torch.diag(torch.tensor(A), k).numpy())
    for name in ("hstack", "vstack"):
        for parts in ([a, b], [A, A]):
            np.testing.assert_allclose(getattr(gradlab, name)([gradlab.tensor(p) for p in parts]).numpy(),
                                       getattr(torch, name)([torch.tensor(p) for p in parts]).numpy())
    for indexing in ("ij", "xy"):
        got = gradlab.meshgrid(gradlab.tensor(a), gradlab.tensor(b[:2]), indexing=indexing)
        want = torch.meshgrid(torch.tensor(a), torch.tensor(b[:2]), indexing=indexing)
        for x, y in zip(got, want):
            np.testing.assert_allclose(x.numpy(), y.numpy())


def test_differentiable_helpers_backprop_as_torch(torch) -> None:
    a = np.array([1.0, 2.0, 3.0])
    g, t = gradlab.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for lib, x in ((gradlab, g), (torch, t)):
        (lib.outer(x, x).sum() + lib.dot(x, x) + (lib.diag(x) * 3).sum() + x.rsqrt().sum() + x.log2().sum()
         + lib.meshgrid(x, x, indexing="ij")[1].sum()).backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy())


def test_in_place_methods_match_torch(torch) -> None:
    for name, args in [("relu_", ()), ("sigmoid_", ()), ("tanh_", ()), ("exp_", ()), ("abs_", ()), ("neg_", ()),
                       ("pow_", (2,)), ("square_", ())]:
        g, t = gradlab.tensor(A.copy()), torch.tensor(A.copy())
        assert getattr(g, name)(*args) is g
        getattr(t, name)(*args)
        np.testing.assert_allclose(g.numpy(), t.numpy(), err_msg=name)


def test_in_place_ops_on_0d_tensors() -> None:
    total = 0 + gradlab.tensor([True, False, True]).sum()
    total += gradlab.tensor([True, True]).sum()
    assert total.item() == 4
    x = gradlab.tensor([1.0, 2.0]).sum()
    x.mul_(2)
    x -= 1
    assert x.item() == 5.0


def test_orthogonal_init_as_torch(torch) -> None:
    from gradlab.nn import init

    for shape in [(3, 5), (5, 3), (4, 2, 3, 3)]:
        w = init.orthogonal_(gradlab.empty(*shape), gain=2.0, generator=gradlab.Generator(0))
        flat = w.numpy().reshape(shape[0], -1)
        small = min(flat.shape)
        gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more"):
        init.orthogonal_(gradlab.empty(3))


def test_torch_module_aliases() -> None:
    import gradlab.utils.data as utils_data

    assert utils_data.DataLoader is gradlab.data.DataLoader and gradlab.utils.data.TensorDataset
    gradlab.backends.cudnn.benchmark = True
    assert gradlab.backends.cudnn.is_available() is False and gradlab.backends.mps.is_available() is False
    gradlab.set_default_device(None)
    assert gradlab.zeros(1).device == gradlab.device("cpu")


def test_size_prints_as_torch() -> None:
    s = gradlab.zeros(2, 3).shape
    assert repr(s) == "gradlab.Size([2, 3])" and str(gradlab.Size([])) == "gradlab.Size([])"


def test_out_on_arithmetic_as_torch(torch) -> None:
    a, b = np.array([[1.0, -2.0], [3.0, 4.0]]), np.array([0.5, -1.0])
    for name, kw in [("add", {"alpha": 2}), ("sub", {}), ("mul", {}), ("div", {}), ("div", {"rounding_mode": "floor"})]:
        g_out, t_out = gradlab.zeros(2, 2, dtype=gradlab.float64), torch.zeros(2, 2, dtype=torch.float64)
        r = getattr(gradlab, name)(gradlab.tensor(a), gradlab.tensor(b), out=g_out, **kw)
        getattr(torch, name)(torch.tensor(a), torch.tensor(b), out=t_out, **kw)
        assert r is g_out
        np.testing.assert_allclose(g_out.numpy(), t_out.numpy(), err_msg=name)
    g_out = gradlab.zeros(2, 2)
    gradlab.mm(gradlab.tensor(a), gradlab.tensor(a), out=g_out)
    np.testing.assert_allclose(g_out.numpy(), a @ a, rtol=1e-6)
    resized = gradlab.zeros(1)
    gradlab.add(gradlab.ones(3), 1, out=resized)
    assert resized.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="out="):
        gradlab.add(gradlab.ones(2, requires_grad=True), 1, out=gradlab.zeros(2))


def test_counting_sampling_and_accumulating_methods_match_torch(torch) -> None:
    a = np.random.default_rng(0).standard_normal((3, 4))
    g, t = gradlab.tensor(a), torch.tensor(a)
    idx = np.array([[0, 2, 1, 3], [1, 1, 0, 0], [3, 3, 3, 3]])
    np.testing.assert_allclose(gradlab.take_along_dim(g, gradlab.tensor(idx), 1).numpy(),
                               torch.take_along_dim(t, torch.tensor(idx), 1).numpy())
    np.testing.assert_allclose(g.take_along_dim(gradlab.tensor(idx[:, :1]), dim=1).numpy(),
                               t.take_along_dim(torch.tensor(idx[:, :1]), dim=1).numpy())
    src, pos = np.arange(9.0).reshape(3, 3), np.array([0, 3, 0])
    got = g.clone().index_add_(1, gradlab.tensor(pos), gradlab.tensor(src), alpha=2)
    np.testing.assert_allclose(got.numpy(), t.clone().index_add_(1, torch.tensor(pos), torch.tensor(src), alpha=2))
    np.testing.assert_allclose(gradlab.addcmul(g, g, g, value=0.5).numpy(), torch.addcmul(t, t, t, value=0.5))
    np.testing.assert_allclose(g.addcdiv(g, g.abs() + 1, value=2).numpy(), t.addcdiv(t, t.abs() + 1, value=2))
    ints = np.array([[0, 1, 3], [2, 0, 3]])
    counts = torch.count_nonzero(torch.tensor(ints), 0).tolist()
    assert gradlab.count_nonzero(gradlab.tensor(ints), 0).tolist() == counts
    assert gradlab.bincount(gradlab.tensor(ints[0]), minlength=5).tolist() == torch.bincount(
        torch.tensor(ints[0]), minlength=5).tolist()
    assert gradlab.isclose(g, g + 1e-9).all().item() and gradlab.equal(g, g.clone()) and not gradlab.equal(g, g[:1])
    gradlab.manual_seed(0)
    draws = gradlab.zeros(4000).bernoulli_(0.3)
    assert set(np.unique(draws.numpy())) == {0.0, 1.0} and abs(draws.mean().item() - 0.3) < 0.03
    assert gradlab.bernoulli(gradlab.full((3,), 1.0)).tolist() == [1.0, 1.0, 1.0]


def test_two_argument_functions_match_torch_on_every_quadrant(torch) -> None:
    y = np.array([1.0, -1.0, 1.0, -1.0, 0.0, 0.0, 2.0])
    x = np.array([1.0, 1.0, -1.0, -1.0, -1.0, 1.0, 0.5])
    for name in ("atan2", "hypot"):
        np.testing.assert_allclose(getattr(gradlab, name)(gradlab.tensor(y), gradlab.tensor(x)).numpy(),
                                   getattr(torch, name)(torch.tensor(y), torch.tensor(x)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(gradlab.xlogy(gradlab.tensor(y + 1), 3.0).numpy(), torch.xlogy(torch.tensor(y + 1), 3.0))
    np.testing.assert_allclose(gradlab.tensor(x).exp2().numpy(), torch.tensor(x).exp2().numpy())
    p = np.array([0.0, 0.3, 1.0])
    np.testing.assert_allclose(gradlab.logit(gradlab.tensor(p), eps=1e-6).numpy(), torch.logit(torch.tensor(p), 1e-6))


def test_reductions_indices_and_stacking_added_last_match_torch(torch) -> None:
    a = np.random.default_rng(0).standard_normal((3, 4))
    g, t = gradlab.tensor(a), torch.tensor(a)
    assert gradlab.median(g).item() == torch.median(t).item()
    for dim, keep in ((0, True), (1, False)):
        got, want = gradlab.median(g, dim, keepdim=keep), torch.median(t, dim, keepdim=keep)
        assert got.values.tolist() == want.values.tolist() and got.indices.tolist() == want.indices.tolist()
    b = np.array([np.nan, np.inf, -np.inf, 1.0])
    assert gradlab.nan_to_num(gradlab.tensor(b)).tolist() == torch.nan_to_num(torch.tensor(b)).tolist()
    assert gradlab.nan_to_num(gradlab.tensor(b), 1.0, 2.0, 3.0).tolist() == [1.0, 2.0, 3.0, 1.0]
    assert gradlab.tril_indices(3, 4, 1).tolist() == torch.tril_indices(3, 4, 1).tolist()
    assert gradlab.triu_indices(4, 3, -1).tolist() == torch.triu_indices(4, 3, -1).tolist()
    for name in ("dstack", "column_stack"):
        for parts in ([a[0], a[1]], [a, a]):
            np.testing.assert_allclose(getattr(gradlab, name)([gradlab.tensor(p) for p in parts]).numpy(),
                                       getattr(torch, name)([torch.tensor(p) for p in parts]).numpy())
    for name in ("std_mean", "var_mean"):
        for got, want in zip(getattr(gradlab, name)(g, 1), getattr(torch, name)(t, 1)):
            np.testing.assert_allclose(got.numpy(), want.numpy())
    assert gradlab.logical_xor(g > 0, g > 1).tolist() == torch.logical_xor(t > 0, t > 1).tolist()
    assert gradlab.fliplr(g).tolist() == torch.fliplr(t).tolist()
    assert gradlab.flipud(g).tolist() == torch.flipud(t).tolist()
    s = gradlab.seed()
    assert gradlab.initial_seed() == s


def test_atan2_at_the_origin_and_signed_zeros_matches_torch(torch) -> None:
    """atan2(0, 0) is 0 and the signs of zeros pick the half-turn, forward and gradient, as in torch."""
    y = np.array([0.0, -0.0, 0.0, -0.0, 1.0, -1.0], dtype=np.float32)
    x = np.array([0.0, 0.0, -0.0, -0.0, 0.0, -1.0], dtype=np.float32)
    gy, gx = gradlab.tensor(y, requires_grad=True), gradlab.tensor(x, requires_grad=True)
    ty, tx = torch.tensor(y, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = gradlab.atan2(gy, gx), torch.atan2(ty, tx)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(np.signbit(out.detach().numpy()), np.signbit(ref.detach().numpy()))
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(gy.grad.numpy(), ty.grad.numpy())
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())
    assert out.dtype == gradlab.float32 and gy.grad.dtype == gradlab.float32
