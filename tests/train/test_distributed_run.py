"""``run_training_distributed`` on the ``"self"`` backend (one process, no MPI): the single-process engine's rules
hold (nothing written before the checks pass, a non-empty folder refused, strict JSON, the divergence guard), its
folder is a one-process run's plus ``distributed.json``, and it trains as ``run_training`` does."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gradlab import distributed as dist
from gradlab.train import experiment
from gradlab.train.distributed_run import run_training_distributed
from gradlab.train.runfolder import RunFolderError


@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 1, 2, 2)).astype(np.float32)
    y = (x[:, 0, 0, 0] > 0).astype(np.int64)
    experiment.register_dataset("tiny-dr", lambda train=True, root=None: (x, y, {"input_shape": [1, 2, 2],
                                                                                  "num_classes": 2}))
    dist.init_process_group("self")
    try:
        yield experiment.make_config(dataset="tiny-dr", hidden=(8,), epochs=2, batch_size=16, seed=0)
    finally:
        dist.destroy_process_group()
        del experiment.DATASETS["tiny-dr"]


def test_the_folder_of_a_one_process_run_plus_distributed_json(tiny, tmp_path):
    res = run_training_distributed(tiny, tmp_path / "d", progress=False, log=None, check_weights=True)
    ref = experiment.run_training(tiny, tmp_path / "one", progress=False, log=None)
    assert res["world_size"] == 1 and res["rank"] == 0 and res["epochs"] == 2
    names = {p.name for p in (tmp_path / "d").iterdir()}
    assert names == {p.name for p in (tmp_path / "one").iterdir()} | {"distributed.json"}
    assert json.loads((tmp_path / "d" / "distributed.json").read_text()) == {"world_size": 1,
                                                                             "per_rank_batch_size": 16}
    assert 0.0 <= res["test_accuracy"] <= 1.0 and 0.0 <= ref["test_accuracy"] <= 1.0


def test_a_non_empty_folder_is_refused_before_anything_is_written(tiny, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="not empty"):
        run_training_distributed(tiny, tmp_path, progress=False, log=None)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    run_training_distributed(tiny, tmp_path, progress=False, log=None, overwrite=True)  # unless asked
    assert (tmp_path / "distributed.json").is_file() and (tmp_path / "notes.txt").is_file()


@pytest.mark.parametrize("bad, match", [({"limit": 10_000}, "limit"), ({"batch_size": 0}, "batch"),
                                        ({"optimizer": "nope"}, "unknown optimizer")])
def test_bad_configs_fail_before_the_folder_is_made(tiny, tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        run_training_distributed({**tiny, **bad}, tmp_path / "d", progress=False, log=None)
    assert not (tmp_path / "d").exists()


def test_on_nan_other_than_raise_is_refused(tiny, tmp_path):
    with pytest.raises(ValueError, match="on_nan='stop' is not available in a data-parallel run"):
        run_training_distributed(tiny, tmp_path / "d", progress=False, log=None, on_nan="stop")
    assert not (tmp_path / "d").exists()


def test_diverging_weights_are_never_saved(tiny, tmp_path):
    cfg = {**tiny, "lr": 1e39, "optimizer": "sgd", "batch_size": 96, "epochs": 1}  # one step: inf weights
    with pytest.raises(FloatingPointError, match="NaN or infinite"), np.errstate(all="ignore"):
        run_training_distributed(cfg, tmp_path / "d", progress=False, log=None)
    assert not (tmp_path / "d" / "weights.safetensors").exists()


def test_resume_of_a_one_process_checkpoint_is_refused(tiny, tmp_path):
    experiment.run_training({**tiny, "epochs": 1}, tmp_path, progress=False, log=None)
    with pytest.raises(ValueError, match="one-process run"):
        run_training_distributed(tiny, tmp_path, progress=False, log=None, resume=True)
