"""Convolutional classifiers for 28x28 images: ``LeNet5`` (LeCun et al. 1998, modernised) and ``SimpleCNN``
(a small VGG-style network for Fashion-MNIST).

Both have ``features`` (the convolutional part) and ``classifier`` (the fully connected part) as
``nn.Sequential`` children, so ``model.features[0]`` is the first convolution (what ``gradlab.viz`` plots).

>>> import gradlab
>>> m = LeNet5()
>>> m(gradlab.zeros(2, 1, 28, 28)).shape
gradlab.Size([2, 10])
>>> SimpleCNN(num_classes=5)(gradlab.zeros(2, 1, 28, 28)).shape
gradlab.Size([2, 5])
"""
from __future__ import annotations

from typing import Any

from gradlab import nn
from gradlab.models.mlp import make_activation
from gradlab.models.registry import register_model

__all__ = ["LeNet5", "SimpleCNN"]


def _pooled(size: int, times: int) -> int:
    for _ in range(times):
        size //= 2
    return size


class LeNet5(nn.Module):
    """LeNet-5: conv 6@5x5 (padding 2) -> act -> pool 2 -> conv 16@5x5 -> act -> pool 2 -> FC 120 -> act ->
    FC 84 -> act -> FC ``num_classes`` (logits).

    Args:
        num_classes: output size.
        in_channels: input channels (1 for MNIST).
        activation: ``'relu'`` (default) or any name of :data:`gradlab.models.ACTIVATIONS` (``'tanh'`` is the
            1998 choice).
        pool: ``'max'`` (default) or ``'avg'`` (the original subsampling).
        input_size: height = width of the input images (28; 32 for the original padded digits).

    >>> import gradlab
    >>> from gradlab.models import LeNet5
    >>> m = LeNet5()
    >>> m(gradlab.randn(2, 1, 28, 28)).shape, LeNet5(**m.config()).config() == m.config()
    (gradlab.Size([2, 10]), True)
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "relu", pool: str = "max",
                 input_size: int = 28) -> None:
        super().__init__()
        if pool not in ("max", "avg"):
            raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
        pool_cls = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
        side = _pooled(_pooled(input_size, 1) - 4, 1)  # conv1 keeps the size (padding 2), conv2 takes 4
        if side < 1:
            raise ValueError(f"input_size {input_size} is too small for LeNet5 (needs at least 10)")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), make_activation(activation), pool_cls(2),
            nn.Conv2d(6, 16, 5), make_activation(activation), pool_cls(2),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * side * side, 120), make_activation(activation),
            nn.Linear(120, 84), make_activation(activation),
            nn.Linear(84, num_classes),
        )  # fmt: skip
        self._config: dict[str, Any] = {
            "num_classes": int(num_classes), "in_channels": int(in_channels), "activation": activation, "pool": pool,
            "input_size": int(input_size),
        }

    def forward(self, x: Any) -> Any:
        return self.classifier(self.features(x))

    def config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able): ``LeNet5(**m.config())`` rebuilds the architecture."""
        return dict(self._config)


class SimpleCNN(nn.Module):
    """A small VGG-style network: two blocks of [conv3x3-BN-ReLU x2, max-pool 2], then dropout -> FC ``hidden``
    -> ReLU -> dropout -> FC ``num_classes`` (logits).

    Args:
        num_classes: output size.
        in_channels: input channels (1 for Fashion-MNIST).
        channels: the two blocks' widths (default (32, 64)).
        hidden: width of the hidden fully connected layer (256).
        dropout: dropout probability before each fully connected layer (default 0.3).
        input_size: height = width of the input images (28).

    >>> import gradlab
    >>> from gradlab.models import SimpleCNN
    >>> SimpleCNN(channels=(4, 8), hidden=16)(gradlab.randn(2, 1, 28, 28)).shape
    gradlab.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, channels: Any = (32, 64), hidden: int = 256,
                 dropout: float = 0.3, input_size: int = 28) -> None:
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")

        def block(cin: int, cout: int) -> list:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.features = nn.Sequential(
            *block(in_channels, c1), *block(c1, c1), nn.MaxPool2d(2),
            *block(c1, c2), *block(c2, c2), nn.MaxPool2d(2),
        )  # fmt: skip
        side = _pooled(input_size, 2)
        if side < 1:
            raise ValueError(f"input_size {input_size} is too small for SimpleCNN (needs at least 4)")
        self.classifier = nn.Sequential(  # Dropout(0) stays in: the state_dict keys do not depend on dropout
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * side * side, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )  # fmt: skip
        self._config: dict[str, Any] = {
            "num_classes": int(num_classes), "in_channels": int(in_channels), "channels": [c1, c2],
            "hidden": int(hidden), "dropout": float(dropout), "input_size": int(input_size),
        }

    def forward(self, x: Any) -> Any:
        return self.classifier(self.features(x))

    def config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-able): ``SimpleCNN(**m.config())`` rebuilds the architecture."""
        return dict(self._config, channels=list(self._config["channels"]))


register_model("lenet5", LeNet5)
register_model("cnn", SimpleCNN)
