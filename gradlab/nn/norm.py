"""Normalisation layers: ``BatchNorm1d`` (on a reusable ``_BatchNorm`` base) and ``LayerNorm``, over fused ops."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn import functional as F
from gradlab.nn import init
from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter
from gradlab.tensor import Tensor

__all__ = ["BatchNorm1d", "LayerNorm"]


class _BatchNorm(Module):
    """Batch normalisation over every dim but dim 1 (channels); subclasses only check the input's rank.

    Training mode normalises with the batch's mean and (biased) variance and updates ``running_mean`` /
    ``running_var`` (unbiased) with ``momentum`` (None: cumulative average over ``num_batches_tracked``);
    eval mode uses the running statistics (or the batch's when ``track_running_stats=False``).
    """

    _expected_dims: tuple = ()

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
        track_running_stats: bool = True, device: Any = None, dtype: Any = None, *, bias: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype=dtype)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype=dtype)) if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input_dim(self, input: Any) -> None:
        if input.ndim not in self._expected_dims:
            dims = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"expected {dims} input (got {input.ndim}D input of shape {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels in dim 1, got input of "
                             f"shape {tuple(input.shape)}")

    def forward(self, input: Any) -> Any:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._vc[0] += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input, self.running_mean if track else None, self.running_var if track else None,
            self.weight, self.bias, use_batch, factor, self.eps,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over the batch (and length) for each of C channels.

    >>> import gradlab
    >>> from gradlab import nn
    >>> bn = nn.BatchNorm1d(3)
    >>> y = bn(gradlab.randn(16, 3) * 5 + 2)
    >>> bool(abs(y.mean(0).data).max() < 1e-5), bn.num_batches_tracked.item()
    (True, 1)
    """

    _expected_dims = (2, 3)


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims of each sample, then scale and shift elementwise.

    >>> import gradlab
    >>> from gradlab import nn
    >>> ln = nn.LayerNorm(4)
    >>> ln
    LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
    >>> bool(abs(ln(gradlab.tensor([[1.0, 2.0, 3.0, 4.0]])).mean(1).data).max() < 1e-6)
    True
    """

    def __init__(
        self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        shape = self.normalized_shape
        self.register_parameter("weight", Parameter(np.ones(shape, dtype=dtype)) if elementwise_affine else None)
        with_bias = elementwise_affine and bias
        self.register_parameter("bias", Parameter(np.zeros(shape, dtype=dtype)) if with_bias else None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Any) -> Any:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs over the batch and both spatial dims for each of C channels.

    >>> import gradlab
    >>> from gradlab import nn
    >>> bn = nn.BatchNorm2d(3)
    >>> y = bn(gradlab.randn(4, 3, 5, 5) * 5 + 2)
    >>> bool(abs(y.mean((0, 2, 3)).data).max() < 1e-5)
    True
    """

    _expected_dims = (4,)


__all__ += ["BatchNorm2d"]
