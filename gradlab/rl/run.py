"""Run folders of ``gradlab rl``: train an agent into a folder, resume it, load it back, play it.

A run folder holds ``config.json`` (algorithm, environment, seed, hyperparameters), ``weights.safetensors`` (every
network, ``<network>.<parameter>``), ``checkpoint/`` (the whole training state: :meth:`Agent.save_checkpoint`),
``history.json`` (return, length and end step of every episode; strict JSON), ``results.json`` (steps, episodes,
wall time, mean return of the last 100 episodes) and ``curves.png`` (return per episode and its moving average).
The folder rules are those of ``gradlab train`` (:mod:`gradlab.train.runfolder`).

>>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
>>> import tempfile, os
>>> out = os.path.join(tempfile.mkdtemp(), "run")
>>> agent = train_run(out, "reinforce", "CartPole-v1", steps=100, seed=0)
>>> sorted(os.listdir(out))
['checkpoint', 'config.json', 'curves.png', 'history.json', 'results.json', 'weights.safetensors']
>>> load_run(out).algo
'reinforce'
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gradlab import io as gio
from gradlab.rl.a2c import A2C
from gradlab.rl.agent import Agent
from gradlab.rl.dqn import DQN
from gradlab.rl.envs import make_env
from gradlab.rl.plots import plot_returns
from gradlab.rl.reinforce import REINFORCE
from gradlab.train.jsonfile import read_json, write_json
from gradlab.train.runfolder import check_run_folder, start_run_folder

__all__ = ["ALGORITHMS", "make_agent", "train_run", "load_run", "play_run", "record_episode", "RUN_FORMAT"]

#: The agents by the name ``gradlab rl train --algo`` takes.
ALGORITHMS: dict[str, type[Agent]] = {"dqn": DQN, "a2c": A2C, "reinforce": REINFORCE}
RUN_FORMAT = "gradlab-rl-run"  #: the ``format`` field of an RL run's ``config.json``


def make_agent(algo: str, env_id: str = "CartPole-v1", seed: int = 0, **hyper: Any) -> Agent:
    """A new agent by algorithm name (``dqn``, ``a2c``, ``reinforce``); ValueError for an unknown name.

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> make_agent("a2c", "CartPole-v1", seed=1, num_envs=2).num_envs
    2
    """
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algo!r}; choose one of {', '.join(ALGORITHMS)}")
    return ALGORITHMS[algo](env_id, seed=seed, **hyper)


def _agent_from_config(config: Any, where: Path) -> Agent:
    if not isinstance(config, dict) or config.get("format") != RUN_FORMAT:
        raise ValueError(f"{where} is not the config.json of a 'gradlab rl train' run")
    try:
        return make_agent(config["algo"], config["env"], int(config["seed"]), **config["hyper"])
    except (KeyError, TypeError) as e:
        raise ValueError(f"{where} is not a valid rl run config ({e})") from None


def _write_outputs(agent: Agent, out: Path, wall: float) -> None:
    write_json(out / "history.json", agent.history)
    write_json(out / "results.json", {"algo": agent.algo, "env": agent.env_id, "steps": agent.steps,
                                      "updates": agent.updates, "episodes": len(agent.history["episode_return"]),
                                      "mean_return_last_100": agent.mean_return(100), "wall_time_s": wall})
    if agent.history["episode_return"]:
        plot_returns(agent.history["episode_return"], out / "curves.png",
                     title=f"{agent.algo} on {agent.env_id}")


def train_run(out: str | os.PathLike, algo: str = "dqn", env_id: str = "CartPole-v1", steps: int = 50_000,
              seed: int = 0, resume: bool = False, overwrite: bool = False, checkpoint_every: int = 10_000,
              log: Callable[[str], Any] | None = None, **hyper: Any) -> Agent:
    """Train ``algo`` on ``env_id`` for ``steps`` environment steps (in total, counting a resumed run's) into the
    run folder ``out``; the checkpoint and history are written every ``checkpoint_every`` steps and at the end.

    ``resume`` continues the run in ``out`` from its checkpoint (its own configuration; ``algo`` and ``env_id``
    must match it); ``overwrite`` replaces an earlier run; ``log`` receives a progress line per checkpoint.

    >>> train_run("out", algo="ppo")  # checked before ``out`` is touched
    Traceback (most recent call last):
        ...
    ValueError: unknown algorithm 'ppo'; choose one of dqn, a2c, reinforce
    """
    out = Path(out)
    mode = check_run_folder(out, resume=resume, overwrite=overwrite)
    ckpt = out / "checkpoint"
    if mode == "resume" and (ckpt / "checkpoint.json").is_file():
        agent = _agent_from_config(read_json(out / "config.json"), out / "config.json")
        if (agent.algo, agent.env_id) != (algo, env_id):
            raise ValueError(f"{out} holds a {agent.algo} run on {agent.env_id}, not {algo} on {env_id}")
        agent.load_checkpoint(ckpt)
        gio.remove_stale_tensor_files(ckpt)  # left by a save killed after it replaced the JSON
    else:
        agent = make_agent(algo, env_id, seed, **hyper)
    start_run_folder(out, mode)
    write_json(out / "config.json", {"format": RUN_FORMAT, **agent.config()})
    t0 = time.perf_counter()
    last = [agent.steps]

    def checkpoint(a: Agent) -> bool:
        if a.steps - last[0] >= checkpoint_every:
            last[0] = a.steps
            a.save_checkpoint(ckpt)
            write_json(out / "history.json", a.history)
            if log is not None:
                log(f"step {a.steps}  episodes {len(a.history['episode_return'])}  "
                    f"mean return (last 20) {a.mean_return(20):.1f}")
        return False

    agent.learn(steps, callback=checkpoint)
    agent.save_checkpoint(ckpt)
    gio.save(agent.weights_state(), out / "weights.safetensors")
    _write_outputs(agent, out, time.perf_counter() - t0)
    return agent


def load_run(run_dir: str | os.PathLike) -> Agent:
    """The trained agent of a run folder (``config.json`` + ``weights.safetensors``), ready to :meth:`act`.

    >>> load_run("no-such-run")
    Traceback (most recent call last):
        ...
    FileNotFoundError: no-such-run has no config.json: not a finished 'gradlab rl train' run
    """
    run_dir = Path(run_dir)
    for name in ("config.json", "weights.safetensors"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir} has no {name}: not a finished 'gradlab rl train' run")
    agent = _agent_from_config(read_json(run_dir / "config.json"), run_dir / "config.json")
    agent.load_weights_state(gio.load(run_dir / "weights.safetensors"))
    return agent


def record_episode(agent: Agent, folder: str | os.PathLike, seed: int = 0) -> list[Path]:
    """Play one greedy episode through Gymnasium's ``RecordVideo`` into ``folder`` (an MP4; needs moviepy and
    the environment's renderer, e.g. pygame); RuntimeError naming what to install when they are missing.

    >>> import importlib.util, pytest
    >>> if all(importlib.util.find_spec(m) for m in ("moviepy", "pygame")):
    ...     pytest.skip("moviepy and pygame are installed: this example shows the error without them")
    >>> record_episode(None, "videos")  # the extras are checked first  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    RuntimeError: recording a video needs ...: pip install ...
    """
    missing = []
    for module, package in (("moviepy", "moviepy"), ("pygame", "pygame")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise RuntimeError(f"recording a video needs {' and '.join(missing)}: pip install {' '.join(missing)}")
    from gymnasium.wrappers import RecordVideo

    folder = Path(folder)
    env = RecordVideo(make_env(agent.env_id, render_mode="rgb_array"), video_folder=str(folder),
                      name_prefix=f"{agent.algo}-{agent.env_id}", episode_trigger=lambda i: True,
                      disable_logger=True)
    obs, _ = env.reset(seed=seed)
    done = False
    while not done:
        obs, _, terminated, truncated, _ = env.step(int(agent.act(obs[None])[0]))
        done = terminated or truncated
    env.close()
    return sorted(folder.glob("*.mp4"))


def play_run(run_dir: str | os.PathLike, episodes: int = 10, seed: int = 0) -> np.ndarray:
    """The returns of ``episodes`` greedy episodes of a run folder's agent (episode ``i`` seeded ``seed + i``).

    >>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
    >>> import tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "r"); _ = train_run(out, "reinforce", steps=50)
    >>> play_run(out, episodes=3).shape
    (3,)
    """
    return load_run(run_dir).evaluate(episodes, seed=seed)
