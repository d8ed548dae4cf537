"""``gradlab tune`` on Optuna: search spaces (files and flags, clear errors), workers sharing one stored study, a
killed worker's trial marked failed, ``--resume``, cross-validation, and the reported ``gradlab train`` command."""

from __future__ import annotations

import multiprocessing as mp
import os
import shlex
import signal
import time

import numpy as np
import pytest

pytest.importorskip("optuna")

from gradlab.train import experiment  # noqa: E402
from gradlab.train.search_space import check_space, load_space, parse_range  # noqa: E402
from gradlab.train.tune import STUDY_NAME, _worker, open_storage, run_tune  # noqa: E402

SIZE = {"n": 240}


def _toy(train=True, root=None):
    rng = np.random.default_rng(0 if train else 1)
    centres = np.random.default_rng(42).normal(0, 2.5, size=(3, 8))
    y = rng.integers(0, 3, size=SIZE["n"] if train else 90)
    x = (centres[y] + rng.normal(size=(len(y), 8))).astype(np.float32)
    return x, y.astype(np.int64), {"input_shape": [8], "num_classes": 3}


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(experiment.DATASETS, "toy-tune", _toy)
    SIZE["n"] = 240
    return experiment.make_config(dataset="toy-tune", hidden=(16,), epochs=2, batch_size=32)


SPACE = {"lr": {"type": "loguniform", "low": 1e-3, "high": 1e-1},
         "hidden": {"type": "categorical", "choices": ["8", "16", "16,16"]}}


def _load(out):
    import optuna

    return optuna.load_study(study_name=STUDY_NAME, storage=open_storage(out, None, 1))


def test_two_workers_lose_no_trial_and_run_none_twice(tmp_path, toy):
    res = run_tune(tmp_path / "s", toy, SPACE, trials=6, workers=2, heartbeat=1, log=None)
    trials = _load(tmp_path / "s").trials
    assert sorted(t.number for t in trials) == list(range(6))
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    pids = {t.user_attrs["worker_pid"] for t in trials}
    assert len(pids) == 2 and os.getpid() not in pids
    assert len({(t.params["lr"], t.params["hidden"]) for t in trials}) == 6  # two workers never drew the same trial
    assert res["command"].startswith("gradlab train --dataset toy-tune") and res["states"]["COMPLETE"] >= 1
    for name in ("best.json", "trials.csv", "history.png", "lr.png", "tune.json"):
        assert (tmp_path / "s" / name).is_file(), name


def test_killed_worker_trial_is_marked_failed_and_the_study_continues(tmp_path, toy):
    out = tmp_path / "s"
    run_tune(out, toy, SPACE, trials=2, heartbeat=1, log=None)
    from gradlab.train.jsonfile import read_json

    settings = read_json(out / "tune.json")
    SIZE["n"] = 300_000  # the next trial is slow: it is killed while running
    proc = mp.get_context("fork").Process(target=_worker, args=(out, settings, 1, 1, None))
    proc.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(t.state.name == "RUNNING" for t in _load(out).trials):
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert [t.state.name for t in _load(out).trials] == ["COMPLETE", "COMPLETE", "RUNNING"] or \
        sorted(t.state.name for t in _load(out).trials)[-1] == "RUNNING"
    SIZE["n"] = 240
    time.sleep(2.5)  # past the grace period (2 heartbeats)
    run_tune(out, toy, SPACE, trials=3, resume=True, log=None)
    states = {t.number: t.state.name for t in _load(out).trials}
    assert states[2] == "FAIL"
    assert sorted(states) == [0, 1, 2, 3] and states[3] in ("COMPLETE", "PRUNED")


def test_resume_picks_up_the_stored_study(tmp_path, toy):
    out = tmp_path / "s"
    run_tune(out, toy, SPACE, trials=2, heartbeat=1, log=None)
    first = [(t.number, t.params, t.value) for t in _load(out).trials]
    with pytest.raises(FileExistsError, match="--resume"):
        run_tune(out, toy, SPACE, trials=3, log=None)
    res = run_tune(out, toy, {"lr": {"type": "float", "low": 0.5, "high": 0.6}}, trials=4, resume=True, log=None)
    trials = _load(out).trials
    assert [(t.number, t.params, t.value) for t in trials[:2]] == first
    assert len(trials) == 4 and all(0.001 <= t.params["lr"] <= 0.1 for t in trials)  # the stored space
    assert len(res["trials"]) == 4
    with pytest.raises(FileNotFoundError, match="no tune.json"):
        run_tune(tmp_path / "other", toy, SPACE, resume=True, log=None)


def test_cross_validation_reports_every_fold_epoch(tmp_path, toy):
    run_tune(tmp_path / "s", toy, {"lr": SPACE["lr"]}, trials=2, cv=3, log=None)
    t = _load(tmp_path / "s").trials[0]
    assert sorted(t.intermediate_values) == list(range(6))  # 3 folds x 2 epochs
    assert t.value == pytest.approx(np.mean([t.intermediate_values[s] for s in (1, 3, 5)]))


@pytest.mark.parametrize("text, match", [
    ('[lr]\ntype = "loguniform"\nlow = 0.1\nhigh = 0.01\n', "'lr': low"),
    ('[lr]\ntype = "loguniform"\nlow = 0\nhigh = 0.01\n', "'lr': a log scale needs low > 0"),
    ('[learning_rate]\ntype = "float"\nlow = 0.1\nhigh = 1\n', "'learning_rate' is not a tunable option"),
    ('[dropout]\ntype = "float"\nlow = 0.1\n', "'dropout': missing high"),
    ('[batch_size]\ntype = "categorical"\nchoices = []\n', "'batch_size': categorical needs"),
    ('[hidden]\ntype = "categorical"\nchoices = ["12,x"]\n', "'hidden': hidden sizes"),
    ('[lr]\ntype = "gaussian"\n', "'lr': type must be"),
    ('[lr]\ntype = "float"\nlow = 0.1\nhigh = 1\nstep = 2\n', "'lr': unknown field"),
    ('[lr\n', "not valid TOML"),
])
def test_bad_search_space_files_name_the_key(tmp_path, text, match):
    path = tmp_path / "space.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_space(path)


def test_space_flags_and_cli(tmp_path, toy, capsys):
    from gradlab.cli import build_parser, main

    assert parse_range("16|32,32", "hidden")["choices"] == ["16", "32,32"]
    with pytest.raises(ValueError, match="--lr"):
        parse_range("abc", "lr")
    assert check_space({"epochs": {"type": "int", "low": 1, "high": 3}})["epochs"]["type"] == "int"
    bad = tmp_path / "bad.toml"
    bad.write_text('[lr]\ntype = "float"\nlow = 1\nhigh = 0.5\n')
    assert main(["tune", "--dataset", "toy-tune", "--space", str(bad), "--out", str(tmp_path / "x")]) == 1
    assert "'lr': low (1) must be below high (0.5)" in capsys.readouterr().err
    assert main(["tune", "--dataset", "toy-tune", "--lr", "1e-3:1e-1", "--hidden", "8|16", "--trials", "2",
                 "--epochs", "1", "--sampler", "tpe", "--out", str(tmp_path / "t")]) == 0
    text = capsys.readouterr().out
    command = next(line.strip() for line in text.splitlines() if line.strip().startswith("gradlab train"))
    args = build_parser().parse_args(shlex.split(command)[1:])  # the printed command line is a valid one
    assert args.dataset == "toy-tune" and args.epochs == 1 and args.hidden in ((8,), (16,))
