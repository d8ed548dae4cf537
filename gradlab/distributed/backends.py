"""The two transports behind :mod:`gradlab.distributed`: MPI through mpi4py, and a one-process ``"self"`` backend.

Both act on contiguous numpy arrays in place. ``_MPIBackend`` imports mpi4py only when it is built, so
``import gradlab`` (and the ``"self"`` backend) never needs mpi4py or an MPI runtime.

>>> import numpy as np
>>> b = SelfBackend()
>>> a = np.arange(3.0); b.allreduce(a, "sum"); a.tolist()
[0.0, 1.0, 2.0]
>>> b.rank, b.size
(0, 1)
"""
from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

__all__ = ["SelfBackend", "MPIBackend", "launcher_world", "MPI_INSTALL_HINT"]

MPI_INSTALL_HINT = (
    "install the MPI extra: pip install 'gradlab[mpi]' (mpi4py and the MPICH runtime wheel), or mpi4py on top of "
    "your system's MPI (Debian: apt-get install openmpi-bin libopenmpi-dev; then pip install mpi4py)"
)

# (rank, size) variables that MPI launchers set: Open MPI, MPICH/Hydra and Intel MPI (PMI), PMIx, Slurm.
_LAUNCHER_VARS = (
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
    ("PMI_RANK", "PMI_SIZE"),
    ("PMIX_RANK", "PMIX_SIZE"),
    ("SLURM_PROCID", "SLURM_NTASKS"),
)


def launcher_world(environ: Any = None) -> tuple[int, int] | None:
    """``(rank, world_size)`` as an MPI launcher's environment gives them, or ``None`` outside a launcher.

    >>> launcher_world({"PMI_RANK": "1", "PMI_SIZE": "4"})
    (1, 4)
    >>> launcher_world({}) is None
    True
    """
    env = os.environ if environ is None else environ
    for rank_var, size_var in _LAUNCHER_VARS:
        if rank_var in env and size_var in env:
            try:
                return int(env[rank_var]), int(env[size_var])
            except ValueError as exc:
                raise ValueError(f"malformed MPI launcher environment: {rank_var}={env[rank_var]!r}, "
                                 f"{size_var}={env[size_var]!r}") from exc
    return None


class _Done:
    """A finished request (the ``"self"`` backend's, and anything that completed at once)."""

    def wait(self) -> None:
        return None

    def is_completed(self) -> bool:
        return True


class SelfBackend:
    """One process (rank 0 of 1): every collective is the identity, so code written for N ranks runs unchanged.

    >>> import numpy as np
    >>> SelfBackend().allgather(np.array([1, 2])).tolist()
    [[1, 2]]
    """

    name = "self"
    rank = 0
    size = 1

    def allreduce(self, arr: np.ndarray, op: str) -> None:
        """In place: with one rank the sum, mean, max and min of ``arr`` are ``arr``."""

    def iallreduce(self, arr: np.ndarray, op: str) -> _Done:
        """Non-blocking form of :meth:`allreduce` (already complete)."""
        return _Done()

    def broadcast(self, arr: np.ndarray, src: int) -> None:
        """In place: rank ``src`` (0) already holds the value."""

    def allgather(self, arr: np.ndarray) -> np.ndarray:
        """``arr`` stacked along a new first axis of length 1."""
        return arr[None].copy()

    def barrier(self) -> None:
        """Nothing to wait for."""

    def abort(self, code: int) -> None:
        """Exit at once with ``code``."""
        os._exit(code)

    def abort_at_exit(self, code: int) -> None:
        """Nothing to do: one process exits with its own status."""


class MPIBackend:  # pragma: no cover - exercised by the mpirun tests in subprocesses
    """``MPI.COMM_WORLD`` through mpi4py (imported here, lazily); sums in place with ``MPI.IN_PLACE``.

    >>> import pytest, subprocess
    >>> _ = pytest.importorskip("mpi4py")  # the 'mpi' extra
    >>> from pathlib import Path
    >>> import gradlab
    >>> code = ("import numpy as np; from gradlab.distributed.backends import MPIBackend; b = MPIBackend(); "
    ...         "a = np.arange(3.0); b.allreduce(a, 'sum'); print(b.rank, b.size, a.tolist())")
    >>> env = dict(os.environ, PYTHONPATH=str(Path(gradlab.__file__).resolve().parents[1]))
    >>> subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip()
    '0 1 [0.0, 1.0, 2.0]'
    """

    name = "mpi"

    def __init__(self) -> None:
        try:
            from mpi4py import MPI
        except ImportError as exc:
            raise RuntimeError(f"backend='mpi' needs mpi4py and an MPI runtime ({exc}); {MPI_INSTALL_HINT}") from exc
        except Exception as exc:  # mpi4py present but no loadable libmpi
            raise RuntimeError(f"backend='mpi': mpi4py could not load an MPI library ({exc}); "
                               f"{MPI_INSTALL_HINT}") from exc
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self._ops = {"sum": MPI.SUM, "avg": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}

    def allreduce(self, arr: np.ndarray, op: str) -> None:
        self.comm.Allreduce(self.MPI.IN_PLACE, arr, op=self._ops[op])

    def iallreduce(self, arr: np.ndarray, op: str) -> Any:
        return self.comm.Iallreduce(self.MPI.IN_PLACE, arr, op=self._ops[op])

    def broadcast(self, arr: np.ndarray, src: int) -> None:
        self.comm.Bcast(arr, root=src)

    def allgather(self, arr: np.ndarray) -> np.ndarray:
        out = np.empty((self.size,) + arr.shape, dtype=arr.dtype)
        self.comm.Allgather(np.ascontiguousarray(arr), out)
        return out

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.comm.Abort(code)

    def abort_at_exit(self, code: int) -> None:
        """Make mpi4py call ``MPI_Abort(code)`` instead of ``MPI_Finalize`` when this interpreter exits (the
        other ranks may be waiting in a collective that this one will never join)."""
        setter = getattr(self.MPI, "_set_abort_status", None)
        if setter is not None:
            setter(code)
        else:
            self.abort(code)
