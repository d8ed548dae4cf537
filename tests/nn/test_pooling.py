"""Pooling, upsampling, BatchNorm2d and Dropout2d modules against torch."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn
from tests.helpers import assert_close, to_torch

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.kernel_sets  # the fused 2x2 max-pool and BatchNorm kernels must match torch too


def _check(gmod, tmod, x, tol=None):
    tol = tol or dict(rtol=1e-6, atol=1e-8)
    gx, tx = gradlab.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    out, ref = gmod(gx), tmod(tx)
    if isinstance(ref, tuple):
        np.testing.assert_array_equal(out[1].numpy(), ref[1].numpy())
        out, ref = out[0], ref[0]
    assert_close(out, ref, **tol)
    g = np.random.default_rng(1).standard_normal(ref.shape).astype(x.dtype)
    out.backward(gradlab.tensor(g))
    ref.backward(to_torch(g))
    assert_close(gx.grad, tx.grad, **tol)
    return out


X = np.random.default_rng(0).standard_normal((2, 3, 9, 8))

MODULES = [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3,), dict(stride=2, padding=1)),
    ("MaxPool2d", ((3, 2),), dict(stride=(1, 2), dilation=(2, 1), ceil_mode=True)),
    ("MaxPool2d", (2,), dict(return_indices=True)),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False, ceil_mode=True)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, divisor_override=4)),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveAvgPool2d", ((4, 3),), {}),
    ("AdaptiveAvgPool2d", ((None, 5),), {}),
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(scale_factor=(1.5, 2.0))),
    ("Upsample", (), dict(size=(5, 11))),
    ("UpsamplingNearest2d", (), dict(scale_factor=3)),
]


@pytest.mark.parametrize("name,args,kw", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_module_matches_torch(name, args, kw):
    gmod, tmod = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(gmod) == repr(tmod)
    _check(gmod, tmod, X)
    if not name.startswith("Upsampl"):  # torch reads a 3-D input to interpolate as (N, C, L)
        _check(gmod, tmod, X[0])  # unbatched (C, H, W)


def test_pools_keep_float32():
    x = gradlab.randn(2, 3, 8, 8)
    for m in [nn.MaxPool2d(2), nn.AvgPool2d(3, 1, 1), nn.AdaptiveAvgPool2d((3, 5)), nn.Upsample(scale_factor=2)]:
        assert m(x).dtype == np.float32, m


@pytest.mark.parametrize("affine,track", [(True, True), (False, True), (True, False)])
def test_batchnorm2d_matches_torch(affine, track):
    gbn = nn.BatchNorm2d(3, affine=affine, track_running_stats=track, momentum=0.2).double()
    tbn = torch.nn.BatchNorm2d(3, affine=affine, track_running_stats=track, momentum=0.2).double()
    if affine:
        rng = np.random.default_rng(3)
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        gbn.load_state_dict({**{k: v.numpy() for k, v in tbn.state_dict().items()}, "weight": w, "bias": b})
        tbn.weight.data, tbn.bias.data = torch.from_numpy(w), torch.from_numpy(b)
    for _ in range(2):
        _check(gbn, tbn, X * 3 + 1)
    if track:
        assert_close(gbn.running_mean, tbn.running_mean)
        assert_close(gbn.running_var, tbn.running_var)
    gbn.eval()
    tbn.eval()
    _check(gbn, tbn, X)
    if affine:
        for (k, p), (_, tp) in zip(gbn.named_parameters(), tbn.named_parameters()):
            assert_close(p.grad, tp.grad, msg=k)


def test_batchnorm2d_rejects_2d_input():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input"):
        nn.BatchNorm2d(3)(gradlab.zeros(4, 3))


def test_dropout2d_zeros_whole_channels():
    gradlab.manual_seed(0)
    drop = nn.Dropout2d(0.5)
    x = gradlab.ones(64, 16, 4, 4, requires_grad=True)
    y = drop(x)
    per_channel = y.detach().numpy().reshape(64, 16, -1)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # constant over each map
    assert set(np.unique(per_channel)) == {0.0, 2.0}
    assert 0.4 < (per_channel[..., 0] == 0).mean() < 0.6
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # gradient = the mask
    assert y.dtype == np.float32
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout2d(1.0)(x).detach().numpy().max() == 0.0
    assert repr(drop) == repr(torch.nn.Dropout2d(0.5))


def test_dropout2d_is_reproducible_with_manual_seed():
    x = gradlab.ones(4, 8, 2, 2)
    gradlab.manual_seed(5)
    a = nn.functional.dropout2d(x, 0.3).numpy()
    gradlab.manual_seed(5)
    np.testing.assert_array_equal(a, nn.functional.dropout2d(x, 0.3).numpy())
