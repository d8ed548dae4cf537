"""REINFORCE with a learned baseline (Williams 1992; Sutton & Barto, section 13.4): Monte-Carlo policy gradient.

After each episode the policy's log-probabilities are weighted by the advantage ``G_t - V(s_t)``: the discounted
return from step t minus a value network's estimate, which lowers the variance without biasing the gradient. The
value network regresses on the returns.

>>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
>>> agent = REINFORCE("CartPole-v1", seed=0).learn(200)
>>> agent.steps >= 200
True
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import gradlab
from gradlab import optim
from gradlab.nn import functional as F
from gradlab.rl.agent import Agent
from gradlab.rl.envs import action_count, make_env
from gradlab.rl.nets import mlp, predict, sample_categorical
from gradlab.rl.returns import discounted_returns

__all__ = ["REINFORCE", "policy_gradient_loss"]


def policy_gradient_loss(logits: Any, actions: np.ndarray, advantages: np.ndarray, entropy_coef: float = 0.0) -> Any:
    """``-mean(log pi(a_t|s_t) * A_t) - entropy_coef * mean(entropy)``: the loss whose gradient is the policy
    gradient estimate (``advantages`` are constants: no gradient flows through them).

    >>> logits = gradlab.zeros((2, 2), requires_grad=True)
    >>> round(policy_gradient_loss(logits, np.array([0, 1]), np.array([1.0, 1.0])).item(), 4)  # log 2
    0.6931
    """
    neg_logp = F.cross_entropy(logits, gradlab.from_numpy(np.asarray(actions, dtype=np.int64)), reduction="none")
    adv = gradlab.from_numpy(np.asarray(advantages, dtype=np.float32))
    loss = (neg_logp * adv).mean()
    if entropy_coef:
        logp = F.log_softmax(logits, dim=1)
        entropy = -(logp.exp() * logp).sum(dim=1).mean()
        loss = loss - entropy_coef * entropy
    return loss


class REINFORCE(Agent):
    """Monte-Carlo policy gradient with a value-network baseline, one update per episode.

    ``hidden``: the widths of both networks' hidden layers; ``lr``/``value_lr``: Adam's step sizes for the policy
    and the value network; ``normalize``: standardise each episode's advantages (a common variance reduction).

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> agent = REINFORCE("CartPole-v1", seed=0, hidden=(16,))
    >>> agent.act(np.zeros((3, 4), dtype=np.float32)).shape
    (3,)
    """

    algo = "reinforce"

    def __init__(self, env_id: str = "CartPole-v1", seed: int = 0, hidden: Sequence[int] = (64,), lr: float = 5e-3,
                 value_lr: float = 1e-2, gamma: float = 0.99, entropy_coef: float = 0.0,
                 normalize: bool = True) -> None:
        super().__init__(env_id, seed, {"hidden": list(hidden), "lr": lr, "value_lr": value_lr, "gamma": gamma,
                                        "entropy_coef": entropy_coef, "normalize": normalize})
        self.env = make_env(env_id)
        n_actions = action_count(self.env, self.algo)
        obs_dim = int(self.env.observation_space.shape[0])
        self.gamma, self.entropy_coef, self.normalize = gamma, entropy_coef, normalize
        self.policy = mlp([obs_dim, *hidden, n_actions], generator=self.generator, out_gain=0.01)
        self.value = mlp([obs_dim, *hidden, 1], generator=self.generator)
        self.policy_opt = optim.Adam(self.policy.parameters(), lr=lr)
        self.value_opt = optim.Adam(self.value.parameters(), lr=value_lr)

    def networks(self) -> dict[str, Any]:
        return {"policy": self.policy, "value": self.value}

    def optimizers(self) -> dict[str, Any]:
        return {"policy": self.policy_opt, "value": self.value_opt}

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The most probable action for each observation."""
        return predict(self.policy, obs).argmax(axis=1)

    def run_episode(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Play one episode with the stochastic policy: its observations, actions and rewards."""
        obs, _ = self.env.reset(seed=self._episode_seed())
        observations, actions, rewards = [], [], []
        done = False
        while not done:
            a = int(sample_categorical(predict(self.policy, obs[None]), self.rng)[0])
            observations.append(obs)
            actions.append(a)
            obs, r, terminated, truncated, _ = self.env.step(a)
            rewards.append(float(r))
            done = terminated or truncated
        self.steps += len(rewards)
        return np.asarray(observations, dtype=np.float32), np.asarray(actions), np.asarray(rewards)

    def update(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray) -> dict[str, float]:
        """One gradient step of each network on one episode; returns the two losses."""
        returns = discounted_returns(rewards, self.gamma)
        x = gradlab.from_numpy(obs)
        values = self.value(x).squeeze(1)
        adv = returns - values.detach().numpy()
        if self.normalize and len(adv) > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        loss = policy_gradient_loss(self.policy(x), actions, adv, self.entropy_coef)
        self.policy_opt.zero_grad()
        loss.backward()
        self.policy_opt.step()
        value_loss = F.mse_loss(values, gradlab.from_numpy(returns.astype(np.float32)))
        self.value_opt.zero_grad()
        value_loss.backward()
        self.value_opt.step()
        self.updates += 1
        return {"policy_loss": loss.item(), "value_loss": value_loss.item()}

    def _train_unit(self) -> None:
        obs, actions, rewards = self.run_episode()
        self._record_episode(rewards.sum(), len(rewards))
        self.update(obs, actions, rewards)
