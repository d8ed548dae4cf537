"""``gradlab.distributed``: process groups and collectives on Tensors (the ``torch.distributed`` interface), over
MPI through mpi4py (``pip install 'gradlab[mpi]'``) or in one process (the ``"self"`` backend).

A data-parallel script, started as ``mpirun -n 4 python train.py``::

    from gradlab import distributed as dist
    from gradlab.nn.parallel import DistributedDataParallel
    from gradlab.data import DataLoader, DistributedSampler

    dist.init_process_group("mpi")
    model = DistributedDataParallel(model)          # rank 0's weights everywhere
    loader = DataLoader(ds, batch_size=64, sampler=DistributedSampler(ds))  # each rank its shard

>>> from gradlab import distributed as dist
>>> dist.get_world_size()
1
"""
from gradlab.distributed.backends import MPI_INSTALL_HINT, launcher_world
from gradlab.distributed.process_group import (
    ReduceOp,
    Work,
    abort_on_failure,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    comm_seconds,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
)

__all__ = [
    "ReduceOp", "Work", "init_process_group", "destroy_process_group", "is_initialized", "is_available",
    "get_rank", "get_world_size", "get_backend", "barrier", "all_reduce", "broadcast", "all_gather",
    "comm_seconds", "abort_on_failure", "launcher_world", "MPI_INSTALL_HINT",
]
