"""Reinforcement learning on Gymnasium environments with gradlab's Tensor, nn and optim (the ``rl`` extra:
``pip install gradlab[rl]``).

* :class:`REINFORCE` (:mod:`gradlab.rl.reinforce`): Monte-Carlo policy gradient with a value baseline.
* :class:`A2C` (:mod:`gradlab.rl.a2c`): advantage actor-critic on Gymnasium's vector environments.
* :class:`DQN` (:mod:`gradlab.rl.dqn`): deep Q-learning with replay, a target network and epsilon-greedy exploration.
* :mod:`gradlab.rl.run`: run folders (:func:`train_run`, :func:`load_run`, :func:`play_run`) for ``gradlab rl``.
* Pieces: :class:`ReplayBuffer`, :class:`LinearSchedule`, :func:`discounted_returns`, :func:`gae`, :func:`mlp`,
  :func:`evaluate`, :func:`plot_returns`.

Gymnasium is imported only when an environment is made; without it the error names ``pip install gradlab[rl]``.

>>> import pytest; _ = pytest.importorskip("gymnasium")  # the 'rl' extra
>>> from gradlab.rl import DQN
>>> DQN("CartPole-v1", seed=0).algo
'dqn'
"""
from gradlab.rl.a2c import A2C
from gradlab.rl.agent import Agent
from gradlab.rl.dqn import DQN
from gradlab.rl.envs import evaluate, make_env, make_vector_env, require_gymnasium
from gradlab.rl.nets import mlp
from gradlab.rl.plots import moving_average, plot_returns
from gradlab.rl.reinforce import REINFORCE, policy_gradient_loss
from gradlab.rl.replay import ReplayBuffer
from gradlab.rl.returns import discounted_returns, gae
from gradlab.rl.run import ALGORITHMS, load_run, make_agent, play_run, train_run
from gradlab.rl.schedule import LinearSchedule

__all__ = [
    "Agent", "REINFORCE", "A2C", "DQN", "ALGORITHMS", "make_agent", "train_run", "load_run", "play_run",
    "ReplayBuffer", "LinearSchedule", "discounted_returns", "gae", "policy_gradient_loss", "mlp", "evaluate",
    "make_env", "make_vector_env", "require_gymnasium", "plot_returns", "moving_average",
]
