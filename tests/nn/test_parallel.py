"""``DistributedDataParallel`` in one process (the "self" backend): bit-identical to plain training, gradient
accumulation with ``no_sync``, unused parameters. The 2-rank runs are in tests/distributed/test_mpi.py."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import distributed as dist
from gradlab import nn, optim
from gradlab.nn.parallel import DistributedDataParallel


@pytest.fixture
def group():
    dist.init_process_group("self")
    yield
    dist.destroy_process_group()


def _net(seed: int = 0) -> nn.Module:
    gradlab.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                         nn.Linear(32, 4))


def _train(model: nn.Module, params_of: nn.Module, steps: int = 5) -> dict[str, np.ndarray]:
    opt = optim.Adam(params_of.parameters(), lr=0.01)
    rng = np.random.default_rng(1)
    for _ in range(steps):
        x = gradlab.from_numpy(rng.standard_normal((16, 6)).astype(np.float32))
        y = gradlab.from_numpy(rng.integers(0, 4, 16))
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        opt.step()
    return {k: v._data.copy() for k, v in params_of.state_dict().items()}


@pytest.mark.parametrize("bucket_cap_mb", [4.0, 1e-6])
def test_self_backend_is_bit_identical_to_plain_training(group, bucket_cap_mb):
    ref_model = _net()
    ref = _train(ref_model, ref_model)
    inner = _net()
    ddp = DistributedDataParallel(inner, bucket_cap_mb=bucket_cap_mb)
    got = _train(ddp, inner)
    assert len(ddp._buckets) == (1 if bucket_cap_mb == 4.0 else len(list(inner.parameters())))
    assert set(got) == set(ref)
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k])
    assert list(ddp.state_dict())[0].startswith("module.")


def test_no_sync_accumulates_like_plain_backward(group):
    a, b = _net(), _net()
    ddp = DistributedDataParallel(b)
    x1, x2 = gradlab.randn(8, 6), gradlab.randn(8, 6)
    a(x1).sum().backward()
    a(x2).sum().backward()
    with ddp.no_sync():
        ddp(x1).sum().backward()
    ddp(x2).sum().backward()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pb.grad._data, pa.grad._data, rtol=1e-6, atol=1e-6)


class _TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.used = nn.Linear(3, 2)
        self.unused = nn.Linear(3, 2)

    def forward(self, x):
        return self.used(x)


def test_a_parameter_without_gradient_makes_the_next_forward_raise(group):
    ddp = DistributedDataParallel(_TwoHeads())
    ddp(gradlab.randn(4, 3)).sum().backward()
    with pytest.raises(RuntimeError, match="find_unused_parameters=True"):
        ddp(gradlab.randn(4, 3))
    ddp(gradlab.randn(4, 3))  # the error re-arms the counters: the next step runs


def test_find_unused_parameters(group):
    m = _TwoHeads()
    ddp = DistributedDataParallel(m, find_unused_parameters=True)
    for _ in range(2):
        m.zero_grad()
        ddp(gradlab.randn(4, 3)).sum().backward()
        assert m.used.weight.grad is not None
        np.testing.assert_array_equal(m.unused.weight.grad._data, np.zeros((2, 3), np.float32))


def test_construction_errors():
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(nn.Linear(2, 2))
    dist.init_process_group("self")
    try:
        with pytest.raises(TypeError, match="gradlab.nn.Module"):
            DistributedDataParallel(lambda x: x)
        with pytest.raises(ValueError, match="bucket_cap_mb"):
            DistributedDataParallel(nn.Linear(2, 2), bucket_cap_mb=0)
    finally:
        dist.destroy_process_group()
