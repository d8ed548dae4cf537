"""The IDX file format of MNIST and Fashion-MNIST: a strict reader (raw or gzip-compressed) and a writer.

Layout: a 4-byte magic number ``0x00 0x00 <type code> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the
data, row-major and big-endian. Image files have magic ``0x00000803`` (uint8, 3 dims), label files ``0x00000801``
(uint8, 1 dim). Every inconsistency (bad magic, unknown type, a header that promises more or fewer bytes than the
file holds, a damaged gzip stream) raises ``ValueError`` naming the file and the problem.

>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
>>> write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
>>> read_idx_labels(path).tolist()
[3, 1, 4]
"""

from __future__ import annotations

import gzip
import math
import os
import stat
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "IDX_IMAGES_MAGIC",
    "IDX_LABELS_MAGIC",
    "read_idx",
    "read_idx_images",
    "read_idx_labels",
    "parse_idx",
    "read_file_bytes",
    "write_idx",
]

IDX_IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dimension

# type code -> big-endian numpy dtype
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_regular(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file (opened non-blocking: a FIFO can neither hang nor be read)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None
    except OSError as e:
        raise ValueError(f"{path}: cannot be read: {e.strerror or e}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{path}: not a regular file (a directory, FIFO or device)")
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _gunzip(raw: bytes, path: Path, max_size: int | None) -> bytes:
    """Decompress (possibly several concatenated) gzip members, never producing more than ``max_size + 1`` bytes."""
    out: list[bytes] = []
    total = 0
    data = raw
    limit = None if max_size is None else max_size + 1
    while data:
        d = zlib.decompressobj(wbits=31)
        while True:
            room = 0 if limit is None else limit - total
            chunk = d.decompress(data, room) if limit is not None else d.decompress(data)
            out.append(chunk)
            total += len(chunk)
            if limit is not None and total >= limit:
                raise ValueError(f"{path}: decompresses to more than the {max_size} bytes its IDX header declares")
            data = d.unconsumed_tail
            if d.eof or not data:
                break
        if not d.eof:
            raise EOFError
        data = d.unused_data
        if data and data[:2] != _GZIP_MAGIC:
            if data.strip(b"\0"):
                raise ValueError(f"{path}: corrupt gzip data: trailing garbage after the compressed stream")
            break
    return b"".join(out)


def read_file_bytes(path: str | os.PathLike, max_size: int | None = None) -> bytes:
    """The content of ``path``, gunzipped when it is a gzip file (detected from its first bytes, not its name).

    ``path`` must be a regular file (``ValueError`` otherwise, and a FIFO never blocks). With ``max_size``, a
    gzip stream that decompresses to more than that many bytes raises ``ValueError`` as soon as it does (so a
    small damaged or hostile file cannot make the reader allocate much more than the data it declares).

    >>> import gzip, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.gz"); open(p, "wb").write(gzip.compress(b"abc")) > 0
    True
    >>> read_file_bytes(p)
    b'abc'
    """
    path = Path(path)
    raw = _read_regular(path)
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return _gunzip(raw, path, max_size)
    except EOFError:
        raise ValueError(f"{path}: corrupt gzip data: the compressed stream is truncated") from None
    except zlib.error as e:
        raise ValueError(f"{path}: corrupt gzip data: {e}") from None


def _declared_size(head: bytes) -> int | None:
    """The total size (header + data) an IDX header declares, from its first bytes; None if not decidable."""
    if len(head) < 4 or head[2] not in _IDX_DTYPES:
        return None
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        return None
    dims = struct.unpack_from(f">{ndim}I", head, 4)
    return 4 + 4 * ndim + math.prod(dims) * _IDX_DTYPES[head[2]].itemsize


def parse_idx(
    buf: bytes | bytearray | memoryview, source: str = "<bytes>", expected_magic: int | None = None
) -> np.ndarray:
    """Parse IDX bytes into an array of the header's shape (native byte order; read-only for ``bytes`` input).

    ``expected_magic`` (e.g. ``IDX_IMAGES_MAGIC``) rejects files of another kind. ``source`` names the data in
    error messages.

    >>> import struct
    >>> buf = struct.pack(">IIII", IDX_IMAGES_MAGIC, 1, 2, 2) + bytes([0, 1, 2, 255])
    >>> parse_idx(buf).tolist()
    [[[0, 1], [2, 255]]]
    """
    n = len(buf)
    if n < 4:
        raise ValueError(f"{source}: not an IDX file: {n} bytes is too short for the 4-byte magic number")
    magic = struct.unpack_from(">I", buf, 0)[0]
    kind = {IDX_IMAGES_MAGIC: "image", IDX_LABELS_MAGIC: "label"}.get(expected_magic or -1, "IDX")
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(
            f"{source}: bad magic number 0x{magic:08x} ({magic}); an IDX {kind} file starts with "
            f"0x{expected_magic:08x} ({expected_magic})"
        )
    if buf[0] != 0 or buf[1] != 0:
        raise ValueError(f"{source}: bad magic number 0x{magic:08x}: an IDX file starts with two zero bytes")
    code, ndim = buf[2], buf[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{source}: bad magic number 0x{magic:08x}: unknown IDX data type code 0x{code:02x}")
    if ndim == 0:
        raise ValueError(f"{source}: bad magic number 0x{magic:08x}: zero dimensions")
    header = 4 + 4 * ndim
    if n < header:
        raise ValueError(
            f"{source}: truncated header: {ndim} dimensions need a {header}-byte header, the file has {n} bytes"
        )
    dims = struct.unpack_from(f">{ndim}I", buf, 4)
    dtype = _IDX_DTYPES[code]
    count = math.prod(dims)  # exact (a numpy product could overflow and wrap)
    expected = count * dtype.itemsize
    actual = n - header
    if actual < expected:
        raise ValueError(
            f"{source}: truncated data: the header declares shape {tuple(dims)} ({expected} bytes of data) "
            f"but only {actual} bytes follow it"
        )
    if actual > expected:
        raise ValueError(
            f"{source}: {actual - expected} unexpected bytes after the data: the header declares shape "
            f"{tuple(dims)} ({expected} bytes) but {actual} bytes follow it"
        )
    arr = np.frombuffer(buf, dtype=dtype, count=count, offset=header).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a numpy array; see :func:`parse_idx`.

    A gzip file is decompressed only as far as its IDX header declares (a longer stream raises ``ValueError``
    at once), so no file can make the reader allocate far more than the data it declares.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "l.gz"); write_idx(p, np.array([1, 2], dtype=np.uint8))
    >>> read_idx(p).tolist()
    [1, 2]
    """
    path = Path(path)
    raw = _read_regular(path)
    if raw[:2] == _GZIP_MAGIC:
        try:
            head = _gunzip_prefix(raw, 4 + 4 * 255)
        except (EOFError, zlib.error):
            head = b""
        declared = _declared_size(head)
        try:
            raw = _gunzip(raw, path, declared)
        except EOFError:
            raise ValueError(f"{path}: corrupt gzip data: the compressed stream is truncated") from None
        except zlib.error as e:
            raise ValueError(f"{path}: corrupt gzip data: {e}") from None
    return parse_idx(raw, source=str(path), expected_magic=expected_magic)


def _gunzip_prefix(raw: bytes, n: int) -> bytes:
    """At most the first ``n`` decompressed bytes of a gzip stream."""
    return zlib.decompressobj(wbits=31).decompress(raw, n)


def read_idx_images(path: str | os.PathLike, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read an IDX image file (magic 0x803): a uint8 array ``(N, rows, cols)``, optionally checking ``(rows, cols)``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_idx(Path(d) / "img.idx", np.zeros((3, 2, 4), np.uint8))
    ...     a = read_idx_images(Path(d) / "img.idx")
    ...     read_idx_images(Path(d) / "img.idx", shape=(28, 28))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: ...
    >>> a.shape, a.dtype
    ((3, 2, 4), dtype('uint8'))
    """
    arr = read_idx(path, expected_magic=IDX_IMAGES_MAGIC)
    if shape is not None and tuple(arr.shape[1:]) != tuple(shape):
        raise ValueError(f"{path}: images are {arr.shape[1]}x{arr.shape[2]}, expected {shape[0]}x{shape[1]}")
    return arr


def read_idx_labels(path: str | os.PathLike, num_classes: int | None = None) -> np.ndarray:
    """Read an IDX label file (magic 0x801): a uint8 array ``(N,)``, optionally checking labels < ``num_classes``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_idx(Path(d) / "lab.idx.gz", np.array([3, 1, 4], np.uint8))  # gzip: the name ends .gz
    ...     labels = read_idx_labels(Path(d) / "lab.idx.gz", num_classes=10)
    >>> labels.tolist()
    [3, 1, 4]
    """
    arr = read_idx(path, expected_magic=IDX_LABELS_MAGIC)
    if num_classes is not None and arr.size and int(arr.max()) >= num_classes:
        bad = int(np.argmax(arr >= num_classes))
        raise ValueError(f"{path}: label {int(arr[bad])} at position {bad} is out of range 0..{num_classes - 1}")
    return arr


def write_idx(path: str | os.PathLike, array: Any, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file; gzip-compressed when ``compress`` is true (default: when the name ends .gz).

    Supported dtypes: uint8, int8, int16, int32, float32, float64.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_idx(Path(d) / "a.idx", np.arange(6, dtype=np.int32).reshape(2, 3))
    ...     raw = (Path(d) / "a.idx").read_bytes()
    >>> raw[:4].hex(), len(raw)  # magic: two zero bytes, dtype code 0x0c (int32), 2 dims
    ('00000c02', 36)
    """
    arr = np.asarray(array)
    path = Path(path)
    codes = {np.dtype(d).newbyteorder("="): c for c, d in _IDX_DTYPES.items()}
    native = arr.dtype.newbyteorder("=") if arr.dtype.itemsize > 1 else arr.dtype
    if native not in codes:
        raise TypeError(
            f"write_idx: unsupported dtype {arr.dtype}; IDX holds uint8, int8, int16, int32, float32, float64"
        )
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"write_idx: need 1 to 255 dimensions, got {arr.ndim}")
    code = codes[native]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + np.ascontiguousarray(arr, dtype=_IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
