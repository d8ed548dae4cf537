"""DQN's target: computed by the target network, constant for the loss (no gradient reaches it), zero future value
at a true episode end; double DQN picks the action with the online network."""
from __future__ import annotations

import numpy as np

import gradlab
from gradlab.rl import DQN


def _agent(double=False):
    return DQN("CartPole-v1", seed=0, hidden=(16,), double=double, learning_starts=10)


def _perturb(net, amount=0.5):
    with gradlab.no_grad():
        for p in net.parameters():
            p._data[...] += amount


def test_the_target_uses_the_target_network_not_the_online_one():
    agent = _agent()
    rng = np.random.default_rng(0)
    nxt = rng.standard_normal((6, 4)).astype(np.float32)
    rew, term = np.ones(6, dtype=np.float32), np.zeros(6, dtype=np.float32)
    before = agent.td_targets(rew, nxt, term)
    _perturb(agent.q)
    np.testing.assert_array_equal(agent.td_targets(rew, nxt, term), before)  # online changes: targets do not
    _perturb(agent.target)
    assert not np.allclose(agent.td_targets(rew, nxt, term), before)
    with gradlab.no_grad():
        q_next = agent.target(gradlab.from_numpy(nxt)).numpy()
    np.testing.assert_allclose(agent.td_targets(rew, nxt, term), 1 + 0.99 * q_next.max(1), rtol=1e-6)


def test_a_terminated_transition_has_no_future_value():
    agent = _agent()
    nxt = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    out = agent.td_targets(np.array([1.0, 2.0, 3.0]), nxt, np.array([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])


def test_double_dqn_picks_with_the_online_network_and_values_with_the_target():
    agent = _agent(double=True)
    _perturb(agent.target, 0.3)
    nxt = np.random.default_rng(2).standard_normal((8, 4)).astype(np.float32)
    with gradlab.no_grad():
        q_online = agent.q(gradlab.from_numpy(nxt)).numpy()
        q_target = agent.target(gradlab.from_numpy(nxt)).numpy()
    expected = 0.99 * q_target[np.arange(8), q_online.argmax(1)]
    np.testing.assert_allclose(agent.td_targets(np.zeros(8), nxt, np.zeros(8)), expected, rtol=1e-6)


def test_an_update_moves_only_the_online_network():
    agent = _agent()
    for _ in range(40):
        o = np.random.default_rng(_).standard_normal(4).astype(np.float32)
        agent.buffer.add(o, _ % 2, 1.0, o + 0.1, False)
    target_before = [p._data.copy() for p in agent.target.parameters()]
    q_before = [p._data.copy() for p in agent.q.parameters()]
    loss = agent.update()
    assert np.isfinite(loss)
    assert all(p.grad is None for p in agent.target.parameters())  # no gradient flows into the target
    for p, b in zip(agent.target.parameters(), target_before):
        np.testing.assert_array_equal(p._data, b)
    assert any(not np.array_equal(p._data, b) for p, b in zip(agent.q.parameters(), q_before))
    agent.sync_target()
    for t, p in zip(agent.target.parameters(), agent.q.parameters()):
        np.testing.assert_array_equal(t._data, p._data)
