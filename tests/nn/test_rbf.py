"""nn.RBF: Gaussian units against a direct formula and torch, gradients checked in float64."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn
from tests.helpers import assert_close, to_numpy, to_torch


def test_forward_matches_the_formula_and_torch(torch) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 3))
    layer = nn.RBF(3, 5, dtype=np.float64)
    layer.set_centres(rng.normal(size=(5, 3)), sigmas=rng.uniform(0.5, 2.0, 5))
    out = to_numpy(layer(gradlab.tensor(x)))
    d2 = ((x[:, None, :] - to_numpy(layer.centres)[None]) ** 2).sum(-1)
    np.testing.assert_allclose(out, np.exp(-d2 / (2 * layer.sigmas ** 2)), rtol=1e-10)
    c, ls = to_torch(layer.centres, True), to_torch(layer.log_sigmas, True)
    ref = torch.exp(-torch.cdist(to_torch(x), c) ** 2 / (2 * torch.exp(ls) ** 2))
    ref.sum().backward()
    xt = gradlab.tensor(x)
    layer(xt).sum().backward()
    assert_close(out, ref, rtol=1e-9, atol=1e-12)
    assert_close(layer.centres.grad, c.grad, rtol=1e-7, atol=1e-10)
    assert_close(layer.log_sigmas.grad, ls.grad, rtol=1e-7, atol=1e-10)


def test_gradcheck_float64() -> None:
    rng = np.random.default_rng(1)
    layer = nn.RBF(3, 4, dtype=np.float64)
    layer.set_centres(rng.normal(size=(4, 3)), sigmas=1.5)
    x = gradlab.tensor(rng.normal(size=(5, 3)), requires_grad=True)

    assert gradlab.gradcheck(lambda inp: layer(inp), (x,))
    # the parameters themselves as inputs (gradcheck perturbs them in place, the layer reads them)
    assert gradlab.gradcheck(lambda inp, c, s: layer(inp), (x, layer.centres, layer.log_sigmas))


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="positive"):
        nn.RBF(0, 3)
    with pytest.raises(ValueError, match="sigma"):
        nn.RBF(2, 3, sigma=0.0)
    layer = nn.RBF(2, 3)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 2\)"):
        layer(gradlab.zeros(4, 3))
    with pytest.raises(ValueError, match="every sigma"):
        layer.set_centres(np.zeros((3, 2)), sigmas=[1.0, -1.0, 1.0])
