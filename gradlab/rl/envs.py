"""Gymnasium environments for :mod:`gradlab.rl`: the lazy import, checked creation, seeded vector environments,
greedy evaluation, and the snapshot of classic-control environment state that makes a resumed run exact.

Gymnasium is an optional extra (``pip install gradlab[rl]``); it is imported only when an environment is made.

>>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
>>> env = make_env("CartPole-v1")
>>> env.observation_space.shape, action_count(env, "dqn")
((4,), 2)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["require_gymnasium", "make_env", "make_vector_env", "action_count", "evaluate", "env_state",
           "set_env_state", "SEED_LIMIT"]

#: Episode seeds are drawn below this bound (Gymnasium accepts any non-negative int; this keeps them in int32).
SEED_LIMIT = 2**31 - 1


def require_gymnasium() -> Any:
    """The ``gymnasium`` module, or an ImportError naming what to install.

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> require_gymnasium().__name__
    'gymnasium'
    """
    try:
        import gymnasium
    except ImportError:
        raise ImportError("gradlab.rl needs Gymnasium: pip install gradlab[rl]  (or: pip install gymnasium)") from None
    return gymnasium


def make_env(env_id: str, render_mode: str | None = None) -> Any:
    """``gymnasium.make(env_id)``, with a ValueError naming the environment when Gymnasium does not know it.

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> make_env("NoSuchEnv-v0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: unknown environment 'NoSuchEnv-v0' ...
    """
    gym = require_gymnasium()
    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"the environment must be a Gymnasium id like 'CartPole-v1', got {env_id!r}")
    try:
        return gym.make(env_id, render_mode=render_mode)
    except gym.error.Error as e:
        raise ValueError(f"unknown environment {env_id!r} (Gymnasium says: {str(e).splitlines()[0]})") from None
    except ImportError as e:  # e.g. Box2D environments without box2d installed
        raise ValueError(f"environment {env_id!r} needs an extra dependency: {e}") from None


def make_vector_env(env_id: str, num_envs: int) -> Any:
    """``num_envs`` copies of ``env_id`` in a ``gymnasium.vector.SyncVectorEnv`` that resets a finished episode in
    the same step (its last observation in ``info["final_obs"]``).

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> make_vector_env("CartPole-v1", 2).num_envs
    2
    """
    gym = require_gymnasium()
    make_env(env_id).close()  # a clear error for unknown ids
    return gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(num_envs)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def action_count(env: Any, algo: str) -> int:
    """The number of discrete actions of ``env`` (a plain or a vector environment); a ValueError naming ``algo``
    when the action space is not discrete (e.g. ``Pendulum-v1``'s continuous torque).

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> action_count(make_env("Pendulum-v1"), "dqn")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: dqn needs a discrete action space; Pendulum-v1 has Box(...)
    """
    gym = require_gymnasium()
    space = getattr(env, "single_action_space", env.action_space)
    obs = getattr(env, "single_observation_space", env.observation_space)
    spec = getattr(getattr(env, "envs", [env])[0], "spec", None)  # a vector env: its first environment's
    name = spec.id if spec is not None else type(env).__name__
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(f"{algo} needs a discrete action space; {name} has {space}")
    if not isinstance(obs, gym.spaces.Box) or len(obs.shape) != 1:
        raise ValueError(f"{algo} needs observations that are flat vectors; {name} has {obs}")
    return int(space.n)


def evaluate(act: Callable[[np.ndarray], np.ndarray], env_id: str, episodes: int = 10, seed: int = 0,
             parallel: int = 50) -> np.ndarray:
    """The returns of ``episodes`` episodes of ``env_id`` played by ``act`` (a batch of observations -> a batch of
    actions), episode ``i`` reset with seed ``seed + i``; up to ``parallel`` episodes run side by side so the
    policy sees one batch per time step.

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> evaluate(lambda obs: np.zeros(len(obs), dtype=np.int64), "CartPole-v1", episodes=2).tolist()
    [11.0, 10.0]
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    returns = np.zeros(episodes)
    for start in range(0, episodes, parallel):
        envs = [make_env(env_id) for _ in range(min(parallel, episodes - start))]
        obs = np.stack([e.reset(seed=seed + start + i)[0] for i, e in enumerate(envs)])
        alive = np.ones(len(envs), dtype=bool)
        while alive.any():
            idx = np.flatnonzero(alive)
            actions = np.asarray(act(obs[idx]))
            for i, a in zip(idx, actions):  # the environments step one by one (as SyncVectorEnv does)
                o, r, terminated, truncated, _ = envs[i].step(int(a))
                obs[i] = o
                returns[start + i] += r
                alive[i] = not (terminated or truncated)
        for e in envs:
            e.close()
    return returns


def _layers(env: Any) -> list[Any]:
    chain = [env]
    while hasattr(chain[-1], "env"):
        chain.append(chain[-1].env)
    return chain


def env_state(env: Any) -> dict[str, Any] | None:
    """A snapshot of a classic-control environment in mid-episode (its ``state``, random generator and time-limit
    counter), or None when the environment keeps its state elsewhere (then a resumed run restarts its episodes).

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> env = make_env("CartPole-v1"); _ = env.reset(seed=0)
    >>> sorted(env_state(env))
    ['elapsed', 'np_random', 'state', 'steps_beyond_terminated']
    """
    base = env.unwrapped
    state = getattr(base, "state", None)
    if state is None or not isinstance(state, (np.ndarray, tuple, list)):
        return None
    beyond = getattr(base, "steps_beyond_terminated", None)
    return {"state": np.array(state, dtype=np.float64), "np_random": dict(base.np_random.bit_generator.state),
            "elapsed": [getattr(w, "_elapsed_steps", None) for w in _layers(env)],
            "steps_beyond_terminated": beyond}


def set_env_state(env: Any, snapshot: dict[str, Any]) -> None:
    """Put back a snapshot taken by :func:`env_state` (into an environment of the same id, already reset).

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> env = make_env("CartPole-v1"); _ = env.reset(seed=0); snap = env_state(env)
    >>> a = env.step(0)[0]; set_env_state(env, snap); bool((env.step(0)[0] == a).all())
    True
    """
    base = env.unwrapped
    old = base.state
    base.state = tuple(snapshot["state"].tolist()) if isinstance(old, tuple) else \
        np.array(snapshot["state"], dtype=np.asarray(old).dtype)
    base.np_random.bit_generator.state = snapshot["np_random"]
    if hasattr(base, "steps_beyond_terminated"):
        base.steps_beyond_terminated = snapshot["steps_beyond_terminated"]
    for layer, elapsed in zip(_layers(env), snapshot["elapsed"]):
        if elapsed is not None:
            layer._elapsed_steps = elapsed
