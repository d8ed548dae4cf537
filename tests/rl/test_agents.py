"""The agents on CartPole: each learns (beats a random policy, ~22 per episode) in a short run; a seed fixes the
run; a run resumed from its checkpoint continues exactly; bad arguments are refused clearly."""
from __future__ import annotations

import numpy as np
import pytest

from gradlab.rl import A2C, DQN, REINFORCE, make_agent

# short, robust budgets (seed 0; checked over several seeds when chosen)
QUICK = {
    "reinforce": (dict(hidden=(32,), lr=1e-2), 8_000),
    "a2c": (dict(num_envs=8, n_steps=8, hidden=(32,), lr=3e-3), 20_000),
    "dqn": (dict(hidden=(64,), learning_starts=500, target_update=200, eps_steps=3_000), 8_000),
}


def _random_policy_mean():
    from gradlab.rl.envs import evaluate

    rng = np.random.default_rng(0)
    return evaluate(lambda obs: rng.integers(0, 2, len(obs)), "CartPole-v1", episodes=50).mean()


@pytest.mark.parametrize("algo", sorted(QUICK))
def test_a_short_run_beats_a_random_policy(algo):
    hyper, steps = QUICK[algo]
    agent = make_agent(algo, "CartPole-v1", seed=0, **hyper).learn(steps)
    random_mean = _random_policy_mean()
    assert 15 < random_mean < 30
    assert agent.evaluate(20).mean() > 3 * random_mean, agent.history["episode_return"][-20:]


def _small(algo, seed=0):
    hyper = {"reinforce": dict(hidden=(8,)), "a2c": dict(num_envs=3, n_steps=5, hidden=(8,)),
             "dqn": dict(hidden=(8,), learning_starts=50, target_update=30, batch_size=16)}[algo]
    return make_agent(algo, "CartPole-v1", seed=seed, **hyper)


def _weights(agent):
    return {k: v.numpy().copy() for k, v in agent.weights_state().items()}


@pytest.mark.parametrize("algo", ["reinforce", "a2c", "dqn"])
def test_the_same_seed_gives_the_same_run(algo):
    a, b = _small(algo).learn(400), _small(algo).learn(400)
    assert a.history == b.history and a.history["episode_return"]
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)
    c = _small(algo, seed=1).learn(400)
    assert c.history != a.history


@pytest.mark.parametrize("algo", ["reinforce", "a2c", "dqn"])
def test_resuming_from_a_checkpoint_continues_exactly(algo, tmp_path):
    whole = _small(algo).learn(600)
    first = _small(algo).learn(300)
    first.save_checkpoint(tmp_path / "ck")
    resumed = _small(algo, seed=7).load_checkpoint(tmp_path / "ck")  # the seed comes from the checkpoint's state
    assert resumed.steps == first.steps and resumed.history == first.history
    resumed.learn(600)
    assert resumed.history == whole.history and resumed.steps == whole.steps and resumed.updates == whole.updates
    wa, wb = _weights(whole), _weights(resumed)
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)


def test_a_checkpoint_of_another_algorithm_is_refused(tmp_path):
    _small("dqn").learn(60).save_checkpoint(tmp_path / "ck")
    with pytest.raises(ValueError, match="not a checkpoint of a reinforce agent"):
        _small("reinforce").load_checkpoint(tmp_path / "ck")


@pytest.mark.parametrize("cls", [REINFORCE, A2C, DQN])
def test_an_unknown_environment_is_named(cls):
    with pytest.raises(ValueError, match="unknown environment 'CartPole-v99'"):
        cls("CartPole-v99")


@pytest.mark.parametrize("cls", [REINFORCE, A2C, DQN])
def test_a_continuous_action_space_is_refused(cls):
    with pytest.raises(ValueError, match=f"{cls.algo} needs a discrete action space; Pendulum-v1 has Box"):
        cls("Pendulum-v1")


def test_bad_hyperparameters_and_names():
    with pytest.raises(ValueError, match="unknown algorithm 'ppo'"):
        make_agent("ppo")
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        DQN(seed=-1)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        DQN(batch_size=0)
    with pytest.raises(ValueError, match="num_envs and n_steps"):
        A2C(num_envs=0)
    with pytest.raises(ValueError, match="episodes must be >= 1"):
        DQN().evaluate(0)


def test_missing_gymnasium_names_the_extra(monkeypatch):
    import sys

    from gradlab.rl import require_gymnasium

    monkeypatch.setitem(sys.modules, "gymnasium", None)
    with pytest.raises(ImportError, match=r"pip install gradlab\[rl\]"):
        require_gymnasium()
