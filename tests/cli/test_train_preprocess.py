"""``gradlab train --normalize ... --augment ...``: statistics of the training split kept in the run's config and
applied again at evaluation; augmentation seeded by the run, so an interrupted run resumes bit-identically."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from gradlab.cli import main
from gradlab.train.experiment import evaluate_run
from tests.cli.test_cli import needs_mnist

BASE = ["--limit", "300", "--hidden", "16", "--batch-size", "50", "--no-progress"]


@needs_mnist
@pytest.mark.parametrize("normalize", ["auto", "mean-image", "none", "0.2,0.3"])
def test_normalize_is_stored_and_applied_again_by_evaluate(tmp_path, normalize):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--epochs", "1", "--normalize", normalize, *BASE]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["normalize"] == normalize
    stats = config.get("normalize_stats")
    if normalize == "none":
        assert stats is None
    elif normalize == "mean-image":
        assert stats["kind"] == "image" and np.asarray(stats["mean"]).shape == (1, 28, 28)
    else:
        assert stats["kind"] == "channel" and len(stats["mean"]) == 1
        if normalize == "0.2,0.3":
            assert stats == {"kind": "channel", "mean": [0.2], "std": [0.3]}
    results = json.loads((out / "results.json").read_text())
    again = evaluate_run(out)  # evaluation normalises the test set as training did
    assert again["test_accuracy"] == pytest.approx(results["test_accuracy"], abs=1e-12)
    assert again["test_loss"] == pytest.approx(results["test_loss"], rel=1e-5)


@needs_mnist
def test_augmented_run_resumes_bit_identically(tmp_path):
    straight, resumed = tmp_path / "a", tmp_path / "b"
    opts = ["--augment", "crop:2,flip,affine:10", "--normalize", "auto", *BASE]
    assert main(["train", "--out", str(straight), "--epochs", "2", *opts]) == 0
    assert main(["train", "--out", str(resumed), "--epochs", "1", *opts]) == 0
    assert main(["train", "--out", str(resumed), "--epochs", "2", "--resume", *opts]) == 0
    digest = [hashlib.sha256((d / "weights.safetensors").read_bytes()).hexdigest() for d in (straight, resumed)]
    assert digest[0] == digest[1]
    assert json.loads((straight / "config.json").read_text())["augment"] == "crop:2,flip,affine:10"


@needs_mnist
def test_augmentation_changes_the_training_batches(tmp_path):
    plain, augmented = tmp_path / "p", tmp_path / "a"
    assert main(["train", "--out", str(plain), "--epochs", "1", *BASE]) == 0
    assert main(["train", "--out", str(augmented), "--epochs", "1", "--augment", "crop,flip", *BASE]) == 0
    assert (plain / "weights.safetensors").read_bytes() != (augmented / "weights.safetensors").read_bytes()


@pytest.mark.parametrize("flag, value, words", [
    ("--augment", "crop,bogus", "unknown augmentation 'bogus'"),
    ("--normalize", "zscore", "expected one of dataset, auto, mean-image, none"),
    ("--normalize", "0.5,-1", "MEAN,STD"),
])
def test_bad_preprocessing_flags_exit_2_naming_the_flag(tmp_path, capsys, flag, value, words):
    assert main(["train", "--out", str(tmp_path / "r"), flag, value]) == 2
    err = capsys.readouterr().err
    assert flag in err and words in err
    assert not (tmp_path / "r").exists()
