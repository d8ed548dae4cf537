"""``MLP``: a multi-layer perceptron as an ``nn.Sequential`` (Flatten, then Linear [-> BatchNorm1d] -> activation
[-> Dropout] per hidden layer, then the output Linear, producing logits).

>>> import gradlab
>>> m = MLP(784, hidden=(32, 16), out_features=10, dropout=0.1)
>>> m(gradlab.zeros(4, 1, 28, 28)).shape
gradlab.Size([4, 10])
>>> [type(layer).__name__ for layer in m]
['Flatten', 'Linear', 'ReLU', 'Dropout', 'Linear', 'ReLU', 'Dropout', 'Linear']
>>> m.config()["hidden"]
[32, 16]
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gradlab import nn
from gradlab.models.registry import register_model

__all__ = ["MLP", "ACTIVATIONS", "make_activation"]

# name -> (nn class name, constructor kwargs)
ACTIVATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "relu": ("ReLU", {}),
    "leaky_relu": ("LeakyReLU", {}),
    "elu": ("ELU", {}),
    "gelu": ("GELU", {}),
    "silu": ("SiLU", {}),
    "swish": ("SiLU", {}),
    "softplus": ("Softplus", {}),
    "tanh": ("Tanh", {}),
    "sigmoid": ("Sigmoid", {}),
    "logistic": ("Sigmoid", {}),
    "identity": ("Identity", {}),
}


def make_activation(name: str) -> Any:
    """An activation module from its name (see :data:`ACTIVATIONS`; ``-`` and ``_`` are interchangeable).

    >>> make_activation("leaky-relu")
    LeakyReLU(negative_slope=0.01)
    """
    key = name.strip().lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(sorted(ACTIVATIONS))}")
    cls_name, kw = ACTIVATIONS[key]
    cls = getattr(nn, cls_name, None)
    if cls is None:
        raise ValueError(f"activation {name!r} needs gradlab.nn.{cls_name}, which this gradlab does not have")
    return cls(**kw)


class MLP(nn.Sequential):
    """A fully connected classifier/regressor: ``in_features -> hidden... -> out_features`` (logits).

    Args:
        in_features: input size after flattening (784 for 28x28 images).
        hidden: the hidden layer widths.
        out_features: output size (number of classes).
        activation: an activation name from :data:`ACTIVATIONS`.
        dropout: dropout probability after every hidden activation (0 disables).
        batch_norm: a ``BatchNorm1d`` after every hidden ``Linear`` (before the activation).

    >>> import gradlab
    >>> from gradlab.models import MLP
    >>> m = MLP(in_features=4, hidden=(8, 8), out_features=3, dropout=0.1)
    >>> m(gradlab.randn(5, 4)).shape, len(m)
    (gradlab.Size([5, 3]), 8)
    """

    def __init__(
        self, in_features: int = 784, hidden: Sequence[int] = (512, 512), out_features: int = 10,
        activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False,
    ) -> None:
        hidden = [int(h) for h in ([hidden] if isinstance(hidden, int) else hidden)]
        if in_features <= 0 or out_features <= 0 or any(h <= 0 for h in hidden):
            raise ValueError(f"layer sizes must be positive, got {in_features}, {hidden}, {out_features}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        layers: list[Any] = [nn.Flatten()]
        width = int(in_features)
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, int(out_features)))
        super().__init__(*layers)
        self._config: dict[str, Any] = {
            "in_features": int(in_features), "hidden": hidden, "out_features": int(out_features),
            "activation": activation, "dropout": float(dropout), "batch_norm": bool(batch_norm),
        }

    def config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able): ``MLP(**m.config())`` rebuilds the architecture."""
        return dict(self._config, hidden=list(self._config["hidden"]))


register_model("mlp", MLP)
