"""gradlab.save / gradlab.load: reserved names refused at save (issue 13, defect 6), the optional checksum,
and reads bounded by the file's header (regular files only)."""

from __future__ import annotations

import os
import struct
import threading

import numpy as np
import pytest

import gradlab
from gradlab import io as glio


@pytest.mark.parametrize("key", ["__metadata__", "__init__", "__x__"])
def test_reserved_keys_are_refused_when_saving(tmp_path, key):
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match="reserved"):
        gradlab.save({key: np.ones(2)}, path)
    assert not path.exists()
    gradlab.save({"__": np.ones(1), "_metadata_": np.ones(1)}, path)  # merely similar names are fine
    assert list(gradlab.load(path)) == ["__", "_metadata_"]


def test_reserved_metadata_keys_are_refused(tmp_path):
    for key in ("gradlab.key_order", "gradlab.sha256"):
        with pytest.raises(ValueError, match="reserved"):
            gradlab.save({"a": np.ones(1)}, tmp_path / "m.safetensors", metadata={key: "x"})


def test_checksum_round_trip_and_detection(tmp_path):
    path = tmp_path / "m.safetensors"
    state = {"w": np.arange(6.0, dtype=np.float32).reshape(2, 3), "b": np.array([7], dtype=np.int64)}
    gradlab.save(state, path, metadata={"note": "x"}, checksum=True)
    out = gradlab.load(path)
    assert list(out) == ["w", "b"] and glio.load_metadata(path) == {"note": "x"}
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1  # one bit of b's data: still a valid safetensors file, no longer the saved values
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="m.safetensors does not match its stored SHA-256"):
        gradlab.load(path)
    gradlab.save(state, path)  # without checksum=True nothing is stored and nothing checked
    assert "gradlab.sha256" not in path.read_bytes().decode("latin-1")


def test_header_claims_beyond_the_file_are_refused_before_reading(tmp_path):
    path = tmp_path / "m.safetensors"
    gradlab.save({"w": np.ones(4)}, path)
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = blob[8 : 8 + n].replace(b'"data_offsets":[0,32]', b'"data_offsets":[0,99999999999]')
    for bad in (struct.pack("<Q", 2**63) + blob[8:], struct.pack("<Q", len(header)) + header + blob[8 + n :]):
        path.write_bytes(bad)
        with pytest.raises(ValueError, match="m.safetensors is not a valid safetensors file"):
            gradlab.load(path)


def test_load_refuses_fifos_and_directories_without_hanging(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    errors: list = []

    def run():
        try:
            gradlab.load(tmp_path / "pipe")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive() and isinstance(errors[0], ValueError) and "FIFO" in str(errors[0])
    with pytest.raises(ValueError, match="directory"):
        gradlab.load(tmp_path)
