"""``DistributedDataParallel``: one model replica per rank, gradients averaged over the ranks after ``backward``.

At construction rank 0's parameters and buffers are broadcast, so every rank starts from the same weights. The
parameters are packed, in reverse registration order (roughly the order backward produces their gradients), into
contiguous per-dtype buckets of about ``bucket_cap_mb``; a hook on each parameter copies its gradient into its
bucket, and a bucket's non-blocking ``Iallreduce`` starts as soon as its last gradient is in. When the last
parameter's gradient has arrived, the hook waits for every bucket and writes the averages into ``param.grad``, so
after ``loss.backward()`` each rank holds the same mean gradient, ready for ``optimizer.step()``.

Overlap: gradlab's autograd engine adds the leaf (parameter) gradients after the whole graph walk, so the leaf
hooks run at the end of backward and there is little left to overlap the buckets' transfers with; the per-bucket
``Iallreduce`` is in place for an engine that accumulates each leaf as soon as its last contribution arrives.

BatchNorm: batch statistics are computed on each rank's own batch (torch's default); with ``broadcast_buffers``
rank 0's running statistics are copied to all ranks before every training forward, as torch does. For statistics
over the global batch, convert the model with ``nn.SyncBatchNorm.convert_sync_batchnorm`` first.

>>> import gradlab
>>> from gradlab import distributed as dist, nn
>>> dist.init_process_group("self")
>>> model = DistributedDataParallel(nn.Linear(3, 2))
>>> model(gradlab.randn(4, 3)).sum().backward()
>>> model.module.weight.grad.shape
gradlab.Size([2, 3])
>>> dist.destroy_process_group()
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from gradlab.autograd.engine import topological_order
from gradlab.autograd.function import Context
from gradlab.distributed import process_group as pg
from gradlab.nn.module import Module
from gradlab.tensor import Tensor

__all__ = ["DistributedDataParallel"]


class _Bucket:
    __slots__ = ("buffer", "members", "pending", "work")

    def __init__(self, buffer: np.ndarray, members: list[int]) -> None:
        self.buffer, self.members, self.pending, self.work = buffer, members, len(members), None


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group (``torch.nn.parallel`` names).

    Args:
        module: the model; it is registered as ``self.module`` (state-dict keys start with ``module.``).
        bucket_cap_mb: the size of one gradient bucket (one ``Iallreduce``), in MiB.
        broadcast_buffers: copy rank 0's buffers (BatchNorm running statistics) to all ranks before each forward
            in training mode.
        find_unused_parameters: walk the output's graph after each forward and treat the parameters it does not
            reach as ready (their gradient is averaged as it stands, zero if none); without it, a parameter that
            gets no gradient makes the next forward raise instead of silently skipping the averaging.

    >>> import gradlab
    >>> from gradlab import distributed as dist, nn
    >>> dist.init_process_group("self")
    >>> ddp = DistributedDataParallel(nn.Linear(2, 1))
    >>> with ddp.no_sync():
    ...     ddp(gradlab.ones(1, 2)).sum().backward()
    >>> ddp.module.weight.grad.tolist()
    [[1.0, 1.0]]
    >>> dist.destroy_process_group()
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 4.0, broadcast_buffers: bool = True,
                 find_unused_parameters: bool = False) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a gradlab.nn.Module, got {type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb}")
        pg._group()  # raises the "init_process_group() first" error
        self.module = module
        d = self.__dict__
        d["broadcast_buffers"] = bool(broadcast_buffers)
        d["find_unused_parameters"] = bool(find_unused_parameters)
        d["_sync"] = True
        params: list[Tensor] = []
        seen: set[int] = set()
        for p in module.parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                params.append(p)
        d["_params"] = params
        self._broadcast_state(list(module.parameters()) + [b for b in module.buffers() if b is not None])
        buckets, where = self._make_buckets(params, int(bucket_cap_mb * 2**20))
        d["_buckets"], d["_where"] = buckets, where
        d["_pending"] = len(params)
        d["_handles"] = [p.register_hook(self._make_hook(i)) for i, p in enumerate(params)]

    # ---- construction -------------------------------------------------------------------------------------
    @staticmethod
    def _broadcast_state(tensors: list[Tensor]) -> None:
        """Rank 0's values into every tensor, one broadcast per dtype over a packed buffer."""
        if pg.get_world_size() == 1:
            return
        by_dtype: dict[Any, list[Tensor]] = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dtype, group in by_dtype.items():
            flat = np.concatenate([t._data.ravel() for t in group]).astype(dtype, copy=False)
            pg.broadcast(Tensor._make(flat, False), src=0)
            off = 0
            for t in group:
                n = t._data.size
                t._data[...] = flat[off:off + n].reshape(t._data.shape)
                off += n

    @staticmethod
    def _make_buckets(params: list[Tensor], cap: int) -> tuple[list[_Bucket], list[tuple[int, int, int]]]:
        order = list(range(len(params)))[::-1]
        buckets: list[_Bucket] = []
        where: list[tuple[int, int, int]] = [(0, 0, 0)] * len(params)
        open_: dict[Any, list[int]] = {}

        def close(dtype: Any) -> None:
            members = open_.pop(dtype)
            size = sum(params[i]._data.size for i in members)
            buf = np.zeros(size, dtype=dtype)
            off = 0
            for i in members:
                where[i] = (len(buckets), off, params[i]._data.size)
                off += params[i]._data.size
            buckets.append(_Bucket(buf, members))

        for i in order:
            dt = params[i]._data.dtype
            members = open_.setdefault(dt, [])
            members.append(i)
            if sum(params[j]._data.nbytes for j in members) >= cap:
                close(dt)
        for dt in list(open_):
            close(dt)
        return buckets, where

    # ---- the gradient hooks -------------------------------------------------------------------------------
    def _make_hook(self, i: int) -> Any:
        def hook(grad: Tensor) -> Any:
            if not self._sync:
                return None
            return self._on_grad(i, grad._data)

        return hook

    def _slot(self, i: int) -> np.ndarray:
        b, off, n = self._where[i]
        return self._buckets[b].buffer[off:off + n]

    def _ready(self, i: int, g: np.ndarray | None) -> None:
        """Parameter ``i``'s gradient for this step (its ``.grad`` so far plus ``g``) into its bucket slot."""
        p = self._params[i]
        slot = self._slot(i)
        if g is not None and g.size != p._data.size:
            g = np.broadcast_to(g, p._data.shape)
        if g is None:
            slot[...] = 0 if p.grad is None else p.grad._data.ravel()
        elif p.grad is None:
            slot[...] = g.ravel()
        else:
            np.add(p.grad._data.ravel(), g.ravel(), out=slot)
        bucket = self._buckets[self._where[i][0]]
        bucket.pending -= 1
        if bucket.pending == 0:
            bucket.work = pg._reduce_array(bucket.buffer, pg.ReduceOp.AVG, async_op=True)
        self.__dict__["_pending"] -= 1

    def _on_grad(self, i: int, g: np.ndarray) -> Any:
        self._ready(i, g)
        if self._pending > 0:
            return None
        self._finish(skip=i)
        p = self._params[i]
        p.grad = None  # the engine assigns the returned mean to it
        return self._slot(i).reshape(p._data.shape)

    def _finish(self, skip: int = -1) -> None:
        """Wait for every bucket and write the means into the gradients; re-arm the counters for the next step."""
        for b in self._buckets:
            if b.work is not None:
                b.work.wait()
                b.work = None
        for i, p in enumerate(self._params):
            if i == skip:
                continue
            mean = self._slot(i).reshape(p._data.shape)
            if p.grad is None:
                p.grad = Tensor._make(mean.astype(p._data.dtype, copy=True), False)
            else:
                p.grad._data[...] = mean
        self._rearm()

    def _rearm(self) -> None:
        for b in self._buckets:
            b.pending, b.work = len(b.members), None
        self.__dict__["_pending"] = len(self._params)

    # ---- forward --------------------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """``module(*args, **kwargs)``, after checking that the previous step's averaging finished."""
        if self._pending != len(self._params):
            self._rearm()
            raise RuntimeError(
                "DistributedDataParallel: the previous backward did not produce gradients for all parameters, so "
                "they were not averaged over the ranks. Pass find_unused_parameters=True if some parameters do "
                "not take part in the loss (or set requires_grad=False on them)."
            )
        if self.broadcast_buffers and self.training and pg.get_world_size() > 1:
            bufs = [b for b in self.module.buffers() if b is not None]
            if bufs:
                self._broadcast_state(bufs)
        out = self.module(*args, **kwargs)
        if self.find_unused_parameters and self._sync and self.training:
            self._mark_unused(out)
        return out

    def _mark_unused(self, out: Any) -> None:
        reached: set[int] = set()
        outs = out if isinstance(out, (tuple, list)) else (out,)
        for o in outs:
            if isinstance(o, Tensor) and o.grad_fn is not None:
                for node in topological_order(o.grad_fn):
                    for nxt in node.next:
                        if nxt is not None and type(nxt) is not Context:
                            reached.add(id(nxt))
            elif isinstance(o, Tensor) and o.requires_grad:
                reached.add(id(o))
        for i, p in enumerate(self._params):
            if id(p) not in reached:
                self._ready(i, None)
        if self._pending == 0:  # nothing reached: average now
            self._finish()

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside: backward accumulates local gradients only (gradient accumulation); the next synced backward
        averages the accumulated sum.

        >>> import gradlab
        >>> from gradlab import distributed as dist, nn
        >>> dist.init_process_group("self")
        >>> ddp = DistributedDataParallel(nn.Linear(1, 1))
        >>> with ddp.no_sync():
        ...     pass
        >>> dist.destroy_process_group()
        """
        old = self._sync
        self.__dict__["_sync"] = False
        try:
            yield
        finally:
            self.__dict__["_sync"] = old

    def extra_repr(self) -> str:
        return f"world_size={pg.get_world_size()}, buckets={len(self._buckets)}"
