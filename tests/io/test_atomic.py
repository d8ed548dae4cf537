"""gradlab.io.atomic: orphan temporary files of killed writes are removed at the next save (issue 13, defect 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np

from gradlab import io as glio


def _age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_orphan_temp_files_are_removed_at_the_next_save(tmp_path):
    orphans = [".model.safetensors.abcd1234.tmp", ".checkpoint.json.k_9Zx0aQ.tmp"]
    bystanders = ["notes.tmp", ".hidden.tmp", "model.safetensors.abcd1234.tmp", ".x.y.toolongname.tmp"]
    for name in orphans + bystanders:
        (tmp_path / name).write_bytes(b"half a file")
        _age(tmp_path / name, 60)
    (tmp_path / ".dir.abcd1234.tmp").mkdir()  # not a regular file: left alone
    _age(tmp_path / ".dir.abcd1234.tmp", 60)
    glio.save({"w": np.ones(2)}, tmp_path / "model.safetensors")
    assert sorted(os.listdir(tmp_path)) == sorted(bystanders + [".dir.abcd1234.tmp", "model.safetensors"])


def test_a_newer_temp_file_of_a_concurrent_writer_is_kept(tmp_path):
    fresh = tmp_path / ".other.bin.abcd1234.tmp"
    fresh.write_bytes(b"being written")
    future = time.time() + 3600  # written after this save started
    os.utime(fresh, (future, future))
    glio.atomic_write_bytes(tmp_path / "x.bin", b"data")
    assert fresh.exists()


def test_files_left_by_sigkill_are_cleaned_by_the_next_checkpoint(tmp_path):
    ckpt = tmp_path / "ck"
    script = (
        "import os, signal, sys, numpy as np\n"
        "from gradlab import io\n"
        "real = os.replace\n"
        "def die(src, dst):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.replace = die\n"
        f"io.save_checkpoint({str(ckpt)!r}, model_state={{'w': np.ones(1000)}}, optimizer_state=None, epoch=1,"
        " rng_state=None)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(glio.__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *sys.path])}
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    left = [n for n in os.listdir(ckpt) if n.endswith(".tmp")]
    assert len(left) == 1  # the killed write's temporary tensor file
    _age(ckpt / left[0], 5)
    glio.save_checkpoint(ckpt, model_state={"w": np.zeros(3)}, optimizer_state=None, epoch=2, rng_state=None)
    assert not [n for n in os.listdir(ckpt) if n.endswith(".tmp")]
    assert glio.load_checkpoint(ckpt)["epoch"] == 2
