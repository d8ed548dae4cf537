"""Neural-network building blocks (PyTorch names): ``Module``, ``Parameter``, containers, layers, losses.

``gradlab.nn.functional`` (as ``F``), ``gradlab.nn.init`` and ``gradlab.nn.utils`` are importable submodules.

>>> import gradlab
>>> from gradlab import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> loss = nn.CrossEntropyLoss()(model(gradlab.randn(5, 4)), gradlab.tensor([0, 2, 1, 1, 0]))
>>> loss.backward()
>>> model[0].weight.grad.shape
(8, 4)
"""
from gradlab.nn import functional, init, utils
from gradlab.nn.activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Swish, Tanh
from gradlab.nn.container import ModuleDict, ModuleList, Sequential
from gradlab.nn.dropout import Dropout
from gradlab.nn.embedding import Embedding
from gradlab.nn.linear import Flatten, Identity, Linear
from gradlab.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from gradlab.nn.module import Module
from gradlab.nn.norm import BatchNorm1d, LayerNorm
from gradlab.nn.parameter import Parameter
from gradlab.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase

__all__ = [
    "functional", "init", "utils",
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Dropout", "BatchNorm1d", "LayerNorm",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus", "SiLU", "Swish", "Softmax", "LogSoftmax",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "KLDivLoss",
    "Embedding", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
]  # fmt: skip

# convolutional networks (issue 5)
from gradlab.nn.conv import Conv1d, Conv2d, ConvTranspose2d  # noqa: E402
from gradlab.nn.dropout import Dropout2d  # noqa: E402
from gradlab.nn.norm import BatchNorm2d  # noqa: E402
from gradlab.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d  # noqa: E402
from gradlab.nn.upsampling import Upsample, UpsamplingNearest2d  # noqa: E402

__all__ += [
    "Conv1d", "Conv2d", "ConvTranspose2d", "BatchNorm2d", "Dropout2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "Upsample", "UpsamplingNearest2d",
]

# the network zoo (issue 17)
from gradlab.nn.rbf import RBF  # noqa: E402

__all__ += ["RBF"]
