"""Atomic file writes, and the removal of the temporary files an interrupted (SIGKILLed) write leaves behind.

A file is written to a temporary name in the same directory (``.<name>.<random>.tmp``), flushed and fsync'ed,
then moved over the target with ``os.replace``: readers see the old file or the new one, never half of one.
A process killed between the two steps leaves its temporary file; the next atomic write into that directory
removes such orphans (only names of exactly that pattern, older than the writer's own temporary file).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_bytes", "save_figure", "remove_orphan_temp_files", "TEMP_NAME_PATTERN"]

PathLike = str | os.PathLike

#: The temporary names :func:`atomic_write_bytes` uses: ``.<target name>.<mkstemp's 8 characters>.tmp``.
TEMP_NAME_PATTERN = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def remove_orphan_temp_files(directory: PathLike, older_than_ns: int) -> list[str]:
    """Remove the temporary files of interrupted atomic writes in ``directory``; returns the names removed.

    Only regular files whose name matches :data:`TEMP_NAME_PATTERN` and whose modification time is before
    ``older_than_ns`` (nanoseconds since the epoch, as ``os.stat().st_mtime_ns``) are touched: a write in
    progress elsewhere keeps its file as long as it wrote to it after that moment (each write refreshes the
    modification time). Errors are ignored (best effort).

    >>> import os, tempfile, time
    >>> d = tempfile.mkdtemp()
    >>> open(os.path.join(d, ".x.bin.abcd1234.tmp"), "wb").close(); open(os.path.join(d, "keep.tmp"), "wb").close()
    >>> remove_orphan_temp_files(d, time.time_ns() + 10**9), sorted(os.listdir(d))
    (['.x.bin.abcd1234.tmp'], ['keep.tmp'])
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(os.fspath(directory)))
    except OSError:
        return removed
    for entry in entries:
        if not TEMP_NAME_PATTERN.fullmatch(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or st.st_mtime_ns >= older_than_ns:
                continue
            os.unlink(entry.path)
            removed.append(entry.name)
        except OSError:
            continue
    return sorted(removed)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory, fsync, ``os.replace``.

    If anything fails (or the process dies) before the replace, ``path`` keeps its old content and the temporary
    file is removed (on an exception) or left as an unmistakable ``.<name>.*.tmp`` (on a crash), which the next
    atomic write into the same directory removes (see :func:`remove_orphan_temp_files`).

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> atomic_write_bytes(os.path.join(d, "x.bin"), b"abc")
    >>> open(os.path.join(d, "x.bin"), "rb").read(), os.listdir(d)
    (b'abc', ['x.bin'])
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            own_mtime = os.fstat(f.fileno()).st_mtime_ns
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)
    remove_orphan_temp_files(directory, own_mtime)


def save_figure(fig: Any, path: PathLike, dpi: int = 100) -> Path:
    """Save a matplotlib figure to ``path`` atomically (rendered in memory, then :func:`atomic_write_bytes`), in the
    format of the file's suffix (PNG without one); creates the parent folder; returns the path.

    >>> import os, tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(); _ = ax.plot([0, 1])
    >>> p = save_figure(fig, os.path.join(tempfile.mkdtemp(), "sub", "curve.png")); plt.close(fig)
    >>> p.read_bytes()[:4]
    b'\x89PNG'
    """
    import io

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix[1:].lower() or "png", dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return path
