"""Deep Q-learning (Mnih et al. 2015) with experience replay, a target network, an epsilon-greedy schedule and the
Huber loss; double DQN (van Hasselt et al. 2016) by default.

>>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
>>> agent = DQN("CartPole-v1", seed=0, learning_starts=100).learn(300)
>>> agent.updates > 0
True
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.rl.agent import Agent
from gradlab.rl.envs import action_count, make_env
from gradlab.rl.nets import mlp, predict
from gradlab.rl.replay import ReplayBuffer
from gradlab.rl.schedule import LinearSchedule

__all__ = ["DQN"]


class DQN(Agent):
    """A Q-network trained on replayed transitions towards ``r + gamma * Q_target(s', a*)``.

    ``a*`` is ``argmax_a Q_target(s', a)`` (``double=False``) or ``argmax_a Q(s', a)`` (double DQN). The target
    network is a copy of the Q-network refreshed every ``target_update`` steps; epsilon falls linearly from
    ``eps_start`` to ``eps_end`` over ``eps_steps`` steps; one gradient step of ``batch_size`` transitions every
    ``train_every`` steps once ``learning_starts`` transitions are stored; gradients clipped to ``max_grad_norm``.

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> agent = DQN("CartPole-v1", seed=0, hidden=(8,))
    >>> agent.td_targets(np.ones(2), np.zeros((2, 4)), np.array([1.0, 0.0])).shape
    (2,)
    """

    algo = "dqn"

    def __init__(self, env_id: str = "CartPole-v1", seed: int = 0, hidden: Sequence[int] = (128, 128),
                 lr: float = 1e-3, gamma: float = 0.99, buffer_size: int = 50_000, batch_size: int = 64,
                 learning_starts: int = 1000, train_every: int = 1, target_update: int = 500,
                 eps_start: float = 1.0, eps_end: float = 0.05, eps_steps: int = 10_000, double: bool = True,
                 max_grad_norm: float = 10.0) -> None:
        super().__init__(env_id, seed, {
            "hidden": list(hidden), "lr": lr, "gamma": gamma, "buffer_size": buffer_size, "batch_size": batch_size,
            "learning_starts": learning_starts, "train_every": train_every, "target_update": target_update,
            "eps_start": eps_start, "eps_end": eps_end, "eps_steps": eps_steps, "double": double,
            "max_grad_norm": max_grad_norm})
        for name, v in (("batch_size", batch_size), ("train_every", train_every), ("target_update", target_update)):
            if v < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        self.env = make_env(env_id)
        self.n_actions = action_count(self.env, self.algo)
        obs_dim = int(self.env.observation_space.shape[0])
        self.gamma, self.batch_size, self.double = gamma, batch_size, double
        self.learning_starts, self.train_every, self.target_update = learning_starts, train_every, target_update
        self.max_grad_norm = max_grad_norm
        self.epsilon = LinearSchedule(eps_start, eps_end, eps_steps)
        self.q = mlp([obs_dim, *hidden, self.n_actions], activation="relu", generator=self.generator)
        self.target = mlp([obs_dim, *hidden, self.n_actions], activation="relu", generator=self.generator)
        self.sync_target()
        self.optimizer = optim.Adam(self.q.parameters(), lr=lr)
        self.loss_fn = nn.SmoothL1Loss()  # the Huber loss with delta 1
        self.buffer = ReplayBuffer(buffer_size, obs_dim)

    def networks(self) -> dict[str, Any]:
        return {"q": self.q, "target": self.target}

    def optimizers(self) -> dict[str, Any]:
        return {"q": self.optimizer}

    def act(self, obs: np.ndarray) -> np.ndarray:
        """``argmax_a Q(s, a)`` for each observation."""
        return predict(self.q, obs).argmax(axis=1)

    def explore(self, obs: np.ndarray) -> int:
        """An epsilon-greedy action for one observation (epsilon from the schedule at the current step)."""
        if self.rng.random() < self.epsilon(self.steps):
            return int(self.rng.integers(self.n_actions))
        return int(self.act(obs[None])[0])

    def sync_target(self) -> None:
        """Copy the Q-network's weights into the target network."""
        for t, p in zip(self.target.parameters(), self.q.parameters()):
            t._data[...] = p._data

    def td_targets(self, rewards: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray) -> np.ndarray:
        """``r + gamma * (1 - terminated) * Q_target(s', a*)`` as a plain array: a constant of the loss."""
        q_next = predict(self.target, next_obs)
        if self.double:
            best = predict(self.q, next_obs).argmax(axis=1)
        else:
            best = q_next.argmax(axis=1)
        next_value = np.take_along_axis(q_next, best[:, None], axis=1)[:, 0]
        return (rewards + self.gamma * (1.0 - terminated) * next_value).astype(np.float32)

    def update(self) -> float:
        """One gradient step on a replayed batch; returns the Huber loss."""
        obs, actions, rewards, next_obs, terminated = self.buffer.sample(self.batch_size, self.rng)
        targets = self.td_targets(rewards, next_obs, terminated)
        q = self.q(gradlab.from_numpy(obs)).gather(1, gradlab.from_numpy(actions[:, None])).squeeze(1)
        loss = self.loss_fn(q, gradlab.from_numpy(targets))
        self.optimizer.zero_grad()
        loss.backward()
        if self.max_grad_norm:
            nn.utils.clip_grad_norm_(self.q.parameters(), self.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        return loss.item()

    def _train_unit(self) -> None:  # one episode
        obs, _ = self.env.reset(seed=self._episode_seed())
        ret, length, done = 0.0, 0, False
        while not done:
            a = self.explore(obs)
            next_obs, r, terminated, truncated, _ = self.env.step(a)
            self.buffer.add(obs, a, r, next_obs, terminated)
            self.steps += 1
            ret, length = ret + float(r), length + 1
            if len(self.buffer) >= self.learning_starts and self.steps % self.train_every == 0:
                self.update()
            if self.steps % self.target_update == 0:
                self.sync_target()
            obs, done = next_obs, terminated or truncated
        self._record_episode(ret, length)

    def _extra_state(self) -> dict[str, Any]:
        return {"buffer": self.buffer.state_dict()}

    def _load_extra(self, state: dict[str, Any]) -> None:
        self.buffer.load_state_dict(state["buffer"])
