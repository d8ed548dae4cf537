"""``gradlab train --distributed``: two ranks under ``mpiexec`` (started here, bounded in time, skipped with the
reason when MPI or MNIST is missing) write the run folder of a one-process run plus ``distributed.json``; a
non-empty ``--out`` is refused before anything is written, with one line; ``--resume`` continues with the same
number of ranks and refuses another. The option checks run in-process, without MPI."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gradlab.cli import main
from tests.distributed.launcher import ROOT, mpiexec_command, why_not

TINY = ["--limit", "400", "--epochs", "1", "--hidden", "16", "--batch-size", "32", "--no-progress"]


def _mnist_missing() -> str | None:
    try:
        from gradlab.data.datasets import MNIST

        MNIST(train=True, download=False)
    except (FileNotFoundError, ImportError) as e:
        return f"MNIST is not available: {e}"
    return None


def _train(n: int, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    cmd, env = mpiexec_command(n)
    cmd += [sys.executable, "-m", "gradlab", "train", "--distributed", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(ROOT))


def _error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("gradlab train: error:")]


@pytest.mark.skipif(why_not() is not None or _mnist_missing() is not None,
                    reason=f"skipped: {why_not() or _mnist_missing()}")
def test_two_ranks_write_the_run_folder_refuse_a_used_out_and_resume(tmp_path):
    out = tmp_path / "run"
    proc = _train(2, *TINY, "--check-weights", "--out", str(out))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.count("test accuracy:") == 1  # rank 0 alone prints the results
    assert "over 2 rank(s) (batch 16 per rank, 32 global)" in proc.stdout
    for name in ("weights.safetensors", "config.json", "history.json", "results.json", "distributed.json",
                 "checkpoint"):
        assert (out / name).exists(), name
    assert json.loads((out / "distributed.json").read_text()) == {"world_size": 2, "per_rank_batch_size": 16}
    results = json.loads((out / "results.json").read_text())
    assert results["world_size"] == 2 and results["epochs"] == 1 and 0.0 <= results["test_accuracy"] <= 1.0
    config = json.loads((out / "config.json").read_text())
    assert config["batch_size"] == 32 and config["limit"] == 400  # the global batch, as a one-process run's
    assert len(json.loads((out / "history.json").read_text())["history"]["loss"]) == 1

    used = tmp_path / "used"  # a folder with someone's file: refused before anything is written, in one line
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    refused = _train(2, *TINY, "--out", str(used))
    assert refused.returncode != 0
    assert len(_error_lines(refused)) == 1 and "is not empty" in refused.stderr, refused.stderr
    assert sorted(p.name for p in used.iterdir()) == ["notes.txt"]

    other_n = _train(1, *TINY, "--out", str(out), "--resume")  # the shards depend on N: refused, one line
    assert other_n.returncode != 0
    assert len(_error_lines(other_n)) == 1 and "same number (mpiexec -n 2)" in other_n.stderr, other_n.stderr

    weights = (out / "weights.safetensors").read_bytes()
    resumed = _train(2, *TINY, "--epochs", "2", "--out", str(out), "--resume")  # the last --epochs counts
    assert resumed.returncode == 0, f"{resumed.stdout}\n{resumed.stderr}"
    assert "resuming from" in resumed.stdout and resumed.stdout.count("test accuracy:") == 1
    history = json.loads((out / "history.json").read_text())
    assert len(history["history"]["loss"]) == 2  # epoch 1 from the first run, epoch 2 from this one
    assert json.loads((out / "results.json").read_text())["epochs"] == 2
    assert (out / "weights.safetensors").read_bytes() != weights


@pytest.mark.parametrize("extra, message", [
    (["--device", "cuda"], "--distributed trains on the CPU only for now"),
    (["--model", "charlstm"], "does not train the character-level model"),
    (["--text", "x.txt"], "does not train the character-level model"),
    (["--on-nan", "stop"], "--on-nan stop is not available with --distributed"),
])
def test_unsupported_options_are_usage_errors(tmp_path, capsys, extra, message):
    out = tmp_path / "run"
    assert main(["train", "--distributed", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_check_weights_needs_distributed(tmp_path, capsys):
    assert main(["train", "--check-weights", "--out", str(tmp_path / "run")]) == 2
    assert "add --distributed" in capsys.readouterr().err


def test_missing_mpi4py_names_the_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py fails, find_spec says None
    out = tmp_path / "run"
    assert main(["train", "--distributed", "--out", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'gradlab[mpi]'" in err[0]
    assert not out.exists()

