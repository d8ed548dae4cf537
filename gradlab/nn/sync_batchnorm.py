"""``SyncBatchNorm``: batch normalisation whose statistics cover the whole global batch, over all ranks.

In training mode each forward sums the channels' values (then their squared deviations) over the ranks with two
small Allreduces of C + 1 and C numbers, and each backward sums the two per-channel gradient sums the input
gradient needs: the model then computes what one process would on the concatenated batch. The weight and bias
gradients stay local, for :class:`~gradlab.nn.parallel.DistributedDataParallel` to average. Eval mode, and a
process without a process group, use the running statistics / plain batch norm, as ``BatchNorm`` does.

>>> import gradlab
>>> from gradlab import distributed as dist, nn
>>> dist.init_process_group("self")
>>> bn = SyncBatchNorm(3)
>>> y = bn(gradlab.randn(8, 3, 4) * 2 + 1)
>>> bool(abs(y.mean((0, 2))._data).max() < 1e-5)
True
>>> dist.destroy_process_group()
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.distributed import process_group as pg
from gradlab.nn.module import Module
from gradlab.nn.norm import _BatchNorm

__all__ = ["SyncBatchNorm"]


def _sum_over_ranks(arr: np.ndarray) -> np.ndarray:
    pg._reduce_array(arr, pg.ReduceOp.SUM, async_op=False)
    return arr


class _SyncBatchNormFunction(Function):
    """Batch norm with the statistics (and the input gradient's two channel sums) summed over the ranks."""

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any,
                momentum: float, eps: float) -> Any:
        c = x.shape[1]
        axes = (0, *range(2, x.ndim))
        bshape = (1, c) + (1,) * (x.ndim - 2)
        stats = np.empty(c + 1, dtype=np.float64)
        stats[:c] = x.sum(axis=axes)
        stats[c] = x.size // c
        _sum_over_ranks(stats)
        n = float(stats[c])
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel over all ranks when training, got {int(n)}")
        mean = (stats[:c] / n).astype(x.dtype).reshape(bshape)
        xc = x - mean
        sq = (xc * xc).sum(axis=axes).astype(np.float64)
        var = _sum_over_ranks(sq) / n
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype).reshape(bshape)
        xc *= invstd
        if running_mean is not None:
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None:
            running_var *= 1.0 - momentum
            running_var += (momentum * n / (n - 1)) * var.astype(running_var.dtype)
        out = xc * weight.reshape(bshape) if weight is not None else xc.copy()
        if bias is not None:
            out += bias.reshape(bshape)
        ctx.axes, ctx.n = axes, n
        ctx.save_for_backward(xc, invstd, weight)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xhat, invstd, weight = ctx.saved_tensors
        axes, n = ctx.axes, ctx.n
        gx = None
        if ctx.needs_input_grad[0]:
            c = xhat.shape[1]
            gxhat = grad * weight.reshape(invstd.shape) if weight is not None else grad
            sums = np.concatenate([gxhat.sum(axis=axes), (gxhat * xhat).sum(axis=axes)]).astype(np.float64)
            _sum_over_ranks(sums)
            mg = (sums[:c] / n).astype(xhat.dtype).reshape(invstd.shape)
            mgx = (sums[c:] / n).astype(xhat.dtype).reshape(invstd.shape)
            gx = invstd * (gxhat - mg - xhat * mgx)
        gw = (grad * xhat).sum(axis=axes) if ctx.needs_input_grad[1] else None
        gb = grad.sum(axis=axes) if ctx.needs_input_grad[2] else None
        return gx, gw, gb, None, None, None, None


class SyncBatchNorm(_BatchNorm):
    """``BatchNorm`` over (N, C, ...) inputs with statistics over the global batch of all ranks (torch's names).

    Every rank must call it the same number of times, in the same order (it holds collectives).
    ``SyncBatchNorm.convert_sync_batchnorm(model)`` swaps every ``BatchNorm1d``/``BatchNorm2d`` of a model for one.

    >>> from gradlab import nn
    >>> m = SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4)))
    >>> type(m[1]).__name__
    'SyncBatchNorm'
    """

    _expected_dims = (2, 3, 4, 5)

    def forward(self, input: Any) -> Any:
        if not (self.training and pg.is_initialized()):
            return super().forward(input)
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._vc[0] += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        track = self.track_running_stats
        return _SyncBatchNormFunction.apply(input, self.weight, self.bias, self.running_mean if track else None,
                                            self.running_var if track else None, factor, self.eps)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module) -> Module:
        """``module`` with each ``BatchNorm`` replaced by a ``SyncBatchNorm`` holding the same parameters and
        buffers (the module itself when it is a BatchNorm)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            new = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      dtype=(module.weight._data.dtype if module.weight is not None else None),
                      bias=module.bias is not None)
            for name in ("weight", "bias"):
                if getattr(module, name) is not None:
                    setattr(new, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                buf = getattr(module, name)
                if buf is not None:
                    new.register_buffer(name, buf)
            new.train(module.training)
            return new
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child)
        return module


