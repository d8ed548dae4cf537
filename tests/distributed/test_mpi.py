"""Two ranks under ``mpiexec`` (started here, bounded in time): DDP equals one process on the concatenated batches,
the ranks hold identical weights, ``fit_distributed`` keeps them identical, and a failing rank aborts the job."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from tests.distributed.launcher import launch, why_not
from tests.distributed.mpi_worker import batches, make_bn_model, make_model

pytestmark = pytest.mark.skipif(why_not() is not None, reason=f"MPI tests skipped: {why_not()}")


def _run(mode: str, out: Path) -> subprocess.CompletedProcess:
    proc = launch(mode, out)
    assert proc.returncode == 0, f"mpiexec failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_two_ranks_equal_one_process_on_the_concatenated_batches(tmp_path):
    _run("ddp_steps", tmp_path)
    r0, r1 = _load(tmp_path / "rank0.npz"), _load(tmp_path / "rank1.npz")
    assert int(r0.pop("buckets")) > 1 and int(r1.pop("buckets")) > 1  # several buckets were exercised
    model = make_model(seed=0)  # rank 0's initial weights (rank 1 started from seed 1: the broadcast replaced them)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches(steps=4, global_batch=16):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(gradlab.from_numpy(x)), gradlab.from_numpy(y)).backward()
        opt.step()
    ref = {k: v._data for k, v in model.state_dict().items()}
    assert set(ref) == set(r0)
    start = make_model(seed=0).state_dict()
    for k in ref:
        assert r0[k].dtype == np.float64
        np.testing.assert_array_equal(r0[k], r1[k])  # identical on both ranks, bit for bit
        np.testing.assert_allclose(r0[k], ref[k], rtol=0, atol=1e-10)
        assert not np.allclose(ref[k], start[k]._data)  # training moved the weights


def test_sync_batchnorm_over_two_ranks_is_batchnorm_over_the_concatenated_batch(tmp_path):
    _run("syncbn", tmp_path)
    r0, r1 = _load(tmp_path / "rank0.npz"), _load(tmp_path / "rank1.npz")
    model = make_bn_model(seed=0, sync=False)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches(steps=4, global_batch=12):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(gradlab.from_numpy(x)), gradlab.from_numpy(y)).backward()
        opt.step()
    ref = {k: v._data for k, v in model.state_dict().items()}
    assert set(ref) == set(r0) and "1.running_var" in ref
    for k in ref:
        np.testing.assert_array_equal(r0[k], r1[k])
        np.testing.assert_allclose(r0[k], ref[k], rtol=0, atol=1e-10)


def test_fit_distributed_keeps_ranks_identical_and_only_rank0_reports(tmp_path):
    proc = _run("fit", tmp_path)
    r0, r1 = _load(tmp_path / "rank0.npz"), _load(tmp_path / "rank1.npz")
    for k in r0:
        np.testing.assert_array_equal(r0[k], r1[k])  # weights and the averaged loss history
    assert len(r0["loss"]) == 3 and r0["loss"][-1] < r0["loss"][0]
    assert proc.stdout.count("epoch 1/3: loss=") == 1  # one rank reports, not two
    assert (tmp_path / "ckpt").is_dir()  # rank 0 wrote the checkpoint


def test_a_rank_that_raises_aborts_the_whole_job(tmp_path):
    proc = launch("raise", tmp_path, timeout=120)  # a hang would raise TimeoutExpired here
    assert proc.returncode != 0
    assert "rank 1 fails on purpose" in proc.stderr
    assert not (tmp_path / "rank0-passed-barrier").exists()


def test_a_caught_failure_inside_abort_on_failure_still_aborts(tmp_path):
    proc = launch("caught", tmp_path, timeout=120)  # rank 1 exits 4 (no traceback); rank 0 must not hang
    assert proc.returncode != 0
    assert not (tmp_path / "rank0-passed-barrier").exists()


def test_train_engine_resumes_bit_identically_with_the_same_ranks(tmp_path):
    from gradlab.io import load_arrays

    whole, split = tmp_path / "whole", tmp_path / "split"
    proc = _run("engine:3", whole)
    assert proc.stdout.count("test accuracy") == 1  # rank 0 alone reports
    _run("engine:2", split)
    _run("engine:3:resume", split)
    (a, _), (b, _) = load_arrays(whole / "weights.safetensors"), load_arrays(split / "weights.safetensors")
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert (whole / "distributed.json").read_text().count('"world_size": 2') == 1
    one_rank = launch("engine:4:resume", split, n=1)  # a different number of ranks is refused
    assert one_rank.returncode != 0 and "same number" in one_rank.stderr
