"""Two-input layers: ``Bilinear`` (``x1^T W x2 + b``) and ``CosineSimilarity``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn import functional as F
from gradlab.nn import init
from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter

__all__ = ["Bilinear", "CosineSimilarity"]


class Bilinear(Module):
    """``y = x1^T A x2 + b``: weight (out_features, in1_features, in2_features), bias (out_features,), both
    U(-1/sqrt(in1_features), 1/sqrt(in1_features)) as torch's.

    >>> import gradlab
    >>> from gradlab import nn
    >>> m = nn.Bilinear(3, 4, 5)
    >>> m
    Bilinear(in1_features=3, in2_features=4, out_features=5, bias=True)
    >>> m(gradlab.randn(2, 3), gradlab.randn(2, 4)).shape
    gradlab.Size([2, 5])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Any, input2: Any) -> Any:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")  # fmt: skip


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim`` (see :func:`gradlab.nn.functional.cosine_similarity`).

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.CosineSimilarity(dim=0)(gradlab.tensor([1.0, 0.0]), gradlab.tensor([2.0, 0.0])).item()
    1.0
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Any, x2: Any) -> Any:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
