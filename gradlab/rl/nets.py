"""The small networks of :mod:`gradlab.rl` and the sampling of actions from them.

:func:`mlp` builds a multilayer perceptron initialised from a given ``gradlab.Generator`` (so an agent's seed fixes
its weights); :func:`sample_categorical` draws one action per row of logits; :func:`predict` runs a network on a
numpy batch without recording a graph.

>>> import gradlab
>>> net = mlp([4, 8, 2], generator=gradlab.Generator(0))
>>> predict(net, np.zeros((3, 4), dtype=np.float32)).shape
(3, 2)
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import gradlab
from gradlab import nn

__all__ = ["mlp", "predict", "sample_categorical", "softmax_np", "ACTIVATIONS"]

#: The hidden-layer activations :func:`mlp` knows, by name.
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def mlp(sizes: Sequence[int], activation: str = "tanh", generator: Any = None, out_gain: float = 1.0) -> Any:
    """``Linear -> activation -> ... -> Linear`` through ``sizes`` (input, hidden..., output), every layer drawn
    uniformly in ``+-1/sqrt(fan_in)`` (PyTorch's default) from ``generator``; the last layer's weights are then
    scaled by ``out_gain`` (a small gain starts a policy near uniform).

    >>> import gradlab
    >>> a = mlp([2, 3, 1], generator=gradlab.Generator(1)); b = mlp([2, 3, 1], generator=gradlab.Generator(1))
    >>> bool((a[0].weight._data == b[0].weight._data).all()), len(a)
    (True, 3)
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"sizes must be at least two positive layer widths, got {list(sizes)}")
    layers: list[Any] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = nn.Linear(int(n_in), int(n_out))
        bound = 1.0 / math.sqrt(n_in)
        nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        layers.append(layer)
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    if out_gain != 1.0:
        with gradlab.no_grad():
            layers[-1].weight._data[...] *= out_gain
    return nn.Sequential(*layers)


def predict(net: Any, x: np.ndarray) -> np.ndarray:
    """``net(x)`` as a numpy array, without building a graph (acting, targets, evaluation).

    >>> import gradlab
    >>> predict(nn.Linear(2, 1), np.ones((5, 2), dtype=np.float32)).shape
    (5, 1)
    """
    with gradlab.no_grad():
        return net(gradlab.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def softmax_np(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a numpy array (stable: the row maximum is subtracted first).

    >>> softmax_np(np.array([[0.0, 0.0], [0.0, 1000.0]])).tolist()
    [[0.5, 0.5], [0.0, 1.0]]
    """
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def sample_categorical(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row of ``logits`` drawn from ``softmax(logits)`` (inverse CDF on one uniform per row).

    >>> rng = np.random.default_rng(0)
    >>> a = sample_categorical(np.log(np.array([[0.2, 0.8]] * 20000)), rng)
    >>> round(float(a.mean()), 2)
    0.8
    """
    cdf = np.cumsum(softmax_np(logits), axis=1)
    u = rng.random((len(cdf), 1)) * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), logits.shape[1] - 1).astype(np.int64)
