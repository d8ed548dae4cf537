"""``gradlab train`` and its run folder: everything is checked before ``--out`` is touched; a non-empty folder
needs ``--resume`` or ``--overwrite``; a failed run leaves an existing folder as it was."""

from __future__ import annotations

import json

import pytest

from gradlab.cli import main

from .conftest import TOY_TRAIN


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line_error(capsys):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def finished(toy_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TOY_TRAIN, "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def test_a_finished_run_is_not_overwritten_silently(finished, capsys):
    before = _snapshot(finished)
    assert main([*TOY_TRAIN, "--out", str(finished), "--lr", "0.01"]) == 2
    line = _one_line_error(capsys)
    assert "not empty (it holds a finished run)" in line and "--resume" in line and "--overwrite" in line
    assert _snapshot(finished) == before


def test_overwrite_replaces_the_run(finished, capsys):
    old_config = json.loads((finished / "config.json").read_text())
    (finished / "notes.txt").write_text("mine")
    assert main([*TOY_TRAIN, "--out", str(finished), "--overwrite", "--epochs", "1"]) == 0
    capsys.readouterr()
    assert json.loads((finished / "config.json").read_text())["epochs"] == 1 != old_config["epochs"]
    assert json.loads((finished / "history.json").read_text())["epoch"] == [0]
    assert (finished / "notes.txt").read_text() == "mine"  # not a run file: kept
    assert main([*TOY_TRAIN, "--out", str(finished), "--overwrite", "--resume"]) == 2
    assert "--resume and --overwrite" in _one_line_error(capsys)


def test_a_folder_with_other_files_is_refused(toy_dataset, tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    for extra in ([], ["--resume"]):
        assert main([*TOY_TRAIN, "--out", str(tmp_path), *extra]) == 2
        _one_line_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--limit", "10", "--val-split", "0.95"], "val_split 0.95 holds out 10 of the 10 training samples for "
                                               "validation, leaving none to train on"),
    (["--limit", "100000"], "limit 100000 is more than the 240 training samples of toy"),
    (["--model", "lenet5"], "the model 'lenet5' does not fit the inputs of toy"),
])
def test_validation_failures_touch_nothing(finished, tmp_path, capsys, argv, fragment):
    new = tmp_path / "new"
    assert main([*TOY_TRAIN, "--out", str(new), *argv]) == 1
    assert fragment in _one_line_error(capsys)
    assert not new.exists()  # not even created
    before = _snapshot(finished)
    assert main([*TOY_TRAIN, "--out", str(finished), "--overwrite", *argv]) == 1
    assert fragment in _one_line_error(capsys)
    assert _snapshot(finished) == before  # the earlier run is intact


def test_a_failed_resume_leaves_the_folder_as_it_was(finished, capsys):
    before = _snapshot(finished)
    assert main([*TOY_TRAIN, "--out", str(finished), "--resume", "--epochs", "3", "--dataset", "toy-nan",
                 "--optimizer", "sgd", "--lr", "1e39"]) == 0  # the saved config wins: a normal continuation
    capsys.readouterr()
    after = _snapshot(finished)
    assert json.loads(after["config.json"])["epochs"] == 3
    (finished / "config.json").write_bytes(before["config.json"])
    # a resume that cannot start (its data is gone) changes nothing
    from gradlab.train import experiment

    saved = experiment.DATASETS["toy"]
    experiment.DATASETS["toy"] = lambda train=True, root=None: (_ for _ in ()).throw(FileNotFoundError("gone"))
    try:
        snap = _snapshot(finished)
        assert main([*TOY_TRAIN, "--out", str(finished), "--resume", "--epochs", "5"]) == 1
        assert "gone" in _one_line_error(capsys)
        assert _snapshot(finished) == snap
    finally:
        experiment.DATASETS["toy"] = saved


def test_config_json_appears_only_when_training_starts(toy_dataset, tmp_path, capsys, monkeypatch):
    from gradlab.train import experiment

    seen = {}
    real_fit = experiment.fit

    def spy(*args, **kw):
        seen["config"] = (tmp_path / "run" / "config.json").is_file()
        return real_fit(*args, **kw)

    monkeypatch.setattr(experiment, "fit", spy)
    assert main([*TOY_TRAIN, "--out", str(tmp_path / "run")]) == 0
    assert seen == {"config": True}


def test_resume_cleans_orphan_temporary_files(finished, capsys):
    (finished / ".history.json.tmp4242").write_text("{half")
    (finished / ".curves.tmp4242.png").write_bytes(b"\x89PNG")
    assert main([*TOY_TRAIN, "--out", str(finished), "--resume", "--epochs", "3"]) == 0
    assert not [p.name for p in finished.iterdir() if ".tmp" in p.name]


def test_resume_with_a_corrupt_config_names_the_file(finished, capsys):
    (finished / "config.json").write_text('{"dataset": "toy", "model": ')
    before = _snapshot(finished)
    assert main([*TOY_TRAIN, "--out", str(finished), "--resume", "--epochs", "3"]) == 2
    line = _one_line_error(capsys)
    assert str(finished / "config.json") in line and "not valid JSON" in line
    (finished / "config.json").write_text('[1, 2]')
    assert main([*TOY_TRAIN, "--out", str(finished), "--resume", "--epochs", "3"]) == 2
    assert "is not a gradlab train config" in _one_line_error(capsys)
    assert _snapshot(finished) == {**before, "config.json": b"[1, 2]"}


def test_charlstm_run_folder_rules(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("abcdefghij" * 30, encoding="utf-8")
    out = tmp_path / "char"
    base = ["train", "--model", "charlstm", "--text", str(text), "--hidden", "8", "--epochs", "1",
            "--embedding-dim", "4", "--no-progress", "--out", str(out)]
    assert main([*base, "--seq-len", "400"]) == 1  # the text is too short for the windows
    assert "too short" in _one_line_error(capsys)
    assert not out.exists()
    assert main([*base, "--seq-len", "20"]) == 0
    capsys.readouterr()
    before = _snapshot(out)
    assert main([*base, "--seq-len", "20"]) == 2
    assert "--overwrite" in _one_line_error(capsys)
    assert main([*base, "--seq-len", "400", "--overwrite"]) == 1
    capsys.readouterr()
    assert _snapshot(out) == before
