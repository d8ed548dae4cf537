"""A 2-16-16-1 MLP learns scikit-learn's two moons with plain full-batch gradient descent (the first gradlab demo).

Everything is written with the Tensor API and autograd: weights are leaf tensors, the loss is built from
Tensor ops, ``loss.backward()`` fills ``.grad``, and the update runs under ``gradlab.no_grad()``.
"""

from __future__ import annotations

import math
import time

import numpy as np
from sklearn.datasets import make_moons

import gradlab
import gradlab.nn.functional as F

__all__ = ["main"]

STEPS, LR = 2000, 0.3


def he_weight(fan_in: int, fan_out: int) -> gradlab.Tensor:
    """Kaiming/He initialisation for a ReLU layer: N(0, 2 / fan_in)."""
    return (gradlab.randn(fan_in, fan_out) * math.sqrt(2.0 / fan_in)).requires_grad_()


def logistic_loss(logits: gradlab.Tensor, y: gradlab.Tensor) -> gradlab.Tensor:
    """Binary cross-entropy from logits, stable for any logit: max(z, 0) - z*y + log(1 + exp(-|z|))."""
    return (logits.clamp(min=0) - logits * y + (1 + (-logits.abs()).exp()).log()).mean()


def main() -> None:
    gradlab.manual_seed(0)
    x_np, y_np = make_moons(n_samples=1000, noise=0.2, random_state=0)
    x = gradlab.tensor(x_np.astype(np.float32))
    y = gradlab.tensor(y_np.astype(np.float32).reshape(-1, 1))

    w1, b1 = he_weight(2, 16), gradlab.zeros(16, requires_grad=True)
    w2, b2 = he_weight(16, 16), gradlab.zeros(16, requires_grad=True)
    w3, b3 = he_weight(16, 1), gradlab.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2, w3, b3]

    def forward(inputs: gradlab.Tensor) -> gradlab.Tensor:
        h = F.relu(inputs @ w1 + b1)
        h = F.tanh(h @ w2 + b2)
        return h @ w3 + b3

    start = time.perf_counter()
    for step in range(STEPS + 1):
        loss = logistic_loss(forward(x), y)
        for p in params:
            p.grad = None
        loss.backward()
        with gradlab.no_grad():
            for p in params:
                p.sub_(LR * p.grad)
        if step % 100 == 0:
            print(f"step {step:5d}  loss {loss.item():.4f}")

    with gradlab.no_grad():
        accuracy = ((forward(x) > 0).float() == y).float().mean().item()
    print(f"train accuracy {accuracy:.1%} after {STEPS} steps in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
