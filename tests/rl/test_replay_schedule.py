"""The replay buffer (ring order, sampling that keeps transitions whole and is uniform, state round trip) and the
epsilon schedule."""
from __future__ import annotations

import numpy as np
import pytest

from gradlab.rl import LinearSchedule, ReplayBuffer


def _fill(buf, n):
    for i in range(n):
        buf.add(np.full(3, i), i % 4, float(i), np.full(3, i + 0.5), i % 7 == 0)


def test_the_ring_keeps_the_newest_transitions():
    buf = ReplayBuffer(5, 3)
    _fill(buf, 12)
    assert len(buf) == 5 and buf.pos == 12 % 5
    assert sorted(buf.rewards.tolist()) == [7.0, 8.0, 9.0, 10.0, 11.0]
    i = int(np.flatnonzero(buf.rewards == 10.0)[0])
    assert buf.actions[i] == 10 % 4 and buf.obs[i].tolist() == [10.0] * 3 and buf.next_obs[i].tolist() == [10.5] * 3


def test_sampling_keeps_each_transition_whole_and_is_uniform():
    buf = ReplayBuffer(100, 3)
    _fill(buf, 40)
    obs, act, rew, nxt, term = buf.sample(20_000, np.random.default_rng(0))
    assert obs.shape == (20_000, 3) and obs.dtype == np.float32 and act.dtype == np.int64
    np.testing.assert_array_equal(obs[:, 0], rew)            # each row comes from one stored transition
    np.testing.assert_array_equal(nxt[:, 0], rew + 0.5)
    np.testing.assert_array_equal(act, rew.astype(int) % 4)
    np.testing.assert_array_equal(term, (rew.astype(int) % 7 == 0).astype(np.float32))
    counts = np.bincount(rew.astype(int), minlength=40)
    assert counts.min() > 0 and set(np.unique(rew).astype(int)) == set(range(40))  # only the 40 filled slots
    chi2 = ((counts - 500) ** 2 / 500).sum()
    assert chi2 < 80  # 39 degrees of freedom: p < 1e-4 for a uniform draw to exceed this


def test_sampling_is_reproducible_and_empty_buffer_refuses():
    buf = ReplayBuffer(10, 3)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(1, np.random.default_rng(0))
    _fill(buf, 10)
    a = buf.sample(8, np.random.default_rng(3))
    b = buf.sample(8, np.random.default_rng(3))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_state_dict_round_trip():
    buf = ReplayBuffer(6, 3)
    _fill(buf, 9)
    other = ReplayBuffer(6, 3)
    other.load_state_dict(buf.state_dict())
    assert (other.pos, other.size) == (buf.pos, buf.size)
    for key in ("obs", "next_obs", "actions", "rewards", "terminated"):
        np.testing.assert_array_equal(getattr(other, key), getattr(buf, key))
    with pytest.raises(ValueError, match="does not fit"):
        ReplayBuffer(4, 3).load_state_dict(buf.state_dict())
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, 3)


def test_linear_epsilon_schedule():
    s = LinearSchedule(1.0, 0.1, 1000)
    assert s(0) == 1.0 and s(500) == pytest.approx(0.55) and s(1000) == pytest.approx(0.1) and s(10**9) == 0.1
    values = [s(t) for t in range(0, 1001, 50)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    assert LinearSchedule(0.5, 0.5, 0)(0) == 0.5
    with pytest.raises(ValueError, match="epsilon start"):
        LinearSchedule(1.5, 0.1, 10)
    with pytest.raises(ValueError, match="duration"):
        LinearSchedule(1.0, 0.1, -1)
