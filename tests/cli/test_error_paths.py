"""Clean error paths of the commands: what a wrong path or a damaged run says; no numpy RuntimeWarning leaks."""

from __future__ import annotations

import warnings

import pytest

from gradlab.cli import main

from .conftest import TOY_TRAIN


@pytest.fixture
def run(toy_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TOY_TRAIN, "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def _line(capsys):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_evaluate_a_file_says_a_run_folder_was_expected(run, capsys):
    assert main(["evaluate", str(run / "weights.safetensors")]) == 2
    line = _line(capsys)
    assert "is a file: expected a run folder written by 'gradlab train' (its --out)" in line
    assert "does not exist" not in line


def test_evaluate_a_damaged_config_names_the_file(run, capsys):
    assert main(["evaluate", str(run)]) == 0
    capsys.readouterr()
    (run / "config.json").write_text("{not json")
    assert main(["evaluate", str(run)]) == 1
    assert f"{run / 'config.json'} is not valid JSON" in _line(capsys)
    (run / "config.json").write_text('"just a string"')
    assert main(["evaluate", str(run)]) == 1
    assert "is not a gradlab train config" in _line(capsys)


def test_val_split_that_leaves_nothing_to_train_on(toy_dataset, tmp_path, capsys):
    assert main([*TOY_TRAIN, "--limit", "3", "--val-split", "0.9", "--out", str(tmp_path / "r")]) == 1
    line = _line(capsys)
    assert "leaving none to train on" in line and "num_samples" not in line


def test_no_runtime_warning_reaches_the_user(toy_dataset, tmp_path, capsys):
    """A diverging run overflows in numpy (exp, matmul, casts): the user sees the one-line error, not warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main([*TOY_TRAIN, "--optimizer", "sgd", "--lr", "1e30", "--epochs", "3", "--out",
                     str(tmp_path / "r")])
        assert main([*TOY_TRAIN, "--dataset", "toy-nan", "--out", str(tmp_path / "n")]) == 0
    assert code == 1
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert "RuntimeWarning" not in capsys.readouterr().err
