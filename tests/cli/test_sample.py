"""``gradlab sample``: bad arguments exit 2 naming the flag; the text is streamed as it is generated."""

from __future__ import annotations

import io
import sys

import pytest

from gradlab.cli import main

TEXT = "In the beginning God created the heaven and the earth.\n" * 20


@pytest.fixture(scope="module")
def char_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("char")
    (folder / "t.txt").write_text(TEXT, encoding="utf-8")
    out = folder / "run"
    assert main(["train", "--model", "charlstm", "--text", str(folder / "t.txt"), "--hidden", "8", "--epochs", "1",
                 "--seq-len", "16", "--embedding-dim", "4", "--no-progress", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--temperature", "nan"], "--temperature must be a finite number, got 'nan'"),
    (["--temperature", "inf"], "--temperature must be a finite number"),
    (["--temperature", "0"], "--temperature must be > 0"),
    (["--temperature", "-1"], "--temperature must be > 0"),
    (["--temperature", "warm"], "--temperature must be a number"),
    (["--seed", "-1"], "--seed must be >= 0, got -1"),
    (["--seed", "1.5"], "--seed must be an integer"),
    (["--length", "-1"], "--length must be >= 0"),
    (["--length", "100000000"], "--length must be >= 0 and <= 1e+06, got 100000000"),
    (["--top-k", "0"], "--top-k must be >= 1"),
])
def test_bad_arguments_exit_2_naming_the_flag(char_run, capsys, argv, fragment):
    assert main(["sample", str(char_run), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and lines[0].startswith("gradlab sample: error:"), captured.err


def test_the_longest_length_is_accepted_by_the_parser():
    from gradlab.cli import build_parser

    args = build_parser().parse_args(["sample", "x", "--length", "1000000"])
    assert args.length == 1_000_000


def test_a_file_instead_of_a_run_folder(char_run, capsys):
    assert main(["sample", str(char_run / "config.json")]) == 2
    err = capsys.readouterr().err
    assert "is a file: expected a run folder written by 'gradlab train --model charlstm|transformer'" in err


class _Recorder(io.StringIO):
    def __init__(self):
        super().__init__()
        self.flushes = []

    def flush(self):
        self.flushes.append(len(self.getvalue()))
        super().flush()


def test_output_is_streamed_and_equals_the_whole_sample(char_run, monkeypatch):
    from gradlab.train.charlm import sample_run

    rec = _Recorder()
    monkeypatch.setattr(sys, "stdout", rec)
    assert main(["sample", str(char_run), "--prompt", "In", "--length", "400", "--seed", "3"]) == 0
    text = rec.getvalue()
    assert text == sample_run(char_run, "In", 400, 0.8, seed=3) + "\n"
    written = sorted(set(rec.flushes))
    assert len(written) >= 400 // 64 and written[0] < 100  # flushed in pieces from the start, not once at the end
