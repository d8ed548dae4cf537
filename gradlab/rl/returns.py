"""Discounted returns and advantages: the sums every policy-gradient method weighs its log-probabilities by.

* :func:`discounted_returns`: ``G_t = r_t + gamma * G_{t+1}`` over one episode (a linear filter, no Python loop).
* :func:`gae`: generalised advantage estimates over a rollout of several environments (a loop over time only,
  vectorised across environments); ``lam=1`` gives the n-step returns of A2C.

>>> discounted_returns([1.0, 1.0, 1.0], gamma=0.5).tolist()
[1.75, 1.5, 1.0]
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

__all__ = ["discounted_returns", "gae"]


def discounted_returns(rewards: Sequence[float] | np.ndarray, gamma: float) -> np.ndarray:
    """``G_t = sum_k gamma**k r_{t+k}`` for every step of one episode (float64).

    >>> discounted_returns(np.array([0.0, 0.0, 1.0]), gamma=0.9).round(4).tolist()
    [0.81, 0.9, 1.0]
    """
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"rewards must be one episode (1-D), got shape {r.shape}")
    return lfilter([1.0], [1.0, -gamma], r[::-1])[::-1].copy()


def gae(rewards: np.ndarray, values: np.ndarray, dones: np.ndarray, last_values: np.ndarray, gamma: float,
        lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and returns of a rollout: arrays ``(T, N)`` of rewards, value estimates and episode ends (after
    step t), ``last_values`` ``(N,)`` the values of the observations after the rollout.

    ``delta_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t``; ``A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}``;
    returns ``A + V``.

    >>> adv, ret = gae(np.ones((2, 1)), np.zeros((2, 1)), np.zeros((2, 1)), np.zeros(1), gamma=0.5, lam=1.0)
    >>> ret[:, 0].tolist()
    [1.5, 1.0]
    """
    T = len(rewards)
    adv = np.zeros_like(rewards, dtype=np.float64)
    next_adv = np.zeros(rewards.shape[1:])
    next_value = np.asarray(last_values, dtype=np.float64)
    for t in range(T - 1, -1, -1):  # over time only; every environment at once
        keep = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * keep - values[t]
        next_adv = delta + gamma * lam * keep * next_adv
        adv[t] = next_adv
        next_value = values[t]
    return adv, adv + values
