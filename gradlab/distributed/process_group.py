"""The default process group and its collectives on Tensors (the ``torch.distributed`` names).

``init_process_group`` picks the transport: ``"mpi"`` (mpi4py over ``MPI.COMM_WORLD``, for programs started by
``mpirun``/``mpiexec``/``srun``) or ``"self"`` (one process); without an argument, ``"mpi"`` when an MPI launcher's
environment is present, else ``"self"``. Collectives act in place on the Tensor's array, as torch's do.

Under ``"mpi"`` with more than one rank, an uncaught exception on any rank prints its traceback and calls
``MPI_Abort``, so the whole job exits non-zero instead of the other ranks waiting forever in a collective.

>>> import gradlab
>>> from gradlab import distributed as dist
>>> dist.init_process_group("self")
>>> t = gradlab.tensor([1.0, 2.0])
>>> dist.all_reduce(t, op=dist.ReduceOp.AVG); t.tolist()
[1.0, 2.0]
>>> dist.get_rank(), dist.get_world_size(), dist.is_initialized()
(0, 1, True)
>>> dist.destroy_process_group(); dist.is_initialized()
False
"""
from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from gradlab.distributed.backends import MPIBackend, SelfBackend, launcher_world
from gradlab.tensor import Tensor

__all__ = [
    "ReduceOp", "Work", "init_process_group", "destroy_process_group", "is_initialized", "is_available",
    "get_rank", "get_world_size", "get_backend", "barrier", "all_reduce", "broadcast", "all_gather",
    "comm_seconds", "abort_on_failure",
]

_state: dict[str, Any] = {"backend": None, "hook": None, "seconds": 0.0}


class ReduceOp:
    """The reductions of :func:`all_reduce` (``SUM``, ``AVG``, ``MAX``, ``MIN``, as ``torch.distributed.ReduceOp``).

    >>> ReduceOp.AVG
    'avg'
    """

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"


_OPS = (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MAX, ReduceOp.MIN)


def is_available() -> bool:
    """Whether mpi4py can be imported (the ``"self"`` backend is always available).

    >>> isinstance(is_available(), bool)
    True
    """
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def _abort_hook(backend: Any, previous: Any) -> Any:
    def hook(exc_type: Any, exc: Any, tb: Any) -> None:
        previous(exc_type, exc, tb)
        print(f"gradlab.distributed: rank {backend.rank} raised {exc_type.__name__}: aborting all "
              f"{backend.size} ranks (MPI_Abort)", file=sys.stderr)
        backend.abort(1)

    return hook


def init_process_group(backend: str | None = None, *, world_size: int | None = None, rank: int | None = None,
                       abort_on_exception: bool = True) -> None:
    """Start the default process group.

    Args:
        backend: ``"mpi"``, ``"self"``, or ``None`` (``"mpi"`` under an MPI launcher, else ``"self"``).
        world_size, rank: optional checks: when given they must match what the launcher started.
        abort_on_exception: under MPI with more than one rank, an uncaught exception aborts the whole job.

    >>> init_process_group("self"); get_world_size()
    1
    >>> destroy_process_group()
    """
    if _state["backend"] is not None:
        raise RuntimeError("the default process group is already initialized; call destroy_process_group() first")
    launched = launcher_world()
    if backend is None:
        backend = "mpi" if launched is not None else "self"
    if backend == "self":
        if launched is not None and launched[1] > 1:
            raise RuntimeError(f"backend='self' in a job of {launched[1]} ranks started by an MPI launcher: "
                               "use backend='mpi'")
        impl: Any = SelfBackend()
    elif backend == "mpi":
        impl = MPIBackend()
    else:
        raise ValueError(f"unknown backend {backend!r}: expected 'mpi' or 'self'")
    if world_size is not None and world_size != impl.size:
        raise ValueError(f"world_size={world_size} but the job has {impl.size} rank(s)")
    if rank is not None and rank != impl.rank:
        raise ValueError(f"rank={rank} but this process is rank {impl.rank}")
    _state["backend"] = impl
    _state["seconds"] = 0.0
    if abort_on_exception and impl.size > 1:
        _state["hook"] = sys.excepthook
        sys.excepthook = _abort_hook(impl, sys.excepthook)


def destroy_process_group() -> None:
    """Forget the default process group (MPI itself is finalized at interpreter exit, by mpi4py).

    >>> destroy_process_group(); is_initialized()
    False
    """
    if _state["hook"] is not None:
        sys.excepthook = _state["hook"]
        _state["hook"] = None
    _state["backend"] = None


@contextlib.contextmanager
def abort_on_failure() -> Iterator[None]:
    """Inside: an exception, or a ``SystemExit`` with a non-zero status, leaving the block makes this rank abort the
    whole MPI job when the interpreter exits (``MPI_Abort`` instead of ``MPI_Finalize``), even if a caller catches
    it and exits with an error code: the other ranks would otherwise wait for this one forever. A no-op without a
    process group or with one rank.

    >>> with abort_on_failure():
    ...     pass
    """
    try:
        yield
    except SystemExit as exc:
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if status and _state["backend"] is not None and _state["backend"].size > 1:
            _state["backend"].abort_at_exit(status)
        raise
    except BaseException:
        if _state["backend"] is not None and _state["backend"].size > 1:
            _state["backend"].abort_at_exit(1)
        raise


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has run (and :func:`destroy_process_group` has not).

    >>> is_initialized()
    False
    """
    return _state["backend"] is not None


def _group() -> Any:
    b = _state["backend"]
    if b is None:
        raise RuntimeError("the default process group is not initialized: call "
                           "gradlab.distributed.init_process_group() first ('mpi' under mpirun, or 'self')")
    return b


def get_backend() -> str:
    """``"mpi"`` or ``"self"``.

    >>> init_process_group("self"); get_backend()
    'self'
    >>> destroy_process_group()
    """
    return str(_group().name)


def get_rank() -> int:
    """This process's rank, 0 .. world size - 1 (0 when no group is initialized, as a lone process is rank 0).

    >>> get_rank()
    0
    """
    b = _state["backend"]
    return 0 if b is None else int(b.rank)


def get_world_size() -> int:
    """The number of ranks (1 when no group is initialized).

    >>> get_world_size()
    1
    """
    b = _state["backend"]
    return 1 if b is None else int(b.size)


def comm_seconds(reset: bool = False) -> float:
    """Wall seconds spent inside blocking collectives and waits since ``init_process_group`` (or the last reset).

    >>> comm_seconds(reset=True) >= 0.0
    True
    """
    s = float(_state["seconds"])
    if reset:
        _state["seconds"] = 0.0
    return s


def _array(tensor: Any, name: str) -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a gradlab Tensor, got {type(tensor).__name__}")
    arr = tensor._data
    if not isinstance(arr, np.ndarray) or not arr.flags.c_contiguous or not arr.flags.writeable:
        raise ValueError(f"{name}: the tensor must be a contiguous, writable CPU array")
    return arr


class Work:
    """A pending :func:`all_reduce` (``async_op=True``): ``wait()`` finishes it (and divides for ``AVG``).

    >>> import gradlab; init_process_group("self")
    >>> t = gradlab.tensor([4.0]); w = all_reduce(t, async_op=True); _ = w.wait(); w.is_completed()
    True
    >>> destroy_process_group()
    """

    def __init__(self, request: Any, arr: np.ndarray | None = None, divide: int = 1) -> None:
        self._request, self._arr, self._divide, self._done = request, arr, divide, False

    def wait(self) -> bool:
        """Block until the collective has finished; returns ``True``."""
        if not self._done:
            t0 = time.perf_counter()
            self._request.wait()
            _state["seconds"] += time.perf_counter() - t0
            if self._divide > 1 and self._arr is not None:
                self._arr /= self._divide
            self._done = True
        return True

    def is_completed(self) -> bool:
        """Whether :meth:`wait` has finished."""
        return self._done


def _reduce_array(arr: np.ndarray, op: str, async_op: bool) -> Work | None:
    if op not in _OPS:
        raise ValueError(f"all_reduce: unknown op {op!r}; expected one of {', '.join(_OPS)} (ReduceOp)")
    b = _group()
    divide = b.size if op == ReduceOp.AVG else 1
    if op == ReduceOp.AVG and not np.issubdtype(arr.dtype, np.inexact):  # on every world size alike
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating tensor, got {arr.dtype}")
    if async_op:
        t0 = time.perf_counter()
        req = b.iallreduce(arr, op)
        _state["seconds"] += time.perf_counter() - t0
        return Work(req, arr, divide)
    t0 = time.perf_counter()
    b.allreduce(arr, op)
    if divide > 1:
        arr /= divide
    _state["seconds"] += time.perf_counter() - t0
    return None


def all_reduce(tensor: Tensor, op: str = ReduceOp.SUM, async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` over all ranks, in place; with ``async_op=True`` return a :class:`Work` to ``wait()`` on.

    >>> import gradlab; init_process_group("self")
    >>> t = gradlab.tensor([1.0, -1.0]); all_reduce(t, op=ReduceOp.MAX); t.tolist()
    [1.0, -1.0]
    >>> destroy_process_group()
    """
    return _reduce_array(_array(tensor, "all_reduce"), op, async_op)


def broadcast(tensor: Tensor, src: int = 0) -> None:
    """Overwrite ``tensor`` on every rank with rank ``src``'s value, in place.

    >>> import gradlab; init_process_group("self")
    >>> t = gradlab.tensor([3.0]); broadcast(t, src=0); t.tolist()
    [3.0]
    >>> destroy_process_group()
    """
    b = _group()
    if not 0 <= src < b.size:
        raise ValueError(f"broadcast: src={src} is not a rank of this group (0 .. {b.size - 1})")
    t0 = time.perf_counter()
    b.broadcast(_array(tensor, "broadcast"), src)
    _state["seconds"] += time.perf_counter() - t0


def all_gather(tensor_list: list, tensor: Tensor) -> None:
    """Fill ``tensor_list`` (one Tensor per rank, each shaped like ``tensor``) with every rank's ``tensor``.

    >>> import gradlab; init_process_group("self")
    >>> out = [gradlab.zeros(2)]; all_gather(out, gradlab.tensor([1.0, 2.0])); out[0].tolist()
    [1.0, 2.0]
    >>> destroy_process_group()
    """
    b = _group()
    arr = _array(tensor, "all_gather")
    if not isinstance(tensor_list, list) or len(tensor_list) != b.size:
        raise ValueError(f"all_gather: tensor_list must be a list of {b.size} tensors (one per rank)")
    for i, t in enumerate(tensor_list):
        dst = _array(t, f"all_gather: tensor_list[{i}]")
        if dst.shape != arr.shape or dst.dtype != arr.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] is {dst.dtype}{list(dst.shape)}, "
                             f"the input is {arr.dtype}{list(arr.shape)}")
    t0 = time.perf_counter()
    gathered = b.allgather(arr)
    _state["seconds"] += time.perf_counter() - t0
    for t, part in zip(tensor_list, gathered):
        t._data[...] = part


def barrier() -> None:
    """Wait until every rank has reached this call.

    >>> init_process_group("self"); barrier(); destroy_process_group()
    """
    _group().barrier()


