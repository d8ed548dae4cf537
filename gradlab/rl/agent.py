"""The base class of the agents in :mod:`gradlab.rl`: seeding, the step budget, episode history, greedy
evaluation, and the checkpoint that lets a run stop and resume bit-identically.

An agent owns one ``gradlab.Generator`` (``seed``) that draws everything random in a run: the initial weights, the
actions explored or sampled, the replay batches and the seed of every episode's reset. Training runs in *units*
(an episode for REINFORCE and DQN, a rollout for A2C); a checkpoint is taken between units, so loading it into a
fresh agent and training on gives exactly the run that was never interrupted.

>>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
>>> from gradlab.rl import DQN
>>> agent = DQN("CartPole-v1", seed=0, learning_starts=50)
>>> _ = agent.learn(100); agent.steps >= 100, len(agent.history["episode_return"]) > 0
(True, True)
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import gradlab
from gradlab import io as gio
from gradlab.rl.envs import SEED_LIMIT, evaluate

__all__ = ["Agent", "single_blas_thread"]


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread when threadpoolctl is installed (a no-op otherwise).

    The networks of these agents are tiny: a multithreaded BLAS spends more time waking its threads than
    multiplying, and on a busy machine a 64 x 128 x 128 product measured 32 ms with OpenBLAS's threads against
    0.09 ms with one.

    >>> with single_blas_thread():
    ...     pass
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, "blas"):
        yield


class Agent:
    """What every agent shares; subclasses define :attr:`algo`, :meth:`networks`, :meth:`optimizers`,
    :meth:`act`, :meth:`_train_unit` and, when they keep more state, :meth:`_extra_state`/:meth:`_load_extra`.

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> from gradlab.rl import REINFORCE
    >>> REINFORCE("CartPole-v1", seed=3).config()["algo"]
    'reinforce'
    """

    algo = "agent"

    def __init__(self, env_id: str, seed: int, hyper: dict[str, Any]) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        self.env_id = env_id
        self.seed = seed
        self.hyper = hyper
        self.generator = gradlab.Generator(seed)
        self.rng = self.generator.numpy_rng
        self.steps = 0  # environment steps taken (summed over parallel environments)
        self.updates = 0  # gradient steps taken
        self.history: dict[str, list[Any]] = {"episode_return": [], "episode_length": [], "episode_end_step": []}

    # ---------------------------------------------------------------- to define in subclasses
    def networks(self) -> dict[str, Any]:
        """The agent's networks by name (saved in the weights file as ``<name>.<parameter>``)."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, Any]:
        """The agent's optimizers by name."""
        raise NotImplementedError

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions for a batch of observations (no exploration)."""
        raise NotImplementedError

    def _train_unit(self) -> None:
        raise NotImplementedError

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra(self, state: dict[str, Any]) -> None:
        pass

    # ---------------------------------------------------------------- shared
    def config(self) -> dict[str, Any]:
        """Everything needed to rebuild the agent: ``algo``, ``env``, ``seed`` and the hyperparameters."""
        return {"algo": self.algo, "env": self.env_id, "seed": self.seed, "hyper": dict(self.hyper)}

    def _episode_seed(self) -> int:
        return int(self.rng.integers(SEED_LIMIT))

    def _record_episode(self, ret: float, length: int) -> None:
        self.history["episode_return"].append(float(ret))
        self.history["episode_length"].append(int(length))
        self.history["episode_end_step"].append(int(self.steps))

    def learn(self, total_steps: int, callback: Callable[[Agent], Any] | None = None) -> Agent:
        """Train until :attr:`steps` reaches ``total_steps`` (the last unit may run past it); ``callback(agent)``
        after every unit, stopping early when it returns True. Returns the agent."""
        if total_steps < 0:
            raise ValueError(f"total_steps must be >= 0, got {total_steps}")
        with single_blas_thread():
            while self.steps < total_steps:
                self._train_unit()
                if callback is not None and callback(self):
                    break
        return self

    def evaluate(self, episodes: int = 10, seed: int = 10**6) -> np.ndarray:
        """Returns of ``episodes`` episodes played greedily (episode ``i`` reset with ``seed + i``)."""
        with single_blas_thread():
            return evaluate(self.act, self.env_id, episodes=episodes, seed=seed)

    def mean_return(self, last: int = 100) -> float:
        """The mean training return of the last ``last`` episodes (nan before the first episode ends)."""
        r = self.history["episode_return"][-last:]
        return float(np.mean(r)) if r else float("nan")

    def weights_state(self) -> dict[str, Any]:
        """Every network's ``state_dict`` in one flat dict, keys ``<network>.<parameter>``."""
        return {f"{name}.{k}": v for name, net in self.networks().items() for k, v in net.state_dict().items()}

    def load_weights_state(self, state: dict[str, Any]) -> None:
        """Load :meth:`weights_state` (e.g. read from ``weights.safetensors``) into the networks."""
        nets = self.networks()
        for name, net in nets.items():
            own = {k[len(name) + 1:]: v for k, v in state.items() if k.startswith(name + ".")}
            net.load_state_dict(own)
        unknown = [k for k in state if k.split(".", 1)[0] not in nets]
        if unknown:
            raise ValueError(f"weights for networks this {self.algo} agent does not have: {unknown[:3]}")

    def save_checkpoint(self, path: str | os.PathLike) -> Any:
        """Write the whole training state (weights, optimizers, random state, counters, history, replay buffer or
        environment state) with :func:`gradlab.io.save_checkpoint`; returns the JSON file's path."""
        return gio.save_checkpoint(
            path, model_state=self.weights_state(),
            optimizer_state={name: opt.state_dict() for name, opt in self.optimizers().items()},
            epoch=self.updates, rng_state=self.generator.get_state(),
            extra={"config": self.config(), "steps": self.steps, "history": self.history,
                   "agent": self._extra_state()})

    def load_checkpoint(self, path: str | os.PathLike) -> Agent:
        """Restore :meth:`save_checkpoint` into this agent (built with the same configuration); returns it."""
        ck = gio.load_checkpoint(path)
        extra = ck["extra"]
        config = extra.get("config") if isinstance(extra, dict) else None
        if not isinstance(config, dict) or config.get("algo") != self.algo:
            raise ValueError(f"{path} is not a checkpoint of a {self.algo} agent")
        if extra["config"]["env"] != self.env_id:
            raise ValueError(f"{path} is a checkpoint on {extra['config']['env']}, not {self.env_id}")
        self.load_weights_state(ck["model_state"])
        for name, opt in self.optimizers().items():
            opt.load_state_dict(ck["optimizer_state"][name])
        self.generator.set_state(ck["rng_state"])
        self.updates = int(ck["epoch"])
        self.steps = int(extra["steps"])
        self.history = {k: list(v) for k, v in extra["history"].items()}
        self._load_extra(extra["agent"])
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.env_id!r}, seed={self.seed}, steps={self.steps})"
