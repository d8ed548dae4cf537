"""Discounted returns and GAE against closed forms; the policy-gradient loss's gradient against a hand computation."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.rl import discounted_returns, gae, policy_gradient_loss


def test_discounted_returns_closed_form():
    rewards = np.array([1.0, 0.0, 2.0, -1.0, 3.0])
    gamma = 0.9
    expected = [sum(gamma ** k * rewards[t + k] for k in range(len(rewards) - t)) for t in range(len(rewards))]
    np.testing.assert_allclose(discounted_returns(rewards, gamma), expected, rtol=1e-12)
    # constant reward 1 for n steps: (1 - gamma**(n - t)) / (1 - gamma)
    n = 50
    np.testing.assert_allclose(discounted_returns(np.ones(n), 0.99), (1 - 0.99 ** (n - np.arange(n))) / 0.01)
    assert discounted_returns([5.0], 0.0).tolist() == [5.0]


@pytest.mark.parametrize("gamma", [-0.1, 1.5])
def test_discounted_returns_rejects_bad_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        discounted_returns([1.0], gamma)


def test_gae_with_lambda_one_is_the_n_step_return_and_stops_at_episode_ends():
    gamma = 0.5
    rewards = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])  # (T=3, N=2)
    values = np.array([[0.5, 0.1], [0.2, 0.2], [0.3, 0.3]])
    dones = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # env 1's episode ends after step 1
    last = np.array([10.0, 4.0])
    adv, ret = gae(rewards, values, dones, last, gamma, lam=1.0)
    # env 0: no end, bootstrap from last value
    np.testing.assert_allclose(ret[:, 0], [1 + 0.5 * 2 + 0.25 * 3 + 0.125 * 10, 2 + 0.5 * 3 + 0.25 * 10, 3 + 0.5 * 10])
    # env 1: returns of steps 0, 1 stop at the end; step 2 starts a new episode bootstrapped from last
    np.testing.assert_allclose(ret[:, 1], [1 + 0.5 * 1, 1, 1 + 0.5 * 4])
    np.testing.assert_allclose(adv, ret - values)


def test_gae_lambda_zero_is_the_one_step_td_error():
    rewards, values = np.array([[1.0], [2.0]]), np.array([[0.5], [0.25]])
    adv, _ = gae(rewards, values, np.zeros((2, 1)), np.array([1.0]), gamma=0.9, lam=0.0)
    np.testing.assert_allclose(adv[:, 0], [1 + 0.9 * 0.25 - 0.5, 2 + 0.9 * 1.0 - 0.25])


def test_policy_gradient_loss_gradient_matches_the_hand_computation():
    rng = np.random.default_rng(0)
    logits_np = rng.standard_normal((5, 3))
    actions = np.array([0, 2, 1, 1, 0])
    adv = rng.standard_normal(5)
    logits = gradlab.tensor(logits_np, dtype=gradlab.float64, requires_grad=True)
    loss = policy_gradient_loss(logits, actions, adv)
    loss.backward()
    p = np.exp(logits_np) / np.exp(logits_np).sum(1, keepdims=True)
    logp = np.log(p[np.arange(5), actions])
    assert loss.item() == pytest.approx(-(logp * adv).mean(), rel=1e-6)
    # d/dlogits of -log p_a * A / N = (softmax - onehot(a)) * A / N
    expected = (p - np.eye(3)[actions]) * adv[:, None] / 5
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_policy_gradient_entropy_bonus_gradient():
    logits_np = np.array([[0.3, -0.2, 1.0]])
    logits = gradlab.tensor(logits_np, dtype=gradlab.float64, requires_grad=True)
    loss = policy_gradient_loss(logits, np.array([1]), np.zeros(1), entropy_coef=0.5)
    loss.backward()

    def f(z):
        p = np.exp(z) / np.exp(z).sum()
        return 0.5 * (p * np.log(p)).sum()  # -0.5 * entropy

    h = 1e-6
    num = [(f(logits_np[0] + h * e) - f(logits_np[0] - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(logits.grad.numpy()[0], num, rtol=1e-4, atol=1e-8)
