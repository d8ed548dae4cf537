"""The gradlab command line: train/evaluate on a tiny MNIST subset, --help, one-line errors with status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradlab.cli import COMMANDS, build_parser, main

REPO = Path(__file__).resolve().parents[2]


def _mnist_available() -> bool:
    try:
        from gradlab.data.datasets import MNIST

        MNIST(train=False, download=False)
        return True
    except (FileNotFoundError, ImportError):
        return False


needs_mnist = pytest.mark.skipif(not _mnist_available(), reason="MNIST files not available")


@needs_mnist
def test_train_writes_run_folder_and_evaluate_reads_it(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--dataset", "mnist", "--limit", "500", "--epochs", "2", "--hidden", "32",
                 "--dropout", "0.1", "--batch-size", "32", "--lr", "3e-3", "--val-split", "0.2", "--out", str(out),
                 "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    for name in ("weights.safetensors", "history.json", "curves.png", "config.json", "results.json"):
        assert (out / name).is_file(), name
    assert (out / "checkpoint" / "checkpoint.json").is_file()
    assert "test accuracy:" in captured.out and "epoch 2/2: loss=" in captured.out
    acc = float(captured.out.split("test accuracy:")[1].split()[0])
    assert 0.5 < acc <= 1.0
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "mlp" and config["model_kwargs"]["hidden"] == [32] and config["limit"] == 500
    hist = json.loads((out / "history.json").read_text())
    assert hist["epoch"] == [0, 1] and {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(hist["history"])

    code = main(["evaluate", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"test accuracy {acc:.4f}" in captured.out and "10000 images" in captured.out

    # --resume continues the same run up to the new --epochs
    code = main(["train", "--out", str(out), "--resume", "--epochs", "3", "--no-progress", "--lr", "0.5"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "ignoring the differing --lr" in captured.err.splitlines()[-1]
    assert "epoch 3/3: loss=" in captured.out and "epoch 2/3" not in captured.out
    assert json.loads((out / "history.json").read_text())["epoch"] == [0, 1, 2]
    assert json.loads((out / "config.json").read_text())["epochs"] == 3


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["train", "--dataset", "cifar"], "invalid choice: 'cifar'"),
        (["train", "--lr", "-1"], "--lr must be > 0"),
        (["train", "--lr", "0"], "--lr must be > 0"),
        (["train", "--lr", "fast"], "--lr must be a number"),
        (["train", "--hidden", "512,abc"], "--hidden must be comma-separated"),
        (["train", "--hidden", "512,-3"], "--hidden sizes must be positive"),
        (["train", "--dropout", "1.5"], "--dropout must be >= 0 and < 1"),
        (["train", "--epochs", "0"], "--epochs must be >= 1"),
        (["train", "--batch-size", "2.5"], "--batch-size must be an integer"),
        (["train", "--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
        (["train", "--momentum", "-0.5"], "--momentum must be >= 0"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["evaluate"], "the following arguments are required: RUN_DIR"),
        (["evaluate", "/nonexistent/run/dir"], "does not exist"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "a command is required"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, fragment, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert fragment in lines[0] and "error" in lines[0]


def test_evaluate_on_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "no config.json" in capsys.readouterr().err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_is_complete(command, capsys):
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices[command]
    for action in sub._actions:
        for opt in action.option_strings:
            assert opt in text, opt
        if action.help and action.help != "==SUPPRESS==":
            assert action.help.split()[0] in text


def test_top_level_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in COMMANDS)


def test_train_help_mentions_every_requested_flag(capsys):
    main(["train", "--help"])
    text = capsys.readouterr().out
    for flag in ("--dataset", "--model", "--hidden", "--activation", "--dropout", "--optimizer", "--lr", "--momentum",
                 "--weight-decay", "--epochs", "--batch-size", "--seed", "--val-split", "--limit", "--out",
                 "--resume", "--no-progress", "--data-dir"):
        assert flag in text
    assert "fashion-mnist" in text and "adamw" in text


def test_runtime_failure_exits_1(tmp_path, capsys):
    """A failure while running (here: dataset files missing) is one clean error line and status 1."""
    from gradlab.train import experiment

    def broken(train=True, root=None):
        raise FileNotFoundError("dataset files not found (simulated)")

    experiment.register_dataset("mnist-broken", broken)  # --dataset choices are read when the parser is built
    try:
        assert main(["train", "--dataset", "mnist-broken", "--out", str(tmp_path / "r"), "--no-progress"]) == 1
    finally:
        del experiment.DATASETS["mnist-broken"]
    err = capsys.readouterr().err
    assert "error: dataset files not found (simulated)" in err and "Traceback" not in err


def test_module_entry_point_subprocess():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "gradlab", "train", "--hidden", "1,x"], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "gradlab train: error: argument --hidden: --hidden must be comma-separated " \
                                  "positive integers like 512,512, got '1,x'"
    assert "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "gradlab", "--version"], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("gradlab ")


def test_console_script_if_installed():
    script = Path(sys.executable).with_name("gradlab")
    if not script.exists():
        pytest.skip("the gradlab console script is not installed in this environment")
    proc = subprocess.run([str(script), "evaluate", "/nonexistent"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "gradlab evaluate: error: run folder '/nonexistent' does not exist"


def test_train_device_flag_is_checked_before_the_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    for dev, words in (("tpu", "unknown device type"), ("cuda:x", "must be a number")):
        assert main(["train", "--device", dev, "--out", str(out), "--limit", "100", "--epochs", "1"]) == 2
        err = capsys.readouterr().err
        assert f"--device {dev}" in err and words in err
    assert not out.exists()


def test_train_device_cuda_without_cupy_names_what_to_install(tmp_path, capsys):
    import importlib.util

    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here: the no-CuPy message cannot be shown")
    assert main(["train", "--device", "cuda", "--out", str(tmp_path / "r"), "--limit", "100"]) == 2
    assert "gradlab[cuda]" in capsys.readouterr().err


def test_train_on_device_cpu_explicitly(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--device", "cpu", "--out", str(out), "--limit", "200", "--epochs", "1", "--hidden", "16",
                 "--no-progress"]) == 0
    assert (out / "weights.safetensors").is_file()
