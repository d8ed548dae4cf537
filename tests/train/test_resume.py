"""Full training checkpoints: an interrupted + resumed run ends bit-identical to an uninterrupted one."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest

import gradlab
from gradlab import optim
from gradlab.io import load_checkpoint
from gradlab.train import CSVLogger, EarlyStopping, fit, has_checkpoint


def _state(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _run(problem, epochs, own_generator, ckpt=None, resume=None, seed=0, callbacks=()):
    model, loss_fn, opt, train, val = problem(seed=seed, own_generator=own_generator)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    hist = fit(model, loss_fn, opt, train, val, epochs=epochs, scheduler=sched, checkpoint_dir=ckpt,
               resume_from=resume, callbacks=list(callbacks), progress=False)
    return model, opt, sched, hist


def _without_time(hist):
    return {k: v for k, v in hist.history.items() if k != "time"}


@pytest.mark.parametrize("own_generator", [True, False], ids=["loader-generator", "default-generator"])
def test_resume_is_bit_identical(tmp_path, problem, own_generator):
    straight, opt_a, sched_a, hist_a = _run(problem, 4, own_generator)

    ckpt = tmp_path / "checkpoint"
    _run(problem, 2, own_generator, ckpt=ckpt)
    assert has_checkpoint(ckpt) and load_checkpoint(ckpt)["epoch"] == 1
    gradlab.manual_seed(999)  # a fresh process would start from another random state: the checkpoint must fix it
    # a different seed: different initial weights, which the checkpoint must overwrite
    resumed, opt_b, sched_b, hist_b = _run(problem, 4, own_generator, ckpt=ckpt, resume=ckpt, seed=7)

    a, b = _state(straight), _state(resumed)
    assert list(a) == list(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert sched_a.state_dict() == sched_b.state_dict()
    sa, sb = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
    for i in sa:
        for key in sa[i]:
            assert np.array_equal(np.asarray(sa[i][key]), np.asarray(sb[i][key])), (i, key)
    assert _without_time(hist_a) == _without_time(hist_b)
    assert hist_b.epoch == [0, 1, 2, 3]
    assert load_checkpoint(ckpt)["epoch"] == 3


def test_checkpoint_contents(tmp_path, problem):
    ckpt = tmp_path / "ck"
    model, opt, sched, hist = _run(problem, 2, True, ckpt=ckpt)
    ck = load_checkpoint(ckpt)
    assert ck["epoch"] == 1
    assert set(ck["model_state"]) == set(model.state_dict())
    assert ck["scheduler_state"]["last_epoch"] == 2
    assert set(ck["rng_state"]) == {"default", "loader"}
    assert ck["rng_state"]["default"] == gradlab.backend.default_generator.get_state()
    assert ck["extra"]["history"]["epoch"] == [0, 1]
    # one JSON and one tensor file, no leftovers
    names = sorted(p.name for p in ckpt.iterdir())
    assert len(names) == 2 and names[0].endswith(".safetensors") and names[1] == "checkpoint.json"


def test_resume_of_a_finished_run_trains_no_more(tmp_path, problem):
    ckpt = tmp_path / "ck"
    model, *_ = _run(problem, 2, True, ckpt=ckpt)
    again, _, _, hist = _run(problem, 2, True, ckpt=ckpt, resume=ckpt, seed=5)
    assert len(hist) == 2
    for k, v in _state(model).items():
        assert np.array_equal(v, _state(again)[k])


def test_resume_keeps_early_stopping_state(tmp_path, problem):
    ckpt = tmp_path / "ck"
    es = EarlyStopping(patience=3)
    _run(problem, 2, True, ckpt=ckpt, callbacks=[es])
    es2 = EarlyStopping(patience=3)
    _run(problem, 3, True, ckpt=ckpt, resume=ckpt, callbacks=[es2])
    assert es2.best_epoch >= 0 and es2.best == pytest.approx(min(es.best, es2.best))
    # a run that stopped early stays stopped when resumed
    ck2 = tmp_path / "ck2"
    stopper = EarlyStopping(patience=0, min_delta=100.0)
    _, _, _, h = _run(problem, 5, True, ckpt=ck2, callbacks=[stopper])
    assert len(h) == 2
    _, _, _, h2 = _run(problem, 5, True, ckpt=ck2, resume=ck2, callbacks=[EarlyStopping(patience=0, min_delta=100.0)])
    assert len(h2) == 2


def test_resume_appends_to_csv(tmp_path, problem):
    ckpt, log = tmp_path / "ck", tmp_path / "log.csv"
    _run(problem, 2, True, ckpt=ckpt, callbacks=[CSVLogger(log)])
    _run(problem, 3, True, ckpt=ckpt, resume=ckpt, callbacks=[CSVLogger(log)])
    rows = list(csv.reader(log.open()))
    assert [r[0] for r in rows] == ["epoch", "1", "2", "3"]


def test_interrupted_checkpoint_save_keeps_previous(tmp_path, problem, monkeypatch):
    """If the process fails while writing epoch 2's checkpoint, epoch 1's stays complete and loadable."""
    ckpt = tmp_path / "ck"
    calls = {"n": 0}
    real_replace = os.replace

    def flaky_replace(src, dst):
        if str(dst).endswith("checkpoint.json"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError("power cut (simulated)")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OSError, match="simulated"):
        _run(problem, 3, True, ckpt=ckpt)
    monkeypatch.setattr(os, "replace", real_replace)
    ck = load_checkpoint(ckpt)
    assert ck["epoch"] == 0
    assert not [p for p in ckpt.iterdir() if p.name.endswith(".tmp")]
    # and training resumes from it, ending where an uninterrupted run ends
    resumed, *_ = _run(problem, 3, True, ckpt=ckpt, resume=ckpt, seed=3)
    straight, *_ = _run(problem, 3, True)
    for k, v in _state(straight).items():
        assert np.array_equal(v, _state(resumed)[k])


def test_resume_from_missing_checkpoint_errors(tmp_path, problem):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        _run(problem, 2, True, resume=tmp_path / "nothing")


def test_resume_of_a_finished_run_removes_a_stale_tensor_file(tmp_path, problem):
    # a kill between the final save's JSON replace and its removal of the previous tensor file leaves that file;
    # the resumed run trains no more epochs (so saves nothing) but must still leave the folder as a clean run would
    ckpt = tmp_path / "ck"
    _run(problem, 2, True, ckpt=ckpt)
    clean = sorted(p.name for p in ckpt.iterdir())
    stale = ckpt / "checkpoint.0123456789abcdef.safetensors"
    stale.write_bytes(b"old tensors")
    keep = ckpt / "checkpoint.notahash.safetensors"  # not a name save_checkpoint writes: left alone
    keep.write_bytes(b"x")
    _run(problem, 2, True, ckpt=ckpt, resume=ckpt)
    assert not stale.exists() and keep.exists()
    keep.unlink()
    assert sorted(p.name for p in ckpt.iterdir()) == clean
