"""Conv1d, Conv2d, ConvTranspose2d modules: torch's parameter names, shapes, init, repr; same outputs and parameter
gradients as torch with the torch module's state_dict loaded."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradlab
from gradlab import nn
from tests.helpers import assert_close, to_torch

torch = pytest.importorskip("torch")

CASES = [
    ("Conv1d", (4, 6, 3), dict()),
    ("Conv1d", (4, 6, 4), dict(stride=2, padding=2, dilation=2, groups=2, bias=False)),
    ("Conv1d", (3, 5, 3), dict(padding="same", padding_mode="reflect")),
    ("Conv1d", (3, 5, 3), dict(padding=1, padding_mode="circular")),
    ("Conv2d", (3, 8, 3), dict(padding=1)),
    ("Conv2d", (4, 8, (3, 2)), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=4)),
    ("Conv2d", (3, 4, 4), dict(padding="same", bias=False)),
    ("Conv2d", (3, 4, 3), dict(padding="valid")),
    ("Conv2d", (3, 4, 3), dict(padding=2, padding_mode="replicate")),
    ("Conv2d", (3, 4, 3), dict(padding=(1, 2), padding_mode="reflect", stride=2)),
    ("Conv2d", (3, 4, 3), dict(padding=1, padding_mode="circular")),
    ("Conv2d", (6, 6, 1), dict()),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1)),
    ("ConvTranspose2d", (4, 6, (2, 3)), dict(stride=(1, 2), dilation=2, groups=2, bias=False)),
]


def _input(name, c, dtype):
    shape = (2, c, 11) if name == "Conv1d" else (2, c, 7, 6)
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def _pair(name, args, kw, dtype=np.float64):
    tmod = getattr(torch.nn, name)(*args, **kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    gmod = getattr(nn, name)(*args, **kw, dtype=dtype)
    gmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    return gmod, tmod


@pytest.mark.kernel_sets
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name,args,kw", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_module_matches_torch(name, args, kw, dtype):
    gmod, tmod = _pair(name, args, kw, dtype)
    assert [k for k, _ in gmod.named_parameters()] == [k for k, _ in tmod.named_parameters()]
    x = _input(name, args[0], dtype)
    gx, tx = gradlab.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    out, ref = gmod(gx), tmod(tx)
    tol = dict(rtol=1e-6, atol=1e-8) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    assert out.dtype == dtype
    assert_close(out, ref, **tol)
    g = np.random.default_rng(1).standard_normal(ref.shape).astype(dtype)
    out.backward(gradlab.tensor(g))
    ref.backward(to_torch(g))
    assert_close(gx.grad, tx.grad, **tol)
    tparams = dict(tmod.named_parameters())
    for k, p in gmod.named_parameters():
        assert_close(p.grad, tparams[k].grad, **tol, msg=k)


@pytest.mark.parametrize("name,args,kw", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_shapes_and_repr_match_torch(name, args, kw):
    gmod, tmod = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(gmod) == repr(tmod)
    for (k, p), (tk, tp) in zip(gmod.named_parameters(), tmod.named_parameters()):
        assert k == tk and p.shape == tuple(tp.shape) and p.dtype == np.float32


def test_default_init_is_torchs():
    """kaiming_uniform_(a=sqrt(5)): weight and bias uniform in +-1/sqrt(fan_in), fan_in = in/groups * k*k."""
    gradlab.manual_seed(0)
    conv = nn.Conv2d(16, 64, 5, groups=2)
    bound = 1 / math.sqrt(8 * 25)
    for p in (conv.weight, conv.bias):
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound
        assert abs(a.std() - bound / math.sqrt(3)) < 0.1 * bound
    up = nn.ConvTranspose2d(8, 6, 3, groups=2)  # torch computes fan_in from the weight: (out/groups) * k*k
    assert np.abs(up.bias.detach().numpy()).max() <= 1 / math.sqrt(3 * 9)


def test_conv_transpose2d_output_size():
    rng = np.random.default_rng(2)
    up = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    tup = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    up.load_state_dict({k: v.numpy() for k, v in tup.state_dict().items()})
    up.double()
    x = rng.standard_normal((1, 3, 4, 5))
    for size in [(7, 9), (8, 10), (1, 2, 8, 9)]:
        assert_close(up(gradlab.tensor(x), output_size=size), tup(torch.from_numpy(x), output_size=size))
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        up(gradlab.tensor(x), output_size=(9, 9))


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"in_channels \(5\) must be divisible by groups \(2\)"):
        nn.Conv2d(5, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(5\) must be divisible by groups \(2\)"):
        nn.Conv2d(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(4, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")


def test_forward_error_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"weight of size \[8, 3, 3, 3\].*input\[2, 4, 9, 9\].*3 channels"):
        nn.Conv2d(3, 8, 3)(gradlab.zeros(2, 4, 9, 9))


def test_conv_stack_trains_on_a_toy_problem():
    """A 2-layer CNN learns to tell horizontal from vertical bars (loss falls by 10x with plain SGD)."""
    gradlab.manual_seed(0)
    rng = np.random.default_rng(0)
    x = np.zeros((32, 1, 8, 8), np.float32)
    y = rng.integers(0, 2, 32)
    for i, (label, pos) in enumerate(zip(y, rng.integers(1, 7, 32))):
        if label:
            x[i, 0, :, pos] = 1.0
        else:
            x[i, 0, pos, :] = 1.0
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 2))
    xt, yt = gradlab.tensor(x), gradlab.tensor(y)
    losses = []
    for _ in range(60):
        loss = nn.functional.cross_entropy(model(xt), yt)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad.data
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10
