"""Neural-network building blocks (PyTorch names): ``Module``, ``Parameter``, containers, layers, losses.

``gradlab.nn.functional`` (as ``F``), ``gradlab.nn.init`` and ``gradlab.nn.utils`` are importable submodules.

>>> import gradlab
>>> from gradlab import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> loss = nn.CrossEntropyLoss()(model(gradlab.randn(5, 4)), gradlab.tensor([0, 2, 1, 1, 0]))
>>> loss.backward()
>>> model[0].weight.grad.shape
gradlab.Size([8, 4])
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

# issue 16: more layers (activations, norms, 1-D and adaptive pooling, shape layers, containers)
from gradlab.nn.activation_more import (  # noqa: E402
    CELU,
    GLU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    Softmin,
    Softsign,
)
from gradlab.nn.bilinear import Bilinear, CosineSimilarity  # noqa: E402
from gradlab.nn.conv_transpose1d import ConvTranspose1d  # noqa: E402
from gradlab.nn.normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d  # noqa: E402
from gradlab.nn.padding import (  # noqa: E402
    ConstantPad1d,
    ConstantPad2d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    ZeroPad1d,
)
from gradlab.nn.parameter_containers import ParameterDict, ParameterList  # noqa: E402
from gradlab.nn.pooling_more import (  # noqa: E402
    AdaptiveAvgPool1d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    MaxPool1d,
)
from gradlab.nn.shape_layers import Fold, PixelShuffle, PixelUnshuffle, Unflatten, Unfold, ZeroPad2d  # noqa: E402

__all__ += [
    "PReLU", "SELU", "ReLU6", "Hardtanh", "Mish", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "MaxPool1d",
    "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "ConvTranspose1d", "Unflatten",
    "ParameterList", "ParameterDict", "PixelShuffle", "PixelUnshuffle", "ZeroPad2d", "Bilinear", "CosineSimilarity",
    "Hardsigmoid", "Hardswish", "LogSigmoid", "Softsign", "Softmin", "CELU", "GLU", "ZeroPad1d", "ConstantPad1d",
    "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "Unfold", "Fold",
]

# issue 16: attention and transformers
from gradlab.nn.attention import MultiheadAttention  # noqa: E402
from gradlab.nn.transformer import (  # noqa: E402
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += [
    "MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerEncoderLayer", "TransformerDecoder",
    "TransformerDecoderLayer",
]

# data-parallel training (issue 21): batch norm over the global batch of all ranks
from gradlab.nn.sync_batchnorm import SyncBatchNorm  # noqa: E402

__all__ += ["SyncBatchNorm"]

# the network zoo (issue 17)
from gradlab.nn.rbf import RBF  # noqa: E402

__all__ += ["RBF"]
