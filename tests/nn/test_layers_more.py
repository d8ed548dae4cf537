"""The layers added for issue 16 against torch with the same weights: outputs, input and parameter gradients,
reprs, running statistics, containers' state dicts, one-hot/gumbel-softmax/embedding functions."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
import gradlab.nn.functional as F
from gradlab import nn
from tests.helpers import assert_close, to_torch
from tests.nn.common import compare_module, copy_from_torch, tol


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 1.5


def _randomise(module, torch):
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-1.0, 1.5)


MODULES = [
    ("PReLU", (), {}, (4, 3)),
    ("PReLU", (3,), {"init": 0.1}, (2, 3, 5)),
    ("SELU", (), {}, (4, 5)),
    ("ReLU6", (), {}, (4, 5)),
    ("Hardtanh", (-0.5, 0.8), {}, (4, 5)),
    ("Mish", (), {}, (4, 5)),
    ("Hardsigmoid", (), {}, (4, 5)),
    ("Hardswish", (), {}, (4, 5)),
    ("LogSigmoid", (), {}, (4, 5)),
    ("Softsign", (), {}, (4, 5)),
    ("Softmin", (1,), {}, (4, 5)),
    ("CELU", (0.7,), {}, (4, 5)),
    ("GLU", (), {}, (4, 6)),
    ("GLU", (1,), {}, (2, 4, 3)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (3, 6), {"affine": False, "eps": 1e-3}, (2, 6, 3, 4)),
    ("GroupNorm", (1, 4), {}, (2, 4)),
    ("GroupNorm", (2, 4), {"bias": False}, (2, 4, 3)),
    ("InstanceNorm2d", (3,), {}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {"affine": True}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {"affine": True}, (3, 4, 5)),
    ("InstanceNorm1d", (4,), {"affine": True}, (2, 4, 7)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("MaxPool1d", (2,), {"dilation": 2, "ceil_mode": True}, (3, 8)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (2, 3, 9)),
    ("AvgPool1d", (2,), {}, (3, 8)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", (4,), {}, (3, 9, 9)),
    ("AdaptiveMaxPool2d", ((None, 2),), {}, (1, 2, 3, 5)),
    ("ConvTranspose1d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 4, 5)),
    ("ConvTranspose1d", (4, 6, 3), {"groups": 2, "dilation": 2, "bias": False}, (2, 4, 5)),
    ("ConvTranspose1d", (2, 3, 4), {}, (2, 6)),
    ("Unflatten", (1, (2, 3)), {}, (4, 6, 2)),
    ("Unflatten", (-1, (2, -1)), {}, (4, 6)),
    ("ZeroPad2d", (2,), {}, (1, 2, 3, 3)),
    ("ZeroPad2d", ((1, 0, 2, 3),), {}, (2, 3, 3)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 4)),
    ("PixelUnshuffle", (2,), {}, (2, 2, 4, 6)),
    ("ZeroPad1d", ((1, 2),), {}, (2, 3, 4)),
    ("ConstantPad1d", (2, 0.5), {}, (3, 4)),
    ("ConstantPad2d", ((1, 2, 0, 1), 1.5), {}, (2, 2, 3, 3)),
    ("ReflectionPad1d", (2,), {}, (2, 3, 5)),
    ("ReflectionPad2d", ((1, 2, 2, 0),), {}, (2, 2, 4, 4)),
    ("ReplicationPad1d", ((3, 1),), {}, (2, 3, 4)),
    ("ReplicationPad2d", (1,), {}, (1, 2, 3, 3)),
    ("Unfold", (2,), {"padding": 1, "stride": 2}, (2, 3, 5, 4)),
    ("Fold", ((4, 5), 2), {}, (2, 8, 12)),
]


def mid(case):
    return f"{case[0]}-{'x'.join(map(str, case[3]))}-{'-'.join(case[2])}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", MODULES, ids=[mid(c) for c in MODULES])
def test_module_matches_torch(torch, case, dtype):
    name, args, kwargs, shape = case
    t = getattr(torch.nn, name)(*args, **kwargs)
    _randomise(t, torch)
    g = getattr(nn, name)(*args, **kwargs)
    assert repr(g) == repr(t)
    if name.startswith("AdaptiveMax") or name.startswith("MaxPool"):  # no ties: distinct values
        x = np.random.default_rng(1).permutation(int(np.prod(shape))).reshape(shape) * 0.1
    else:
        x = _x(shape)
    compare_module(g, t, x, dtype)


@pytest.mark.parametrize("name", ["MaxPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"])
def test_max_pools_return_torchs_indices(torch, name):
    args = {"MaxPool1d": (3, 2), "AdaptiveMaxPool1d": (4,), "AdaptiveMaxPool2d": ((3, 4),)}[name]
    shape = (2, 3, 7, 9) if name.endswith("2d") else (2, 3, 9)
    x = np.random.default_rng(2).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
    gv, gi = getattr(nn, name)(*args, return_indices=True)(gradlab.tensor(x))
    tv, ti = getattr(torch.nn, name)(*args, return_indices=True)(to_torch(x))
    assert_close(gv, tv)
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())


@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_instance_norm_running_stats_match_torch(torch, momentum):
    t = torch.nn.InstanceNorm2d(3, momentum=momentum, affine=True, track_running_stats=True).double()
    _randomise(t, torch)
    g = nn.InstanceNorm2d(3, momentum=momentum, affine=True, track_running_stats=True).double()
    copy_from_torch(g, t)
    for step in range(4):
        x = _x((2, 3, 4, 5), seed=step) + step
        assert_close(g(gradlab.tensor(x)), t(to_torch(x)), **tol(np.float64))
    for name, buf in t.named_buffers():
        assert_close(dict(g.named_buffers())[name], buf, **tol(np.float64), msg=name)
    t.eval(), g.eval()
    compare_module(g, t, _x((2, 3, 4, 5), seed=9), np.float64)


def test_bilinear_matches_torch(torch):
    for dtype in (np.float64, np.float32):
        t = torch.nn.Bilinear(3, 4, 5)
        g = nn.Bilinear(3, 4, 5)
        assert repr(g) == repr(t)
        if dtype == np.float64:
            t.double(), g.double()
        copy_from_torch(g, t)
        a, b = _x((6, 3)).astype(dtype), _x((6, 4), seed=1).astype(dtype)
        ga, gb = gradlab.tensor(a, requires_grad=True), gradlab.tensor(b, requires_grad=True)
        ta, tb = to_torch(a, requires_grad=True), to_torch(b, requires_grad=True)
        gy, ty = g(ga, gb), t(ta, tb)
        assert_close(gy, ty, **tol(dtype))
        (gy * gy).sum().backward()
        (ty * ty).sum().backward()
        for gt_pair in [
            (ga.grad, ta.grad),
            (gb.grad, tb.grad),
            (g.weight.grad, t.weight.grad),
            (g.bias.grad, t.bias.grad),
        ]:
            assert_close(*gt_pair, **tol(dtype))
    assert nn.Bilinear(2, 3, 4, bias=False).bias is None


def test_bilinear_init_bounds():
    m = nn.Bilinear(16, 3, 4)
    assert np.abs(m.weight._data).max() <= 0.25 and np.abs(m.bias._data).max() <= 0.25
    assert m.weight.dtype == np.float32


@pytest.mark.parametrize("dim,shapes", [(1, ((4, 5), (4, 5))), (-1, ((2, 3, 5), (3, 5))), (0, ((4,), (4,)))])
def test_cosine_similarity_matches_torch(torch, dim, shapes):
    a, b = _x(shapes[0]), _x(shapes[1], seed=3)
    ga, gb = gradlab.tensor(a, requires_grad=True), gradlab.tensor(b, requires_grad=True)
    ta, tb = to_torch(a, requires_grad=True), to_torch(b, requires_grad=True)
    gy, ty = nn.CosineSimilarity(dim=dim)(ga, gb), torch.nn.CosineSimilarity(dim=dim)(ta, tb)
    assert_close(gy, ty)
    gy.sum().backward()
    ty.sum().backward()
    assert_close(ga.grad, ta.grad)
    assert_close(gb.grad, tb.grad)


def test_parameter_list_and_dict_load_torch_state(torch):
    tl = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(2, 3)), torch.nn.Parameter(torch.randn(4))])
    gl = nn.ParameterList([gradlab.zeros(2, 3), nn.Parameter(gradlab.zeros(4))])
    assert [k for k, _ in gl.named_parameters()] == [k for k, _ in tl.named_parameters()] == ["0", "1"]
    copy_from_torch(gl, tl)
    assert_close(gl[0], tl[0])
    assert_close(gl[-1], tl[-1])
    assert all(isinstance(p, nn.Parameter) for p in gl)
    gl.append(gradlab.ones(1))
    assert len(gl) == 3 and len(gl[1:]) == 2
    with pytest.raises(IndexError):
        gl[3]
    with pytest.raises(TypeError):
        gl.append(3.0)

    td = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.randn(3)), "b": torch.nn.Parameter(torch.randn(2))})
    gd = nn.ParameterDict({"a": gradlab.zeros(3), "b": gradlab.zeros(2)})
    copy_from_torch(gd, td)
    assert list(gd.keys()) == list(td.keys())
    assert_close(gd["b"], td["b"])
    assert "a" in gd and len(gd) == 2
    gd.pop("a")
    assert list(gd) == ["b"]

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([gradlab.ones(2)])
            self.named = nn.ParameterDict({"s": gradlab.ones(1)})

    h = Holder()
    assert sorted(k for k, _ in h.named_parameters()) == ["named.s", "ws.0"]
    loss = (h.ws[0] * h.named["s"]).sum()
    loss.backward()
    assert h.ws[0].grad.tolist() == [1.0, 1.0] and h.named["s"].grad.tolist() == [2.0]


def test_one_hot_matches_torch(torch):
    idx = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(
        F.one_hot(gradlab.tensor(idx)).numpy(), torch.nn.functional.one_hot(torch.tensor(idx)).numpy()
    )
    out = F.one_hot(gradlab.tensor(idx), 6)
    assert out.shape == (2, 2, 6) and out.dtype == np.int64
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(gradlab.tensor(idx), 3)
    with pytest.raises(TypeError, match="index tensors"):
        F.one_hot(gradlab.tensor([0.5]))


def test_functional_embedding_matches_torch(torch):
    w = _x((6, 3))
    idx = np.array([[0, 5, 2], [2, 2, 1]])
    gw, tw = gradlab.tensor(w, requires_grad=True), to_torch(w, requires_grad=True)
    gy = F.embedding(gradlab.tensor(idx), gw, padding_idx=2)
    ty = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=2)
    assert_close(gy, ty)
    gy.sum().backward()
    ty.sum().backward()
    assert_close(gw.grad, tw.grad)


def test_gumbel_softmax_properties():
    gradlab.manual_seed(0)
    logits = gradlab.tensor(np.log(np.array([[0.1, 0.6, 0.3]] * 4000)), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    assert_close(soft.sum(dim=-1), np.ones(4000), atol=1e-6, rtol=0)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(axis=-1) == 1).all()
    # sampling the argmax of logits + Gumbel noise draws from softmax(logits)
    assert_close(h.mean(axis=0), [0.1, 0.6, 0.3], atol=0.03, rtol=0)
    # the straight-through gradient is the soft sample's: sum over classes of a one-hot is constant -> zero grad
    hard.sum().backward()
    assert_close(logits.grad, np.zeros((4000, 3)), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="tau"):
        F.gumbel_softmax(logits, tau=0.0)


def test_unfold_fold_modules_of_torch_style_usage(torch):
    x = _x((2, 3, 6, 5))
    g = F.fold(F.unfold(gradlab.tensor(x), 3, padding=1), (6, 5), 3, padding=1)
    t = torch.nn.functional.fold(torch.nn.functional.unfold(to_torch(x), 3, padding=1), (6, 5), 3, padding=1)
    assert_close(g, t)
    with pytest.raises(RuntimeError, match="sliding blocks"):
        F.fold(gradlab.tensor(np.zeros((1, 9, 7))), (4, 4), 3)
    with pytest.raises(RuntimeError, match="divisible"):
        F.fold(gradlab.tensor(np.zeros((1, 8, 4))), (4, 4), 3)


def test_layer_validation():
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="expected an input"):
        nn.GroupNorm(2, 4)(gradlab.zeros(2, 6))
    with pytest.raises(ValueError, match="4D"):
        nn.InstanceNorm2d(3)(gradlab.zeros(2, 3))
    with pytest.raises(ValueError, match="channel"):
        nn.PReLU(3)(gradlab.zeros(2, 4))
    with pytest.raises(ValueError, match="divisible"):
        nn.PixelShuffle(2)(gradlab.zeros(1, 6, 2, 2))
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(TypeError, match="unflattened_size"):
        nn.Unflatten(1, 6)
