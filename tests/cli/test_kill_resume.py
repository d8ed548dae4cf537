"""SIGKILL ``gradlab train`` at random moments, then ``--resume``: the final weights are bit-identical (sha256) to
an uninterrupted run's, for every model family (MLP, LeNet-5, sequential-MNIST LSTM, char-level LSTM and
transformer)."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("_tiny_train.py")
TEXT = "In the beginning God created the heaven and the earth. And the earth was without form, and void.\n" * 30


def _mnist_available() -> bool:
    try:
        from gradlab.data.datasets import MNIST

        MNIST(train=False, download=False)
        return True
    except (FileNotFoundError, ImportError):
        return False


FAMILIES = {
    "mlp": ["--dataset", "mnist-tiny", "--model", "mlp", "--hidden", "32", "--dropout", "0.2"],
    "lenet5": ["--dataset", "mnist-tiny", "--model", "lenet5"],
    "lstm": ["--dataset", "mnist-tiny", "--model", "lstm"],
    "charlstm": ["--model", "charlstm", "--hidden", "16", "--seq-len", "20", "--embedding-dim", "8"],
    "transformer": ["--model", "transformer", "--d-model", "16", "--heads", "2", "--layers", "1", "--context", "20"],
}
TEXT_FAMILIES = ("charlstm", "transformer")


def _start(argv, out):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, str(SCRIPT), "train", *argv, "--out", str(out), "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _checkpoint_mtime(out):
    path = out / "checkpoint" / "checkpoint.json"
    return path.stat().st_mtime_ns if path.exists() else 0


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_sigkill_then_resume_is_bit_identical(family, tmp_path):
    if family not in TEXT_FAMILIES and not _mnist_available():
        pytest.skip("MNIST files not available")
    argv = [*FAMILIES[family], "--limit", "150", "--epochs", "3", "--batch-size", "50"]
    if family in TEXT_FAMILIES:
        (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
        argv += ["--text", str(tmp_path / "t.txt")]
    ref = _start(argv, tmp_path / "ref")
    assert ref.wait(timeout=300) == 0, ref.stderr.read().decode()

    rng = random.Random(f"kill-{family}")
    out = tmp_path / "killed"
    kills = 0
    for attempt in range(6):
        proc = _start(argv + (["--resume"] if attempt else []), out)
        if kills < 2:
            # first kill: right after this process wrote a checkpoint (mid-run for sure), plus a random delay;
            # second kill: at a random moment of the run (maybe before its first checkpoint, maybe while saving)
            before = _checkpoint_mtime(out)
            deadline = time.monotonic() + 300
            if kills == 0:
                while proc.poll() is None and _checkpoint_mtime(out) == before and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 0.05))
            else:
                time.sleep(rng.uniform(0.5, 4.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
                kills += 1
                continue
        assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()
        break
    assert kills >= 1
    assert _sha(out / "weights.safetensors") == _sha(tmp_path / "ref" / "weights.safetensors")
    ref_ckpt = sorted((tmp_path / "ref" / "checkpoint").glob("*.safetensors"))
    killed_ckpt = sorted((out / "checkpoint").glob("*.safetensors"))
    assert [_sha(p) for p in ref_ckpt] == [_sha(p) for p in killed_ckpt]
