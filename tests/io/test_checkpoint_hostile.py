"""gradlab.io.load_checkpoint against hostile and damaged checkpoint files (issue 13, defects 1 and 2).

The tensor file must be a regular file directly inside the checkpoint folder; every JSON field is type-checked
(ValueError naming the file and the field); deep nesting is a ValueError; the JSON carries its own checksum.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import threading

import numpy as np
import pytest

import gradlab
from gradlab import io as glio
from gradlab import optim


def _checkpoint(tmp_path):
    w = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.01, betas=(0.9, 0.999))
    w.grad = gradlab.tensor([0.5, -0.5, 1.0])
    opt.step()
    ckpt = tmp_path / "ck"
    glio.save_checkpoint(ckpt, model_state={"w": w}, optimizer_state=opt.state_dict(), epoch=4,
                         rng_state=gradlab.backend.default_generator.get_state(), extra={"lr": 0.01, "t": (1, 2.5)})
    return ckpt


def _rewrite(ckpt, change):
    """Apply ``change`` to the checkpoint document and store it with a valid json_sha256 (so that the field
    checks, not the checksum, are what a test exercises)."""
    path = ckpt / "checkpoint.json"
    doc = json.loads(path.read_text())
    change(doc)
    if "json_sha256" in doc:
        body = {k: v for k, v in doc.items() if k != "json_sha256"}
        canonical = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        doc["json_sha256"] = hashlib.sha256(canonical).hexdigest()
    path.write_text(json.dumps(doc))


def _load_in_thread(ckpt, timeout=20.0):
    """load_checkpoint in a daemon thread: returns the exception it raised; fails the test if it hangs."""
    result: list = []

    def run():
        try:
            glio.load_checkpoint(ckpt)
            result.append(None)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            result.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "load_checkpoint hung"
    return result[0]


# ------------------------------------------------------------------------------------------ defect 1: confinement
def test_tensor_file_outside_the_folder_is_refused(tmp_path):
    ckpt = _checkpoint(tmp_path)
    doc = json.loads((ckpt / "checkpoint.json").read_text())
    shutil.copy(ckpt / doc["tensor_file"], tmp_path / "outside.safetensors")  # a valid file, but not inside
    for name in ("../outside.safetensors", str(tmp_path / "outside.safetensors"), "/dev/zero", "", ".", "..",
                 "sub/x.safetensors"):
        _rewrite(ckpt, lambda d, n=name: d.update(tensor_file=n))
        with pytest.raises(ValueError, match=r"checkpoint.json.*tensor_file"):
            glio.load_checkpoint(ckpt)


def test_symlink_leading_out_of_the_folder_is_refused(tmp_path):
    ckpt = _checkpoint(tmp_path)
    doc = json.loads((ckpt / "checkpoint.json").read_text())
    shutil.copy(ckpt / doc["tensor_file"], tmp_path / "outside.safetensors")
    os.symlink(tmp_path / "outside.safetensors", ckpt / "link.safetensors")
    os.symlink("/dev/zero", ckpt / "zero")
    for name in ("link.safetensors", "zero"):
        _rewrite(ckpt, lambda d, n=name: d.update(tensor_file=n))
        with pytest.raises(ValueError, match="leading out of the folder"):
            glio.load_checkpoint(ckpt)
    # a link that stays inside the folder is fine
    os.rename(ckpt / doc["tensor_file"], ckpt / "real.safetensors")
    os.symlink("real.safetensors", ckpt / "inside.safetensors")
    _rewrite(ckpt, lambda d: d.update(tensor_file="inside.safetensors"))
    assert glio.load_checkpoint(ckpt)["epoch"] == 4


def test_fifo_and_directory_never_hang(tmp_path):
    ckpt = _checkpoint(tmp_path)
    os.mkfifo(ckpt / "pipe")
    (ckpt / "adir").mkdir()
    for name, kind in (("pipe", "FIFO"), ("adir", "directory")):
        _rewrite(ckpt, lambda d, n=name: d.update(tensor_file=n))
        err = _load_in_thread(ckpt)
        assert isinstance(err, ValueError) and f"not a regular file (a {kind})" in str(err), err


def test_tensor_file_size_is_bounded_by_its_header(tmp_path):
    ckpt = _checkpoint(tmp_path)
    doc = json.loads((ckpt / "checkpoint.json").read_text())
    path = ckpt / doc["tensor_file"]
    blob = path.read_bytes()
    for bad in (b"\xff" * 8 + blob[8:], blob + b"\0" * 64, blob[:-3]):  # huge header length, too long, too short
        path.write_bytes(bad)
        with pytest.raises(ValueError, match="not a valid safetensors file"):
            glio.load_checkpoint(ckpt)


# ------------------------------------------------------------------------------------------ defect 2: field types
@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: d.update(version="x"), "version"),
        (lambda d: d.update(version=True), "version"),
        (lambda d: d.update(version=0), "version"),
        (lambda d: d.update(tensor_file=5), "tensor_file"),
        (lambda d: d.update(tensor_file=None), "tensor_file"),
        (lambda d: d.update(sha256=5), "sha256"),
        (lambda d: d.update(sha256="zz"), "sha256"),
        (lambda d: d.update(tensor_keys="w"), "tensor_keys"),
        (lambda d: d.update(tensor_keys=[1]), "tensor_keys"),
        (lambda d: d.pop("content"), "content"),
        (lambda d: d.update(surprise=1), "surprise"),
        (lambda d: d["content"].update(extra={"__tuple__": 5}), "__tuple__"),
        (lambda d: d["content"].update(extra={"__scalar__": "zz", "value": 1}), "__scalar__"),
        (lambda d: d["content"].update(extra={"__scalar__": "<f8", "value": "x"}), "__scalar__"),
        (lambda d: d["content"].update(extra={"__scalar__": "<i8", "value": 2**70}), "__scalar__"),
        (lambda d: d["content"].update(extra={"__float__": 5}), "__float__"),
        (lambda d: d["content"].update(extra={"__float__": "pi"}), "__float__"),
        (lambda d: d["content"].update(extra={"__tensor__": 5}), "array reference"),
        (lambda d: d["content"].update(extra={"__ndarray__": "nope"}), "not among the stored arrays"),
        (lambda d: d["content"].update(extra={"__dict__": 5}), "__dict__"),
        (lambda d: d["content"].update(extra={"__dict__": [[{"a": 1}, 2]]}), "__dict__"),
        (lambda d: d["content"].update(extra={"__what__": 1}), "unknown record marker"),
        (lambda d: d["content"].update(epoch="4"), "epoch"),
        (lambda d: d["content"].update(model_state=[1]), "model_state"),
        (lambda d: d["content"].pop("rng_state"), "content"),
        (lambda d: d.update(content=[]), "content"),
    ],
)
def test_malformed_fields_give_value_error_naming_file_and_field(tmp_path, change, field):
    ckpt = _checkpoint(tmp_path)
    _rewrite(ckpt, change)
    with pytest.raises(ValueError) as info:
        glio.load_checkpoint(ckpt)
    assert "checkpoint.json" in str(info.value) and field in str(info.value)


@pytest.mark.parametrize("depth", [150, 1_000, 100_000])
def test_deep_nesting_is_a_value_error(tmp_path, depth):
    ckpt = _checkpoint(tmp_path)
    path = ckpt / "checkpoint.json"
    doc = json.loads(path.read_text())
    doc["content"]["extra"] = "@@"
    text = json.dumps(doc).replace('"@@"', "[" * depth + "]" * depth)
    path.write_text(text)
    with pytest.raises(ValueError, match="checkpoint.json"):
        glio.load_checkpoint(ckpt)


def test_deep_nesting_that_the_checksum_covers_is_still_a_value_error(tmp_path):
    ckpt = _checkpoint(tmp_path)
    nested: list = []
    for _ in range(400):
        nested = [nested]
    _rewrite(ckpt, lambda d: d["content"].update(extra=nested))
    with pytest.raises(ValueError, match="deeper than"):
        glio.load_checkpoint(ckpt)


# ------------------------------------------------------------------------------------------ JSON checksum
def _same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or hasattr(a, "data") and isinstance(a._data, np.ndarray):
        a, b = np.asarray(getattr(a, "data", a)), np.asarray(getattr(b, "data", b))
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


def test_a_byte_flip_in_the_json_never_loads_a_different_state(tmp_path):
    ckpt = _checkpoint(tmp_path)
    path = ckpt / "checkpoint.json"
    original = path.read_bytes()
    reference = glio.load_checkpoint(ckpt)
    rng = random.Random(13)
    silently_different = []
    for _ in range(600):
        i, bit = rng.randrange(len(original)), rng.randrange(8)
        flipped = bytearray(original)
        flipped[i] ^= 1 << bit
        path.write_bytes(bytes(flipped))
        try:
            loaded = glio.load_checkpoint(ckpt)
        except ValueError:
            continue
        if not _same(loaded, reference):
            silently_different.append((i, bit))
    assert not silently_different, f"{len(silently_different)} flips loaded a different state"


def test_version_1_checkpoints_without_checksum_still_load(tmp_path):
    ckpt = _checkpoint(tmp_path)
    reference = glio.load_checkpoint(ckpt)

    def to_v1(d):
        d["version"] = 1
        del d["json_sha256"]

    path = ckpt / "checkpoint.json"
    doc = json.loads(path.read_text())
    to_v1(doc)
    path.write_text(json.dumps(doc, indent=1))
    assert _same(glio.load_checkpoint(ckpt), reference)
    doc["json_sha256"] = "0" * 64  # a version-1 file must not carry one (a flipped version digit is caught)
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="unexpected field 'json_sha256'"):
        glio.load_checkpoint(ckpt)
