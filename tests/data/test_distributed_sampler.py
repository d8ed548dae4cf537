"""``DistributedSampler`` against torch's: the same indices for every rank, epoch, shuffle and drop_last."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchDistributedSampler

import gradlab
from gradlab.data import DataLoader, DistributedSampler, TensorDataset
from gradlab.data.distributed import torch_randperm


@pytest.mark.parametrize("n", [0, 1, 2, 5, 1000, 60000])
@pytest.mark.parametrize("seed", [0, 41, 2**32 + 3])
def test_randperm_is_torchs(n, seed):
    g = torch.Generator()
    g.manual_seed(seed)
    np.testing.assert_array_equal(torch_randperm(n, seed), torch.randperm(n, generator=g).numpy())


@pytest.mark.parametrize("n, replicas", [(1, 3), (10, 1), (10, 3), (13, 4), (16, 4), (101, 8)])
def test_indices_equal_torchs(n, replicas):
    for shuffle, drop_last, epoch, seed in itertools.product([True, False], [True, False], [0, 1, 7], [0, 5]):
        for rank in range(replicas):
            ours = DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            theirs = TorchDistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=seed,
                                             drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (n, replicas, rank, shuffle, drop_last, epoch, seed)
            assert len(ours) == len(theirs)


def test_ranks_cover_the_dataset_and_epochs_reshuffle():
    shards = [DistributedSampler(range(10), 3, r, seed=1).index_array() for r in range(3)]
    assert sorted(np.concatenate(shards).tolist()) == sorted(list(range(10)) + [shards[0][0], shards[1][0]])
    s = DistributedSampler(range(100), 2, 0)
    first = s.index_array()
    s.set_epoch(1)
    assert not np.array_equal(first, s.index_array())


def test_dataloader_uses_the_shard():
    ds = TensorDataset(gradlab.arange(10).float())
    loader = DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1.0, 3.0], [5.0, 7.0], [9.0]]


def test_defaults_come_from_the_process_group():
    s = DistributedSampler(range(4))
    assert (s.num_replicas, s.rank) == (1, 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), 2, -1)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(4), 0, 0)
    with pytest.raises(TypeError, match="rank must be an int"):
        DistributedSampler(range(4), 2, 0.5)
    with pytest.raises(ValueError, match="seed"):
        DistributedSampler(range(4), 2, 0, seed=-1)
