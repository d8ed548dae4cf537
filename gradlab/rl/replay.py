"""The experience replay buffer of DQN: preallocated numpy arrays used as a ring, sampled uniformly in one call.

>>> buf = ReplayBuffer(capacity=3, obs_dim=2)
>>> for i in range(5):
...     buf.add(np.full(2, i), i % 2, float(i), np.full(2, i + 1), False)
>>> len(buf), sorted(buf.rewards.tolist())
(3, [2.0, 3.0, 4.0])
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ReplayBuffer"]


class ReplayBuffer:
    """``capacity`` transitions ``(obs, action, reward, next_obs, terminated)`` in arrays allocated once; the oldest
    is overwritten when full. :meth:`sample` draws a batch uniformly (with replacement) as arrays.

    ``terminated`` is the true end of an episode (no bootstrapping from ``next_obs``); an episode cut by a time
    limit is stored with ``terminated=False`` so its target still bootstraps.

    >>> buf = ReplayBuffer(10, 4); buf.add(np.zeros(4), 1, 1.0, np.ones(4), True)
    >>> obs, act, rew, nxt, term = buf.sample(2, np.random.default_rng(0)); act.tolist(), term.tolist()
    ([1, 1], [1.0, 1.0])
    """

    def __init__(self, capacity: int, obs_dim: int) -> None:
        if capacity < 1:
            raise ValueError(f"the replay buffer's capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.pos = 0  # where the next transition goes
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs: Any, action: int, reward: float, next_obs: Any, terminated: bool) -> None:
        """Store one transition (overwriting the oldest when full)."""
        i = self.pos
        self.obs[i] = obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_obs[i] = next_obs
        self.terminated[i] = float(terminated)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """``batch_size`` stored transitions drawn uniformly: ``(obs, actions, rewards, next_obs, terminated)``."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = rng.integers(0, self.size, size=batch_size)
        return self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.terminated[idx]

    def state_dict(self) -> dict[str, Any]:
        """The stored transitions and the ring position (arrays trimmed to the filled part)."""
        n = self.size
        return {"obs": self.obs[:n].copy(), "next_obs": self.next_obs[:n].copy(), "actions": self.actions[:n].copy(),
                "rewards": self.rewards[:n].copy(), "terminated": self.terminated[:n].copy(), "pos": self.pos,
                "size": n}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (into a buffer of the same capacity and observation size)."""
        n = int(state["size"])
        if n > self.capacity or state["obs"].shape[1:] != self.obs.shape[1:]:
            raise ValueError(f"replay buffer state of {n} transitions of shape {state['obs'].shape[1:]} does not fit "
                             f"a buffer of {self.capacity} x {self.obs.shape[1:]}")
        for key in ("obs", "next_obs", "actions", "rewards", "terminated"):
            getattr(self, key)[:n] = state[key]
        self.pos, self.size = int(state["pos"]), n
