"""``fit_distributed`` in one process: the same History and weights as ``fit``; rank != 0 stays quiet."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import distributed as dist
from gradlab import nn, optim
from gradlab.data import DataLoader, DistributedSampler, TensorDataset
from gradlab.nn.parallel import DistributedDataParallel
from gradlab.train import EarlyStopping, ModelCheckpoint, fit
from gradlab.train.distributed import fit_distributed, weights_digest


@pytest.fixture
def group():
    dist.init_process_group("self")
    yield
    dist.destroy_process_group()


def _setup(seed: int = 0):
    gradlab.manual_seed(seed)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4)).astype(np.float32)
    ds = TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy((x[:, 0] > 0).astype(np.int64)))
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    return ds, model


def test_same_as_fit_with_the_same_order(group):
    ds, model = _setup()
    sampler = DistributedSampler(ds, seed=3)
    ref_hist = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                   DataLoader(ds, batch_size=16, sampler=_EpochSampler(sampler)), epochs=3, progress=False)
    ds2, model2 = _setup()
    ddp = DistributedDataParallel(model2)
    hist = fit_distributed(ddp, nn.CrossEntropyLoss(), optim.SGD(ddp.parameters(), lr=0.1),
                           DataLoader(ds2, batch_size=16, sampler=DistributedSampler(ds2, seed=3)), epochs=3,
                           progress=False, check_weights=True)
    assert hist.history["loss"] == ref_hist.history["loss"]
    assert weights_digest(model2) == weights_digest(model)


class _EpochSampler(DistributedSampler):
    """The sampler ``fit`` would see without set_epoch calls, advanced by hand once per epoch (the reference)."""

    def __init__(self, inner: DistributedSampler) -> None:
        super().__init__(inner.dataset, 1, 0, seed=inner.seed)
        self._calls = 0

    def index_array(self) -> np.ndarray:
        self.set_epoch(self._calls)
        self._calls += 1
        return super().index_array()


def test_other_ranks_print_nothing_and_write_no_checkpoint(group, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(dist.process_group, "get_rank", lambda: 1)
    ds, model = _setup()
    ddp = DistributedDataParallel(model)
    stop = EarlyStopping(monitor="loss", patience=10)
    fit_distributed(ddp, nn.CrossEntropyLoss(), optim.SGD(ddp.parameters(), lr=0.1),
                    DataLoader(ds, batch_size=16, sampler=DistributedSampler(ds)), epochs=2,
                    callbacks=[stop, ModelCheckpoint(tmp_path / "best.safetensors", monitor="loss")],
                    checkpoint_dir=tmp_path / "ckpt")
    out = capsys.readouterr()
    assert out.out == "" and "epoch" not in out.err
    assert list(tmp_path.iterdir()) == []
    assert stop.state is not None  # the callbacks every rank needs still ran


def test_rank0_reports(group, tmp_path, capsys):
    ds, model = _setup()
    ddp = DistributedDataParallel(model)
    fit_distributed(ddp, nn.CrossEntropyLoss(), optim.SGD(ddp.parameters(), lr=0.1),
                    DataLoader(ds, batch_size=16, sampler=DistributedSampler(ds)), epochs=2,
                    checkpoint_dir=tmp_path / "ckpt")
    assert "epoch 2/2" in capsys.readouterr().out
    assert (tmp_path / "ckpt").is_dir()
