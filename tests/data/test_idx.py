"""The IDX parser on small synthetic files: headers built by hand, gzip and raw, and every kind of corruption."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from gradlab.data.datasets import (
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    parse_idx,
    read_idx,
    read_idx_images,
    read_idx_labels,
    write_idx,
)


def _images_bytes(n=3, rows=4, cols=5, magic=IDX_IMAGES_MAGIC, extra=b"", cut=0):
    pixels = (np.arange(n * rows * cols) % 256).astype(np.uint8).tobytes()
    data = struct.pack(">IIII", magic, n, rows, cols) + pixels + extra
    return data[: len(data) - cut] if cut else data


def _labels_bytes(labels, magic=IDX_LABELS_MAGIC):
    return struct.pack(">II", magic, len(labels)) + bytes(labels)


@pytest.mark.parametrize("compressed", [False, True])
def test_read_images_handmade(tmp_path, compressed):
    raw = _images_bytes()
    path = tmp_path / ("img.gz" if compressed else "img")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    arr = read_idx_images(path)
    assert arr.shape == (3, 4, 5) and arr.dtype == np.uint8
    np.testing.assert_array_equal(arr.ravel(), np.arange(60) % 256)
    assert read_idx_images(path, shape=(4, 5)).shape == (3, 4, 5)


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / "labels-no-extension"
    path.write_bytes(gzip.compress(_labels_bytes([1, 2, 3])))
    assert read_idx_labels(path).tolist() == [1, 2, 3]


def test_read_labels_handmade_and_range_check(tmp_path):
    path = tmp_path / "lbl"
    path.write_bytes(_labels_bytes([0, 9, 3]))
    assert read_idx_labels(path, num_classes=10).tolist() == [0, 9, 3]
    path.write_bytes(_labels_bytes([0, 12, 3]))
    with pytest.raises(ValueError, match=r"lbl.*label 12 at position 1 is out of range 0\.\.9"):
        read_idx_labels(path, num_classes=10)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_write_read_roundtrip(tmp_path, dtype, name):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, arr)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, arr)
    assert (tmp_path / name).read_bytes()[:2] == (b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00")


def test_multibyte_values_are_big_endian_on_disk(tmp_path):
    buf = bytes([0, 0, 0x0B, 1]) + struct.pack(">I", 2) + struct.pack(">hh", 258, -2)
    assert parse_idx(buf).tolist() == [258, -2]


def test_wrong_magic_labels_file_as_images(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(_labels_bytes([1, 2]))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.*bad magic number 0x00000801.*0x00000803"):
        read_idx_images(path)


@pytest.mark.parametrize(
    "head,match",
    [
        (b"\x12\x34\x08\x03", "two zero bytes"),
        (b"\x00\x00\x42\x03", "unknown IDX data type code 0x42"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
    ],
)
def test_corrupted_magic(tmp_path, head, match):
    path = tmp_path / "bad.idx"
    path.write_bytes(head + _images_bytes()[4:])
    with pytest.raises(ValueError, match=match) as err:
        read_idx(path)
    assert "bad.idx" in str(err.value)
    assert "bad magic" in str(err.value)


def test_truncated_data(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(_images_bytes(cut=7)))
    with pytest.raises(ValueError, match=r"short\.gz: truncated data.*\(3, 4, 5\).*60 bytes.*only 53"):
        read_idx_images(path)


def test_trailing_bytes(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(_images_bytes(extra=b"xyz"))
    with pytest.raises(ValueError, match="3 unexpected bytes after the data"):
        read_idx_images(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "hdr"
    path.write_bytes(_images_bytes()[:9])
    with pytest.raises(ValueError, match=r"hdr: truncated header"):
        read_idx_images(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="too short"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(_images_bytes(n=50))[:-20])
    with pytest.raises(ValueError, match=r"cut\.gz: corrupt gzip data"):
        read_idx_images(path)


def test_gzip_crc_error(tmp_path):
    blob = bytearray(gzip.compress(_images_bytes()))
    blob[-8] ^= 0xFF  # CRC32 field of the gzip trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match=r"crc\.gz: corrupt gzip data"):
        read_idx_images(path)


def test_image_shape_check_and_missing_file(tmp_path):
    path = tmp_path / "img"
    path.write_bytes(_images_bytes())
    with pytest.raises(ValueError, match="images are 4x5, expected 28x28"):
        read_idx_images(path, shape=(28, 28))
    with pytest.raises(FileNotFoundError, match="nope"):
        read_idx(tmp_path / "nope")


def test_write_idx_rejects_unsupported(tmp_path):
    with pytest.raises(TypeError, match="unsupported dtype"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


# ------------------------------------------------------------------------------------------ hostile files (issue 13)
def test_gzip_bomb_is_refused_without_a_big_allocation(tmp_path):
    import tracemalloc

    header = struct.pack(">III", IDX_LABELS_MAGIC, 10, 0)[:8]  # declares 10 labels ...
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(header + bytes(200_000_000), compresslevel=9))  # ... then 200 MB of zeros
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="more than the 18 bytes its IDX header declares"):
            read_idx_labels(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


def test_fifo_is_refused_without_hanging(tmp_path):
    import os
    import threading

    os.mkfifo(tmp_path / "pipe")
    errors: list = []

    def run():
        try:
            read_idx(tmp_path / "pipe")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive() and isinstance(errors[0], ValueError) and "not a regular file" in str(errors[0])
    with pytest.raises(ValueError, match="not a regular file"):
        read_idx(tmp_path)


def test_huge_declared_dimensions_are_a_value_error():
    buf = bytes([0, 0, 0x0E, 255]) + b"\xff" * (4 * 255) + b"\0" * 8  # 255 dims of 2**32-1 float64 values
    with pytest.raises(ValueError, match="truncated data"):
        parse_idx(buf)
