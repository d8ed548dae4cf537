"""``Perceptron``: one linear threshold neuron, trained two ways.

* :meth:`Perceptron.fit_rosenblatt`: Rosenblatt's mistake-driven rule (1958). For each sample in turn, when the
  sign of ``w.x + b`` disagrees with the label ``t`` in {-1, +1}, ``w += lr * t * x`` and ``b += lr * t``. No
  autograd: this is the rule itself. On linearly separable data it stops making mistakes after finitely many
  updates (Novikoff's theorem); on XOR it never does.
* :meth:`Perceptron.fit_logistic`: the same neuron as logistic regression, by gradient descent on the logistic loss
  (``BCEWithLogitsLoss``) with gradlab's autograd and ``optim.SGD``.

The module's ``forward`` returns the logit ``w.x + b`` of shape (N,); :meth:`predict` returns labels in {0, 1}.

>>> import numpy as np
>>> X = np.array([[2.0, 1.0], [1.0, 3.0], [-1.0, -2.0], [-2.0, -0.5]]); y = np.array([1, 1, 0, 0])
>>> p = Perceptron(2)
>>> mistakes = p.fit_rosenblatt(X, y, epochs=10)
>>> mistakes[-1], p.predict(X).tolist()
(0, [1, 1, 0, 0])
"""
from __future__ import annotations

from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.models.registry import register_model

__all__ = ["Perceptron"]


def _labels01(y: Any, n: int) -> np.ndarray:
    """Labels as {0, 1} floats; accepts {0, 1}, {-1, +1} or booleans."""
    t = np.asarray(getattr(y, "data", y)).reshape(-1)
    if t.shape[0] != n:
        raise ValueError(f"Perceptron: {n} samples but {t.shape[0]} labels")
    values = set(np.unique(t).tolist())
    if values <= {0, 1}:
        return t.astype(np.float64)
    if values <= {-1, 1}:
        return (t > 0).astype(np.float64)
    raise ValueError(f"Perceptron: labels must be in {{0, 1}} or {{-1, +1}}, got values {sorted(values)[:5]}")


class Perceptron(nn.Module):
    """A single neuron ``w.x + b`` (a ``Linear(in_features, 1)``) for binary classification.

    Args:
        in_features: input size (inputs are flattened, so 28x28 images work with ``in_features=784``).
    """

    def __init__(self, in_features: int = 2) -> None:
        super().__init__()
        if in_features <= 0:
            raise ValueError(f"in_features must be positive, got {in_features}")
        self.in_features = int(in_features)
        self.linear = nn.Linear(self.in_features, 1)

    def forward(self, x: Any) -> Any:
        return self.linear(x.reshape(len(x), -1)).reshape(-1)

    def config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able)."""
        return {"in_features": self.in_features}

    def _inputs(self, X: Any) -> np.ndarray:
        x = np.asarray(getattr(X, "data", X), dtype=np.float64)
        x = x.reshape(len(x), -1) if x.ndim > 1 else x.reshape(-1, 1)
        if x.shape[1] != self.in_features:
            raise ValueError(f"Perceptron: expected {self.in_features} input features, got {x.shape[1]}")
        return x

    def decision_function(self, X: Any) -> np.ndarray:
        """``w.x + b`` for every row of ``X`` (numpy, no graph)."""
        x = self._inputs(X)
        w = self.linear.weight.data.astype(np.float64).reshape(-1)
        return x @ w + float(self.linear.bias.data[0])

    def predict(self, X: Any) -> np.ndarray:
        """Labels in {0, 1} (1 where ``w.x + b > 0``)."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def fit_rosenblatt(self, X: Any, y: Any, epochs: int = 100, lr: float = 1.0, shuffle: bool = True,
                       seed: int = 0, zero_init: bool = True) -> list[int]:
        """Rosenblatt's rule: visit the samples one by one (a fresh order per epoch when ``shuffle``), update on
        each mistake (``t (w.x + b) <= 0``). Stops after an epoch without mistakes. Returns the mistakes per epoch.

        The rule is sequential by nature (each update changes the next decision), so it loops over samples; the
        weights live in a float64 copy and are written back to the module at the end.
        """
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        x = self._inputs(X)
        t = _labels01(y, len(x)) * 2.0 - 1.0
        w = np.zeros(self.in_features) if zero_init else self.linear.weight.data.astype(np.float64).reshape(-1)
        b = 0.0 if zero_init else float(self.linear.bias.data[0])
        rng = np.random.default_rng(seed)
        history: list[int] = []
        for _ in range(epochs):
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            mistakes = 0
            for i in order:
                if t[i] * (x[i] @ w + b) <= 0.0:
                    w += lr * t[i] * x[i]
                    b += lr * t[i]
                    mistakes += 1
            history.append(mistakes)
            if mistakes == 0:
                break
        self.linear.weight.data[...] = w.reshape(1, -1).astype(self.linear.weight.dtype)
        self.linear.bias.data[...] = np.asarray([b], dtype=self.linear.bias.dtype)
        return history

    def fit_logistic(self, X: Any, y: Any, epochs: int = 200, lr: float = 0.5, batch_size: int | None = None,
                     seed: int = 0) -> list[float]:
        """Gradient descent (``optim.SGD``) on the mean logistic loss, through gradlab's autograd; full batch
        unless ``batch_size``. Returns the loss per epoch."""
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        x = self._inputs(X).astype(self.linear.weight.dtype)
        t = _labels01(y, len(x)).astype(self.linear.weight.dtype)
        opt = gradlab.optim.SGD(self.parameters(), lr=lr)
        loss_fn = nn.BCEWithLogitsLoss()
        rng = np.random.default_rng(seed)
        bs = len(x) if batch_size is None else int(batch_size)
        losses: list[float] = []
        self.train()
        for _ in range(epochs):
            order = rng.permutation(len(x))
            total = 0.0
            for start in range(0, len(x), bs):
                idx = order[start:start + bs]
                loss = loss_fn(self(gradlab.tensor(x[idx])), gradlab.tensor(t[idx]))
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.item()) * len(idx)
            losses.append(total / len(x))
        return losses


register_model("perceptron", Perceptron)
