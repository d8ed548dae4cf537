"""``gradlab train`` when training diverges: one-line error and status 1 by default, ``--on-nan``, strict JSON."""

from __future__ import annotations

import json

import pytest

from gradlab.cli import main

from .conftest import TOY_TRAIN


def _strict(path):
    return json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{path.name}: bare {c} in JSON"))


def test_divergence_is_an_error_and_nothing_nonfinite_is_saved(toy_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    code = main([*TOY_TRAIN, "--optimizer", "sgd", "--lr", "1e39", "--epochs", "1", "--batch-size", "1000",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and "RuntimeWarning" not in err
    assert "gradlab train: error: parameter '" in lines[0] and "after epoch 1 (step 1)" in lines[0]
    assert not (out / "weights.safetensors").exists() and not (out / "checkpoint").exists()


def test_on_nan_stop_finishes_with_the_last_good_epoch(toy_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    code = main([*TOY_TRAIN, "--optimizer", "sgd", "--lr", "1e39", "--on-nan", "stop", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1 and "no checkpoint to go back to" in captured.err  # diverged in the very first epoch
    code = main([*TOY_TRAIN, "--on-nan", "skip-batch", "--out", str(tmp_path / "skip")])
    assert code == 0
    assert _strict(tmp_path / "skip" / "history.json")["history"]["skipped_batches"] == [0, 0]


def test_results_json_is_strict_with_a_nan_test_loss(toy_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    code = main([*TOY_TRAIN, "--dataset", "toy-nan", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "RuntimeWarning" not in captured.err
    results = _strict(out / "results.json")
    assert results["test_loss"] is None and results["nonfinite"] == {"test_loss": "nan"}
    _strict(out / "history.json")
    _strict(out / "config.json")
