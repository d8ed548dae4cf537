"""Every loss against torch (values, input and target gradients, every option), plus gradcheck of the fused ops."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
import gradlab.nn.functional as F
from gradlab import nn
from tests.helpers import assert_close, to_torch
from tests.nn.common import tol

REDUCTIONS = ["mean", "sum", "none"]


def _run(gl_fn, torch_fn, arrays: dict, grads: tuple, dtype, seed: int = 0) -> None:
    """Call both with the same arrays; compare the loss and the gradients of the names in ``grads``."""
    g_in = {k: gradlab.tensor(v, requires_grad=k in grads) if v is not None else None for k, v in arrays.items()}
    t_in = {k: to_torch(v, requires_grad=k in grads) if v is not None else None for k, v in arrays.items()}
    gl, tl = gl_fn(**g_in), torch_fn(**t_in)
    assert gl.dtype == tl.detach().numpy().dtype
    assert_close(gl, tl, **tol(dtype), msg="loss")
    up = np.random.default_rng(seed).uniform(0.5, 1.5, gl.shape).astype(gl.dtype)
    gl.backward(up)
    tl.backward(to_torch(up))
    for k in grads:
        assert_close(g_in[k].grad, t_in[k].grad, **tol(dtype), msg=f"grad of {k}")


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---- regression losses ----------------------------------------------------------------------------------------------
POINTWISE = [
    ("mse", lambda m: nn.MSELoss(reduction=m), lambda t, m: t.nn.MSELoss(reduction=m)),
    ("l1", lambda m: nn.L1Loss(reduction=m), lambda t, m: t.nn.L1Loss(reduction=m)),
    ("huber", lambda m: nn.HuberLoss(reduction=m), lambda t, m: t.nn.HuberLoss(reduction=m)),
    ("huber0.5", lambda m: nn.HuberLoss(m, delta=0.5), lambda t, m: t.nn.HuberLoss(m, delta=0.5)),
    ("smoothl1", lambda m: nn.SmoothL1Loss(reduction=m), lambda t, m: t.nn.SmoothL1Loss(reduction=m)),
    ("smoothl1_2", lambda m: nn.SmoothL1Loss(reduction=m, beta=2.0),
     lambda t, m: t.nn.SmoothL1Loss(reduction=m, beta=2.0)),
    ("smoothl1_0", lambda m: nn.SmoothL1Loss(reduction=m, beta=0.0),
     lambda t, m: t.nn.SmoothL1Loss(reduction=m, beta=0.0)),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", POINTWISE, ids=[c[0] for c in POINTWISE])
def test_pointwise_losses_match_torch(torch, case, reduction, dtype) -> None:
    _, make, make_torch = case
    x = (_rng(1).standard_normal((4, 5)) * 2).astype(dtype)
    y = (_rng(2).standard_normal((4, 5)) * 2).astype(dtype)
    g, t = make(reduction), make_torch(torch, reduction)
    _run(lambda input, target: g(input, target), lambda input, target: t(input, target),
         {"input": x, "target": y}, ("input", "target"), dtype)  # fmt: skip


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_pointwise_losses_match_torch(torch, name, reduction) -> None:
    x, y, w = _rng(1).standard_normal((3, 4)), _rng(2).standard_normal((3, 4)), _rng(3).uniform(0, 2, (3, 4))
    _run(lambda **kw: getattr(F, name)(reduction=reduction, **kw),
         lambda **kw: getattr(torch.nn.functional, name)(reduction=reduction, **kw),
         {"input": x, "target": y, "weight": w}, ("input", "target"), np.float64)  # fmt: skip


def test_pointwise_broadcasting_and_gradcheck() -> None:
    x = gradlab.tensor(_rng(1).standard_normal((3, 4)), requires_grad=True)
    y = gradlab.tensor(_rng(2).standard_normal((4,)), requires_grad=True)
    for fn in (F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss):
        assert gradlab.gradcheck(lambda a, b, fn=fn: fn(a, b, reduction="none"), (x, y))
        assert gradlab.gradcheck(fn, (x, y))


@pytest.mark.filterwarnings("ignore:size_average and reduce")
def test_legacy_size_average_reduce_arguments(torch) -> None:
    x, y = _rng(1).standard_normal(5), _rng(2).standard_normal(5)
    for kw in ({"size_average": False}, {"reduce": False}, {"size_average": True, "reduce": True}):
        assert_close(F.mse_loss(gradlab.tensor(x), gradlab.tensor(y), **kw),
                     torch.nn.functional.mse_loss(to_torch(x), to_torch(y), **kw))  # fmt: skip
    with pytest.raises(ValueError):
        F.mse_loss(gradlab.tensor(x), gradlab.tensor(y), reduction="avg")


# ---- binary cross-entropy -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(torch, reduction, weighted, dtype) -> None:
    p = _rng(1).uniform(0.02, 0.98, (4, 3)).astype(dtype)
    y = _rng(2).uniform(0, 1, (4, 3)).astype(dtype)
    w = _rng(3).uniform(0.5, 2, (3,)).astype(dtype) if weighted else None
    _run(lambda input, target, weight: F.binary_cross_entropy(input, target, weight, reduction=reduction),
         lambda input, target, weight: torch.nn.functional.binary_cross_entropy(input, target, weight,
                                                                                reduction=reduction),
         {"input": p, "target": y, "weight": w}, ("input", "target"), dtype)  # fmt: skip


def test_bce_clamps_log_like_torch(torch) -> None:
    p, y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    g = F.binary_cross_entropy(gradlab.tensor(p), gradlab.tensor(y), reduction="none")
    t = torch.nn.functional.binary_cross_entropy(to_torch(p), to_torch(y), reduction="none")
    assert_close(g, t)
    assert_close(g, [100.0, 100.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(gradlab.tensor([1.5]), gradlab.tensor([1.0]))
    with pytest.raises(ValueError, match="size"):
        F.binary_cross_entropy(gradlab.tensor([0.5, 0.5]), gradlab.tensor([1.0]))
    assert round(nn.BCELoss()(gradlab.tensor([0.5]), gradlab.tensor([1.0])).item(), 4) == 0.6931


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_matches_torch(torch, reduction, weighted, pos_weighted, dtype) -> None:
    x = (_rng(1).standard_normal((5, 3)) * 4).astype(dtype)
    y = _rng(2).uniform(0, 1, (5, 3)).astype(dtype)
    w = _rng(3).uniform(0.5, 2, (5, 1)).astype(dtype) if weighted else None
    pw = _rng(4).uniform(0.5, 3, (3,)).astype(dtype) if pos_weighted else None
    g = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)
    t = torch.nn.BCEWithLogitsLoss(weight=None if w is None else to_torch(w),
                                   pos_weight=None if pw is None else to_torch(pw), reduction=reduction)  # fmt: skip
    _run(lambda input, target: g(input, target), lambda input, target: t(input, target),
         {"input": x, "target": y}, ("input", "target"), dtype)  # fmt: skip


def test_bce_with_logits_is_stable_and_gradchecks() -> None:
    x = gradlab.tensor([-1000.0, 1000.0, 0.0], dtype=gradlab.float64, requires_grad=True)
    y = gradlab.tensor([0.0, 1.0, 1.0], dtype=gradlab.float64)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    assert np.all(np.isfinite(loss._data)) and loss._data[0] == 0 and loss._data[1] == 0
    xs = gradlab.tensor(_rng(1).standard_normal((3, 2)), requires_grad=True)
    ys = gradlab.tensor(_rng(2).uniform(0, 1, (3, 2)), requires_grad=True)
    pw = gradlab.tensor([2.0, 0.5], dtype=gradlab.float64)
    assert gradlab.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw), (xs, ys))
    ps = gradlab.tensor(_rng(3).uniform(0.1, 0.9, (3, 2)), requires_grad=True)
    assert gradlab.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"), (ps, ys))


# ---- cross-entropy and NLL -------------------------------------------------------------------------------------------
CE_SHAPES = [((6, 5), (6,)), ((5,), ()), ((3, 4, 2, 3), (3, 2, 3))]


def _targets(tshape, c, seed=5, ignore=None):
    t = _rng(seed).integers(0, c, tshape)
    if ignore is not None and t.ndim:
        t.reshape(-1)[::3] = ignore
    return np.asarray(t, dtype=np.int64)


@pytest.mark.parametrize("shapes", CE_SHAPES, ids=["2d", "1d", "4d"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "opts",
    [{}, {"weight": True}, {"label_smoothing": 0.2}, {"ignore_index": 1}, {"ignore_index": -100, "ignore": True},
     {"weight": True, "label_smoothing": 0.3, "ignore_index": 2}],
    ids=["plain", "weight", "smooth", "ignore1", "ignore-100", "all"],
)  # fmt: skip
def test_cross_entropy_class_indices_match_torch(torch, shapes, reduction, opts) -> None:
    xshape, tshape = shapes
    c = xshape[1] if len(xshape) > 1 else xshape[0]
    opts = dict(opts)
    ignore = opts.pop("ignore", False)
    kw = {k: v for k, v in opts.items() if k != "weight"}
    ii = opts.get("ignore_index")
    y = _targets(tshape, c, ignore=(ii if ignore or ii is not None else None))
    x = _rng(1).standard_normal(xshape) * 3
    w = _rng(2).uniform(0.2, 2.0, c) if opts.get("weight") else None
    _run(lambda input, target, weight: F.cross_entropy(input, target, weight, reduction=reduction, **kw),
         lambda input, target, weight: torch.nn.functional.cross_entropy(input, target, weight, reduction=reduction,
                                                                         **kw),
         {"input": x, "target": y, "weight": w}, ("input",), np.float64)  # fmt: skip


@pytest.mark.parametrize("shapes", CE_SHAPES, ids=["2d", "1d", "4d"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "opts", [{}, {"weight": True}, {"label_smoothing": 0.25}, {"weight": True, "label_smoothing": 0.1}]
)
def test_cross_entropy_probability_targets_match_torch(torch, shapes, reduction, opts) -> None:
    xshape, _ = shapes
    c = xshape[1] if len(xshape) > 1 else xshape[0]
    x = _rng(1).standard_normal(xshape) * 3
    probs = np.exp(_rng(3).standard_normal(xshape))
    probs /= probs.sum(axis=1 if len(xshape) > 1 else 0, keepdims=True)
    w = _rng(2).uniform(0.2, 2.0, c) if opts.get("weight") else None
    ls = opts.get("label_smoothing", 0.0)
    _run(lambda input, target, weight: F.cross_entropy(input, target, weight, reduction=reduction, label_smoothing=ls),
         lambda input, target, weight: torch.nn.functional.cross_entropy(input, target, weight, reduction=reduction,
                                                                         label_smoothing=ls),
         {"input": x, "target": probs, "weight": w}, ("input", "target"), np.float64)  # fmt: skip


def test_cross_entropy_float32_hot_path(torch) -> None:
    x = _rng(0).standard_normal((128, 10)).astype(np.float32) * 5
    y = _rng(1).integers(0, 10, 128)
    g, t = gradlab.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    gl, tl = nn.CrossEntropyLoss()(g, gradlab.tensor(y)), torch.nn.CrossEntropyLoss()(t, torch.from_numpy(y))
    assert gl.dtype == np.float32 and gl.shape == ()
    assert_close(gl, tl, rtol=1e-5, atol=1e-6)
    assert gl.grad_fn.name == "NllLossBackward0" and gl.grad_fn.next[0] is g  # one fused node
    gl.backward()
    tl.backward()
    assert g.grad.dtype == np.float32
    assert_close(g.grad, t.grad, rtol=1e-5, atol=1e-7)


def test_cross_entropy_is_stable_for_huge_logits(torch) -> None:
    x = np.array([[1e4, 0.0, -1e4], [-5e3, 5e3, 0.0]])
    g = F.cross_entropy(gradlab.tensor(x), gradlab.tensor([0, 0]))
    t = torch.nn.functional.cross_entropy(to_torch(x), torch.tensor([0, 0]))
    assert np.isfinite(g.item())
    assert_close(g, t)


def test_cross_entropy_gradcheck_all_options() -> None:
    x = gradlab.tensor(_rng(1).standard_normal((4, 3)), requires_grad=True)
    y = gradlab.tensor([0, 2, 1, 2])
    w = gradlab.tensor([0.5, 2.0, 1.0], dtype=gradlab.float64)
    assert gradlab.gradcheck(lambda a: F.cross_entropy(a, y), (x,))
    assert gradlab.gradcheck(lambda a: F.cross_entropy(a, y, w, ignore_index=1, label_smoothing=0.2), (x,))
    assert gradlab.gradcheck(lambda a: F.cross_entropy(a, y, reduction="none"), (x,))
    p = gradlab.tensor(_rng(2).uniform(0.1, 1, (4, 3)), requires_grad=True)
    assert gradlab.gradcheck(lambda a, b: F.cross_entropy(a, b, w, label_smoothing=0.1), (x, p))
    x4 = gradlab.tensor(_rng(3).standard_normal((2, 3, 2)), requires_grad=True)
    assert gradlab.gradcheck(lambda a: F.cross_entropy(a, gradlab.tensor([[0, 2], [1, 1]])), (x4,))


def test_cross_entropy_errors_and_edge_cases(torch) -> None:
    x = gradlab.randn(3, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, gradlab.tensor([0, 4, 1]))
    with pytest.raises(IndexError):
        F.cross_entropy(x, gradlab.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match="target size"):
        F.cross_entropy(x, gradlab.tensor([0, 1]))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, gradlab.tensor([0, 1, 2]), label_smoothing=1.5)
    all_ignored = F.cross_entropy(x, gradlab.tensor([-100, -100, -100]))
    assert np.isnan(all_ignored.item())  # 0 / 0, as torch
    assert np.isnan(torch.nn.functional.cross_entropy(torch.randn(3, 4), torch.tensor([-100] * 3)).item())
    assert F.cross_entropy(x, [0, 1, 2]).shape == ()  # plain lists are accepted as targets


@pytest.mark.parametrize("shapes", CE_SHAPES, ids=["2d", "1d", "4d"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"weight": True}, {"ignore_index": 0}, {"weight": True, "ignore_index": 1}])
def test_nll_loss_matches_torch(torch, shapes, reduction, opts) -> None:
    xshape, tshape = shapes
    c = xshape[1] if len(xshape) > 1 else xshape[0]
    x = _rng(1).standard_normal(xshape)
    y = _targets(tshape, c)
    w = _rng(2).uniform(0.2, 2.0, c) if opts.get("weight") else None
    kw = {k: v for k, v in opts.items() if k != "weight"}
    g = nn.NLLLoss(weight=None if w is None else gradlab.tensor(w), reduction=reduction, **kw)
    t = torch.nn.NLLLoss(weight=None if w is None else to_torch(w), reduction=reduction, **kw)
    _run(lambda input, target: g(input, target), lambda input, target: t(input, target),
         {"input": x, "target": y}, ("input",), np.float64)  # fmt: skip


def test_log_softmax_plus_nll_equals_cross_entropy() -> None:
    x, y = gradlab.randn(5, 4), gradlab.tensor([0, 1, 2, 3, 0])
    assert_close(F.nll_loss(F.log_softmax(x, 1), y), F.cross_entropy(x, y), rtol=1e-6, atol=1e-6)
    xs = gradlab.tensor(_rng(0).standard_normal((3, 4)), requires_grad=True)
    assert gradlab.gradcheck(lambda a: F.nll_loss(a, gradlab.tensor([1, 3, 0]), reduction="sum"), (xs,))


# ---- KL divergence ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(torch, reduction, log_target, dtype) -> None:
    logits = _rng(1).standard_normal((4, 5))
    x = (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(dtype)
    p = np.exp(_rng(2).standard_normal((4, 5)))
    p /= p.sum(1, keepdims=True)
    p[0, 0] = 0.0  # a zero target contributes 0
    t = (np.log(p + 1e-3) if log_target else p).astype(dtype)
    g = nn.KLDivLoss(reduction=reduction, log_target=log_target)
    tm = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)
    grads = ("input", "target") if log_target else ("input",)
    _run(lambda input, target: g(input, target), lambda input, target: tm(input, target),
         {"input": x, "target": t}, grads, dtype)  # fmt: skip


def test_kl_div_gradcheck() -> None:
    x = gradlab.tensor(_rng(1).standard_normal((3, 4)), requires_grad=True)
    t = gradlab.tensor(_rng(2).uniform(0.1, 1, (3, 4)), requires_grad=True)
    assert gradlab.gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), (x, t))
    assert gradlab.gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True), (x, t))


def test_loss_module_reprs_and_buffers(torch) -> None:
    for g, t in [(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()), (nn.MSELoss(), torch.nn.MSELoss()),
                 (nn.KLDivLoss(), torch.nn.KLDivLoss()), (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss())]:
        assert repr(g) == repr(t)
    w = gradlab.tensor([1.0, 2.0])
    loss = nn.CrossEntropyLoss(weight=w)
    assert loss.weight is w and "weight" in loss.state_dict()
    assert list(nn.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
