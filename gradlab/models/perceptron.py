"""``Perceptron``: one linear threshold neuron, trained two ways.

* :meth:`Perceptron.fit_rosenblatt`: Rosenblatt's mistake-driven rule (1958). For each sample in turn, when the
  sign of ``w.x + b`` disagrees with the label ``t`` in {-1, +1}, ``w += lr * t * x`` and ``b += lr * t``. No
  autograd: this is the rule itself. On linearly separable data it stops making mistakes after finitely many
  updates (Novikoff's theorem); on XOR it never does.
* :meth:`Perceptron.fit_logistic`: the same neuron as logistic regression, by gradient descent on the logistic loss
  (``BCEWithLogitsLoss``) with gradlab's autograd and ``optim.SGD``.

The module's ``forward`` returns the logit ``w.x + b`` of shape (N,); :meth:`predict` returns labels in {0, 1}.
With ``num_classes`` K >= 2 it is the multi-class perceptron (one weight vector per class, logits (N, K)): on a
mistake the true class's vector gains ``lr * x`` and the predicted one's loses it; ``fit_logistic`` then minimises
the softmax cross-entropy. That is what ``build_model('perceptron', num_classes=10)`` gives for MNIST.

>>> import numpy as np
>>> X = np.array([[2.0, 1.0], [1.0, 3.0], [-1.0, -2.0], [-2.0, -0.5]]); y = np.array([1, 1, 0, 0])
>>> p = Perceptron(in_features=2)
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


def _classes(y: Any, n: int, k: int) -> np.ndarray:
    t = np.asarray(getattr(y, "data", y)).reshape(-1)
    if t.shape[0] != n:
        raise ValueError(f"Perceptron: {n} samples but {t.shape[0]} labels")
    if not np.issubdtype(t.dtype, np.integer) or t.min(initial=0) < 0 or t.max(initial=0) >= k:
        raise ValueError(f"Perceptron: labels must be integers in [0, {k}), got {t.dtype} in "
                         f"[{t.min(initial=0)}, {t.max(initial=0)}]")
    return t.astype(np.int64)


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
    """A single neuron ``w.x + b`` (a ``Linear(in_features, 1)``) for binary classification, or one neuron per
    class.

    Args:
        in_features: input size (inputs are flattened; default 784 for 28x28 images).
        num_classes: 1 (default): one neuron, binary labels; K >= 2: the multi-class perceptron.

    >>> import numpy as np
    >>> X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32), np.array([0, 0, 0, 1])
    >>> p = Perceptron(2)
    >>> _ = p.fit_rosenblatt(X, y, epochs=20)  # logical AND is linearly separable
    >>> p.predict(X).tolist()
    [0, 0, 0, 1]
    """

    def __init__(self, in_features: int = 784, num_classes: int = 1) -> None:
        super().__init__()
        if in_features <= 0 or num_classes <= 0:
            raise ValueError(f"in_features and num_classes must be positive, got {in_features}, {num_classes}")
        self.in_features = int(in_features)
        self.num_classes = int(num_classes)
        self.linear = nn.Linear(self.in_features, self.num_classes)

    def forward(self, x: Any) -> Any:
        out = self.linear(x.reshape(len(x), -1))
        return out.reshape(-1) if self.num_classes == 1 else out

    def config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able)."""
        return {"in_features": self.in_features, "num_classes": self.num_classes}

    def _inputs(self, X: Any) -> np.ndarray:
        x = np.asarray(getattr(X, "data", X), dtype=np.float64)
        x = x.reshape(len(x), -1) if x.ndim > 1 else x.reshape(-1, 1)
        if x.shape[1] != self.in_features:
            raise ValueError(f"Perceptron: expected {self.in_features} input features, got {x.shape[1]}")
        return x

    def decision_function(self, X: Any) -> np.ndarray:
        """``w.x + b`` for every row of ``X`` (numpy, no graph): (N,), or (N, K) for K classes."""
        x = self._inputs(X)
        out = x @ self.linear.weight._data.astype(np.float64).T + self.linear.bias._data.astype(np.float64)
        return out[:, 0] if self.num_classes == 1 else out

    def predict(self, X: Any) -> np.ndarray:
        """Labels: in {0, 1} (1 where ``w.x + b > 0``), or the arg-max class."""
        scores = self.decision_function(X)
        return (scores > 0).astype(np.int64) if self.num_classes == 1 else scores.argmax(1)

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
        k = self.num_classes
        if k == 1:
            t = _labels01(y, len(x)) * 2.0 - 1.0
        else:
            cls = _classes(y, len(x), k)
        w = np.zeros((k, self.in_features)) if zero_init else self.linear.weight._data.astype(np.float64).copy()
        b = np.zeros(k) if zero_init else self.linear.bias._data.astype(np.float64).copy()
        rng = np.random.default_rng(seed)
        history: list[int] = []
        for _ in range(epochs):
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            mistakes = 0
            for i in order:
                xi = x[i]
                if k == 1:
                    if t[i] * (w[0] @ xi + b[0]) <= 0.0:
                        w[0] += lr * t[i] * xi
                        b[0] += lr * t[i]
                        mistakes += 1
                else:
                    pred = int(np.argmax(w @ xi + b))
                    if pred != cls[i]:
                        w[cls[i]] += lr * xi
                        b[cls[i]] += lr
                        w[pred] -= lr * xi
                        b[pred] -= lr
                        mistakes += 1
            history.append(mistakes)
            if mistakes == 0:
                break
        self.linear.weight._data[...] = w.astype(self.linear.weight.dtype)
        self.linear.bias._data[...] = b.astype(self.linear.bias.dtype)
        return history

    def fit_logistic(self, X: Any, y: Any, epochs: int = 200, lr: float = 0.5, batch_size: int | None = None,
                     seed: int = 0) -> list[float]:
        """Gradient descent (``optim.SGD``) on the mean logistic (or softmax cross-entropy) loss, through
        gradlab's autograd; full batch unless ``batch_size``. Returns the loss per epoch."""
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        x = self._inputs(X).astype(self.linear.weight.dtype)
        if self.num_classes == 1:
            t = _labels01(y, len(x)).astype(self.linear.weight.dtype)
            loss_fn: Any = nn.BCEWithLogitsLoss()
        else:
            t = _classes(y, len(x), self.num_classes)
            loss_fn = nn.CrossEntropyLoss()
        opt = gradlab.optim.SGD(self.parameters(), lr=lr)
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
