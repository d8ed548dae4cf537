"""Seeded fuzzing of every loader that reads files (issue 13): byte flips, overwrites, truncations, extensions.

Every damaged file must give a ValueError (the family of "bad input" errors) or a correct load, never another
exception, a hang or a large allocation (checked with tracemalloc's peak). Each loop is bounded by a number of
cases and by a few seconds of wall time, whichever comes first (a bound, not a timing assertion).
"""

from __future__ import annotations

import gzip
import json
import random
import struct
import time
import tracemalloc
import warnings

import numpy as np
import pytest

import gradlab
from gradlab import io as glio
from gradlab import optim
from gradlab.data.datasets import IDX_IMAGES_MAGIC, read_idx
from gradlab.estimators import MLPClassifier
from gradlab.estimators import load as load_estimator

SECONDS = 3.0
MAX_PEAK = 64 * 2**20  # bytes traced at the peak of a whole loop: the files are a few kB


def mutations(blob: bytes, seed: int, count: int, max_overwrites: int = 4):
    """``count`` damaged variants of ``blob``: bit flips, random bytes, truncations, extensions."""
    rng = random.Random(seed)
    for k in range(count):
        b = bytearray(blob)
        kind = k % 4
        if kind == 0:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif kind == 1:
            for _ in range(rng.randint(1, max_overwrites)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        elif kind == 2:
            del b[rng.randrange(len(b)) :]
        else:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        yield bytes(b)


def fuzz(path, blob, load, check, seed, count=400, max_overwrites=4):
    """Write each variant to ``path`` and load it: ValueError, or ``check(result)`` holds."""
    deadline = time.monotonic() + SECONDS
    tracemalloc.start()
    try:
        done = 0
        for variant in mutations(blob, seed, count, max_overwrites):
            path.write_bytes(variant)
            try:
                result = load(path)
            except ValueError:
                pass
            else:
                check(result)
            done += 1
            if done >= 40 and time.monotonic() > deadline:  # at least 40 cases, however slow the machine
                break
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_PEAK, f"peak allocation {peak} bytes"


def _same_tensors(a, b):
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k].data, b[k].data)
        assert a[k].dtype == b[k].dtype


def test_fuzz_safetensors_load(tmp_path):
    path = tmp_path / "m.safetensors"
    state = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.array([1, -2], np.int64)}
    gradlab.save(state, path, metadata={"note": "fuzz"}, checksum=True)
    reference = gradlab.load(path)
    # one damaged place per case: the digest detects it (damage to the digest's own metadata entry AND to the
    # data, two places, can load unverified: the checksum is optional, so its absence is legitimate)
    fuzz(path, path.read_bytes(), gradlab.load, lambda out: _same_tensors(out, reference), seed=1,
         max_overwrites=1)

    gradlab.save(state, path)  # without checksum: a successful load is any dict of tensors
    fuzz(path, path.read_bytes(), gradlab.load,
         lambda out: all(isinstance(v, gradlab.Tensor) for v in out.values()), seed=2)


def test_fuzz_load_checkpoint(tmp_path):
    w = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = gradlab.tensor([1.0, 1.0, 1.0])
    opt.step()
    ckpt = tmp_path / "ck"
    glio.save_checkpoint(ckpt, model_state={"w": w}, optimizer_state=opt.state_dict(), epoch=2,
                         rng_state=gradlab.backend.default_generator.get_state(), extra={"t": (1, 2.5)})
    json_path = ckpt / "checkpoint.json"
    tensor_path = ckpt / json.loads(json_path.read_text())["tensor_file"]
    reference = json.dumps(glio.flatten_state(glio.load_checkpoint(ckpt))[0], sort_keys=True)
    reference_w = glio.load_checkpoint(ckpt)["model_state"]["w"].detach().numpy().copy()

    def same(ck):
        assert json.dumps(glio.flatten_state(ck)[0], sort_keys=True) == reference
        np.testing.assert_array_equal(ck["model_state"]["w"].data, reference_w)

    json_blob, tensor_blob = json_path.read_bytes(), tensor_path.read_bytes()
    fuzz(json_path, json_blob, lambda p: glio.load_checkpoint(ckpt), same, seed=3)
    json_path.write_bytes(json_blob)
    fuzz(tensor_path, tensor_blob, lambda p: glio.load_checkpoint(ckpt), same, seed=4)


def test_fuzz_estimators_load(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    path = tmp_path / "est.safetensors"
    m.save(path)

    def usable(est):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert est.predict(X).shape == (40,)  # a file that loads must predict

    fuzz(path, path.read_bytes(), load_estimator, usable, seed=5)


@pytest.mark.parametrize("compressed", [False, True])
def test_fuzz_idx(tmp_path, compressed):
    raw = struct.pack(">IIII", IDX_IMAGES_MAGIC, 3, 4, 5) + bytes(range(60))
    blob = gzip.compress(raw, mtime=0) if compressed else raw
    path = tmp_path / ("img.gz" if compressed else "img")
    fuzz(path, blob, read_idx, lambda arr: isinstance(arr, np.ndarray), seed=6 + compressed)
