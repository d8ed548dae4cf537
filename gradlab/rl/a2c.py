"""Advantage actor-critic (A2C; Mnih et al. 2016, synchronous form) on Gymnasium's vector environments.

``num_envs`` copies of the environment step together (``gymnasium.vector.SyncVectorEnv``); every ``n_steps`` the
rollout's advantages (generalised advantage estimation, ``gae_lambda=1`` being plain n-step returns) weight the
policy gradient, the critic regresses on the returns, and one Adam step updates both. An episode cut by the time
limit bootstraps from the critic's value of its last observation.

>>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
>>> agent = A2C("CartPole-v1", seed=0, num_envs=2, n_steps=8).learn(64)
>>> agent.steps, agent.updates
(64, 4)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.nn import functional as F
from gradlab.rl.agent import Agent
from gradlab.rl.envs import SEED_LIMIT, action_count, env_state, make_vector_env, set_env_state
from gradlab.rl.nets import mlp, predict, sample_categorical
from gradlab.rl.reinforce import policy_gradient_loss
from gradlab.rl.returns import gae

__all__ = ["A2C"]


class A2C(Agent):
    """A policy (actor) and a value network (critic) trained on short rollouts of parallel environments.

    Loss: ``policy_gradient + value_coef * mse(V, returns) - entropy_coef * entropy``, gradients clipped to
    ``max_grad_norm``; ``normalize``: standardise each rollout's advantages.

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> A2C("CartPole-v1", seed=0, num_envs=4).venv.num_envs
    4
    """

    algo = "a2c"

    def __init__(self, env_id: str = "CartPole-v1", seed: int = 0, num_envs: int = 8, n_steps: int = 16,
                 hidden: Sequence[int] = (64, 64), lr: float = 1e-3, gamma: float = 0.99, gae_lambda: float = 0.95,
                 value_coef: float = 0.5, entropy_coef: float = 0.01, max_grad_norm: float = 0.5,
                 normalize: bool = True) -> None:
        super().__init__(env_id, seed, {
            "num_envs": num_envs, "n_steps": n_steps, "hidden": list(hidden), "lr": lr, "gamma": gamma,
            "gae_lambda": gae_lambda, "value_coef": value_coef, "entropy_coef": entropy_coef,
            "max_grad_norm": max_grad_norm, "normalize": normalize})
        if num_envs < 1 or n_steps < 1:
            raise ValueError(f"num_envs and n_steps must be >= 1, got {num_envs} and {n_steps}")
        self.venv = make_vector_env(env_id, num_envs)
        n_actions = action_count(self.venv, self.algo)
        obs_dim = int(self.venv.single_observation_space.shape[0])
        self.num_envs, self.n_steps = num_envs, n_steps
        self.gamma, self.gae_lambda, self.normalize = gamma, gae_lambda, normalize
        self.value_coef, self.entropy_coef, self.max_grad_norm = value_coef, entropy_coef, max_grad_norm
        self.policy = mlp([obs_dim, *hidden, n_actions], generator=self.generator, out_gain=0.01)
        self.value = mlp([obs_dim, *hidden, 1], generator=self.generator)
        self.optimizer = optim.Adam([*self.policy.parameters(), *self.value.parameters()], lr=lr)
        self.obs, _ = self.venv.reset(seed=[int(s) for s in self.rng.integers(SEED_LIMIT, size=num_envs)])
        self.ep_return = np.zeros(num_envs)
        self.ep_length = np.zeros(num_envs, dtype=np.int64)

    def networks(self) -> dict[str, Any]:
        return {"policy": self.policy, "value": self.value}

    def optimizers(self) -> dict[str, Any]:
        return {"a2c": self.optimizer}

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The most probable action for each observation."""
        return predict(self.policy, obs).argmax(axis=1)

    def rollout(self) -> tuple[np.ndarray, ...]:
        """``n_steps`` steps of every environment: observations ``(T, N, d)``, actions, rewards, episode ends and
        values ``(T, N)``, and the values of the observations after the last step ``(N,)``."""
        T, N = self.n_steps, self.num_envs
        obs_buf = np.zeros((T, N, self.obs.shape[1]), dtype=np.float32)
        act_buf = np.zeros((T, N), dtype=np.int64)
        rew_buf, done_buf, val_buf = np.zeros((T, N)), np.zeros((T, N)), np.zeros((T, N))
        for t in range(T):
            logits = predict(self.policy, self.obs)
            actions = sample_categorical(logits, self.rng)
            obs_buf[t], act_buf[t], val_buf[t] = self.obs, actions, predict(self.value, self.obs)[:, 0]
            self.obs, rewards, terminated, truncated, info = self.venv.step(actions)
            self.steps += N
            self.ep_return += rewards
            self.ep_length += 1
            cut = truncated & ~terminated
            rewards = rewards.astype(np.float64)
            if cut.any():  # time limit: bootstrap from the value of the true last observation
                rewards[cut] += self.gamma * predict(self.value, np.stack(info["final_obs"][cut]))[:, 0]
            done = terminated | truncated
            rew_buf[t], done_buf[t] = rewards, done
            for i in np.flatnonzero(done):  # bookkeeping of finished episodes (rare)
                self._record_episode(self.ep_return[i], int(self.ep_length[i]))
            self.ep_return[done], self.ep_length[done] = 0.0, 0
        return obs_buf, act_buf, rew_buf, done_buf, val_buf, predict(self.value, self.obs)[:, 0]

    def update(self, obs: np.ndarray, actions: np.ndarray, advantages: np.ndarray,
               returns: np.ndarray) -> dict[str, float]:
        """One gradient step on a flattened rollout; returns the policy and value losses."""
        if self.normalize and advantages.size > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        x = gradlab.from_numpy(obs)
        pg_loss = policy_gradient_loss(self.policy(x), actions, advantages, self.entropy_coef)
        value_loss = F.mse_loss(self.value(x).squeeze(1), gradlab.from_numpy(returns.astype(np.float32)))
        loss = pg_loss + self.value_coef * value_loss
        self.optimizer.zero_grad()
        loss.backward()
        if self.max_grad_norm:
            nn.utils.clip_grad_norm_([*self.policy.parameters(), *self.value.parameters()], self.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        return {"policy_loss": pg_loss.item(), "value_loss": value_loss.item()}

    def _train_unit(self) -> None:
        obs, actions, rewards, dones, values, last_values = self.rollout()
        adv, ret = gae(rewards, values, dones, last_values, self.gamma, self.gae_lambda)
        self.update(obs.reshape(-1, obs.shape[-1]), actions.reshape(-1), adv.reshape(-1), ret.reshape(-1))

    def _extra_state(self) -> dict[str, Any]:
        snaps = [env_state(e) for e in self.venv.envs]
        return {"obs": self.obs.copy(), "ep_return": self.ep_return.copy(), "ep_length": self.ep_length.copy(),
                "envs": snaps if all(s is not None for s in snaps) else None}

    def _load_extra(self, state: dict[str, Any]) -> None:
        if state["envs"] is None:  # environments without a snapshot: their episodes restart
            self.obs, _ = self.venv.reset(seed=[int(s) for s in self.rng.integers(SEED_LIMIT, size=self.num_envs)])
            self.ep_return[:], self.ep_length[:] = 0.0, 0
            return
        for env, snap in zip(self.venv.envs, state["envs"]):
            set_env_state(env, snap)
        self.obs = np.array(state["obs"], dtype=np.float32)
        self.ep_return = np.array(state["ep_return"], dtype=np.float64)
        self.ep_length = np.array(state["ep_length"], dtype=np.int64)
