"""The process-group API on the one-process "self" backend, the launcher detection, and the errors."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import gradlab
from gradlab import distributed as dist
from gradlab.distributed.backends import MPIBackend, launcher_world


@pytest.fixture
def group():
    dist.init_process_group("self")
    yield
    dist.destroy_process_group()


def test_self_backend_collectives_are_the_identity(group):
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend(), dist.is_initialized()) == (0, 1, "self", True)
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.MIN):
        t = gradlab.tensor([1.5, -2.0])
        dist.all_reduce(t, op=op)
        assert t.tolist() == [1.5, -2.0]
    w = dist.all_reduce(t, async_op=True)
    assert w.wait() and w.is_completed()
    out = [gradlab.zeros(2, 2)]
    dist.all_gather(out, gradlab.ones(2, 2))
    assert out[0].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    dist.broadcast(t, src=0)
    dist.barrier()


def test_errors_name_the_problem(group):
    with pytest.raises(ValueError, match="unknown op"):
        dist.all_reduce(gradlab.ones(2), op="prod")
    with pytest.raises(TypeError, match="AVG needs a floating"):
        dist.all_reduce(gradlab.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="gradlab Tensor"):
        dist.all_reduce(np.ones(2))
    with pytest.raises(ValueError, match="contiguous"):
        dist.all_reduce(gradlab.ones(4, 4).t())
    with pytest.raises(ValueError, match="not a rank"):
        dist.broadcast(gradlab.ones(2), src=1)
    with pytest.raises(ValueError, match="list of 1 tensors"):
        dist.all_gather([], gradlab.ones(2))
    with pytest.raises(ValueError, match="tensor_list\\[0\\]"):
        dist.all_gather([gradlab.ones(3)], gradlab.ones(2))
    with pytest.raises(RuntimeError, match="already initialized"):
        dist.init_process_group("self")


def test_uninitialized_and_bad_arguments():
    assert not dist.is_initialized()
    assert dist.get_rank() == 0 and dist.get_world_size() == 1
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.all_reduce(gradlab.ones(1))
    with pytest.raises(ValueError, match="unknown backend"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="world_size=2"):
        dist.init_process_group("self", world_size=2)
    assert not dist.is_initialized()


def test_launcher_environment(monkeypatch):
    assert launcher_world({"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "8"}) == (2, 8)
    assert launcher_world({"PMI_RANK": "0", "PMI_SIZE": "2"}) == (0, 2)
    with pytest.raises(ValueError, match="malformed"):
        launcher_world({"PMI_RANK": "x", "PMI_SIZE": "2"})
    monkeypatch.setenv("PMI_RANK", "1")
    monkeypatch.setenv("PMI_SIZE", "4")
    with pytest.raises(RuntimeError, match="use backend='mpi'"):
        dist.init_process_group("self")


def test_missing_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `from mpi4py import MPI` raise ImportError
    with pytest.raises(RuntimeError, match=r"pip install 'gradlab\[mpi\]'"):
        MPIBackend()


def test_excepthook_is_restored():
    before = sys.excepthook
    dist.init_process_group("self")  # one rank: no abort hook needed
    assert sys.excepthook is before
    dist.destroy_process_group()
    assert sys.excepthook is before


class _FakeTwoRanks:
    name, rank, size = "fake", 1, 2

    def __init__(self):
        self.aborts = []

    def abort_at_exit(self, code):
        self.aborts.append(code)


@pytest.mark.parametrize("exc, expected", [(ValueError("x"), [1]), (SystemExit(3), [3]), (SystemExit(0), []),
                                           (SystemExit(None), []), (SystemExit("message"), [1])])
def test_abort_on_failure_arms_the_abort_for_failures_only(monkeypatch, exc, expected):
    fake = _FakeTwoRanks()
    monkeypatch.setitem(dist.process_group._state, "backend", fake)
    with pytest.raises(type(exc)):
        with dist.abort_on_failure():
            raise exc
    with dist.abort_on_failure():
        pass
    assert fake.aborts == expected


def test_abort_on_failure_is_a_no_op_in_one_process(group):
    with pytest.raises(ValueError):
        with dist.abort_on_failure():
            raise ValueError("one process: the exception just propagates")
