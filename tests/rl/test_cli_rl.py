"""``gradlab rl train|play``: a tiny run writes the run folder and plays back; resume continues; bad arguments exit 2
naming the flag."""
from __future__ import annotations

import json

import pytest

from gradlab.cli import main
from gradlab.train.jsonfile import read_json


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rl") / "run"
    assert main(["rl", "train", "--algo", "reinforce", "--out", str(out), "--steps", "300", "--hidden", "8",
                 "--checkpoint-every", "100", "--quiet"]) == 0
    return out


def test_train_writes_the_run_folder(run):
    names = sorted(p.name for p in run.iterdir())
    assert names == ["checkpoint", "config.json", "curves.png", "history.json", "results.json", "weights.safetensors"]
    config = read_json(run / "config.json")
    assert (config["algo"], config["env"], config["hyper"]["hidden"]) == ("reinforce", "CartPole-v1", [8])
    history = json.loads((run / "history.json").read_text())  # strict JSON
    assert len(history["episode_return"]) == len(history["episode_end_step"]) > 0
    assert history["episode_end_step"][-1] >= 300
    assert read_json(run / "results.json")["steps"] == history["episode_end_step"][-1]


def test_play_prints_the_returns(run, capsys):
    assert main(["rl", "play", str(run), "--episodes", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("episode 1: return ") and out[-1].startswith("mean return over 3 episodes:")


def test_record_without_its_dependencies_says_what_to_install(run, capsys, monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "moviepy", None)
    assert main(["rl", "play", str(run), "--episodes", "1", "--record", str(tmp_path / "v")]) == 1
    assert "cannot record: recording a video needs moviepy" in capsys.readouterr().err


def test_resume_continues_and_a_taken_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["rl", "train", "--algo", "dqn", "--out", str(out), "--hidden", "8", "--quiet"]
    assert main([*args, "--steps", "100"]) == 0
    first = read_json(out / "history.json")
    assert main([*args, "--steps", "100"]) == 2
    assert "continue it with --resume" in capsys.readouterr().err
    assert main(["rl", "train", "--out", str(out), "--steps", "200", "--resume", "--quiet"]) == 0
    second = read_json(out / "history.json")
    assert second["episode_return"][:len(first["episode_return"])] == first["episode_return"]
    assert second["episode_end_step"][-1] >= 200
    assert main(["rl", "train", "--algo", "a2c", "--out", str(out), "--steps", "300", "--resume"]) == 2
    assert "--algo a2c does not match the run being resumed (dqn)" in capsys.readouterr().err
    assert main(["rl", "train", "--out", str(out), "--steps", "300", "--resume", "--lr", "0.1"]) == 2
    assert "--lr cannot change when resuming" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "fragment"), [
    (["train", "--out", "X", "--steps", "0"], "--steps must be >= 1"),
    (["train", "--out", "X", "--seed", "-2"], "--seed must be >= 0"),
    (["train", "--out", "X", "--lr", "nan"], "--lr must be a finite number"),
    (["train", "--out", "X", "--gamma", "1.5"], "--gamma must be >= 0 and <= 1"),
    (["train", "--out", "X", "--algo", "ppo"], "argument --algo: invalid choice: 'ppo'"),
    (["train", "--out", "X", "--env", "NoSuchEnv-v0"], "--env: unknown environment 'NoSuchEnv-v0'"),
    (["train", "--out", "X", "--env", "Pendulum-v1"], "--algo dqn needs a discrete action space; Pendulum-v1"),
    (["train", "--out", "X", "--num-envs", "4"], "--num-envs applies to --algo a2c only"),
    (["train"], "the following arguments are required: --out"),
    (["play", "NOPE"], "run folder 'NOPE' does not exist"),
    (["play", "NOPE", "--episodes", "0"], "--episodes must be >= 1"),
    ([], "a subcommand is required (train, play)"),
])
def test_bad_arguments_exit_2_naming_the_flag(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["rl", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and lines[0].startswith("gradlab rl"), captured.err
    assert not (tmp_path / "X").exists()
