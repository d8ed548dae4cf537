"""gradlab.distributions against torch.distributions: log_prob, entropy, moments and their gradients; samples'
shapes, dtypes and frequencies."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.distributions import Bernoulli, Categorical, Normal


def _pair(torch, a):
    return gradlab.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check(got, want, g_param, t_param):
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(g_param.grad.numpy(), t_param.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("form", ["probs", "logits"])
@pytest.mark.parametrize("what", ["log_prob", "entropy"])
def test_categorical_matches_torch(torch, form, what) -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(0.1, 1.0, (3, 4)) if form == "probs" else rng.standard_normal((3, 4))
    g, t = _pair(torch, a)
    gd, td = Categorical(**{form: g}), torch.distributions.Categorical(**{form: t})
    value = np.array([0, 3, 1])
    if what == "log_prob":
        _check(gd.log_prob(gradlab.tensor(value)), td.log_prob(torch.tensor(value)), g, t)
    else:
        _check(gd.entropy(), td.entropy(), g, t)


@pytest.mark.parametrize("form", ["probs", "logits"])
def test_bernoulli_matches_torch(torch, form) -> None:
    rng = np.random.default_rng(1)
    a = rng.uniform(0.1, 0.9, 5) if form == "probs" else rng.standard_normal(5)
    g, t = _pair(torch, a)
    gd, td = Bernoulli(**{form: g}), torch.distributions.Bernoulli(**{form: t})
    value = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    _check(gd.log_prob(gradlab.tensor(value)) + gd.entropy() + gd.variance,
           td.log_prob(torch.tensor(value)) + td.entropy() + td.variance, g, t)


def test_normal_matches_torch(torch) -> None:
    rng = np.random.default_rng(2)
    loc, scale = rng.standard_normal(4), rng.uniform(0.5, 2.0, 4)
    g, t = _pair(torch, scale)
    gd, td = Normal(gradlab.tensor(loc), g), torch.distributions.Normal(torch.tensor(loc), t)
    value = rng.standard_normal(4)
    _check(gd.log_prob(gradlab.tensor(value)) + gd.entropy() + gd.stddev + gd.variance,
           td.log_prob(torch.tensor(value)) + td.entropy() + td.stddev + td.variance, g, t)


def test_samples_have_torch_shapes_and_frequencies() -> None:
    gradlab.manual_seed(0)
    c = Categorical(probs=gradlab.tensor([[0.1, 0.9], [0.8, 0.2]]))
    s = c.sample((4000,))
    assert s.shape == (4000, 2) and s.dtype == gradlab.int64
    np.testing.assert_allclose(s.numpy().mean(0), [0.9, 0.2], atol=0.03)
    b = Bernoulli(probs=gradlab.full((3,), 0.25)).sample((4000,))
    assert b.shape == (4000, 3) and b.dtype == gradlab.float32
    assert abs(b.numpy().mean() - 0.25) < 0.03
    n = Normal(gradlab.zeros(2), gradlab.tensor([1.0, 3.0]))
    x = n.sample((5000,))
    assert x.shape == (5000, 2) and not x.requires_grad
    np.testing.assert_allclose(x.numpy().std(0), [1.0, 3.0], rtol=0.05)


def test_rsample_is_differentiable_and_bad_arguments_are_refused() -> None:
    loc = gradlab.zeros(3, requires_grad=True)
    Normal(loc, 1.0).rsample((2,)).sum().backward()
    assert loc.grad.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="exactly one"):
        Categorical()
    with pytest.raises(ValueError, match="exactly one"):
        Bernoulli(probs=gradlab.ones(1), logits=gradlab.ones(1))
