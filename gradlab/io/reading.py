"""Reading files safely: regular files only (never a FIFO, device or directory), and names confined to a folder.

A loader handed a path by a file it reads (a checkpoint's ``tensor_file``) must not be steered to ``/dev/zero``,
a FIFO that blocks forever, ``../elsewhere`` or an absolute path: :func:`confined_path` accepts only the bare name
of something inside the folder, and :func:`open_regular_file` opens without blocking and checks, on the open
descriptor, that it is a regular file before a single byte is read.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

__all__ = ["open_regular_file", "confined_path"]

PathLike = str | os.PathLike

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def open_regular_file(path: PathLike, *, follow_symlinks: bool = True) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file; ``ValueError`` naming it otherwise.

    The file is opened non-blocking (so a FIFO cannot hang the open) and its type is checked with ``fstat`` on
    the open descriptor (so it cannot be swapped between the check and the read). A missing file raises
    ``FileNotFoundError``.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.bin"); open(p, "wb").write(b"hi")
    2
    >>> with open_regular_file(p) as f: f.read()
    b'hi'
    >>> open_regular_file(os.path.dirname(p))
    Traceback (most recent call last):
    ...
    ValueError: ... is not a regular file (a directory)
    """
    flags = os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | (0 if follow_symlinks else _O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"cannot open {os.fspath(path)!s} for reading: {e.strerror or e}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = (
                "a directory" if stat.S_ISDIR(mode)
                else "a FIFO" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a socket" if stat.S_ISSOCK(mode)
                else "not a plain file"
            )
            raise ValueError(f"{os.fspath(path)!s} is not a regular file ({kind})")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def confined_path(directory: PathLike, name: object, *, what: str = "file name") -> str:
    """``directory/name`` if ``name`` is the bare name of an entry inside ``directory``; ``ValueError`` otherwise.

    Rejected: non-strings, empty names, ``.`` and ``..``, names with a path separator or a NUL byte (so no
    absolute or relative paths), and symbolic links that lead out of ``directory``. The result is the resolved
    path (a symlink inside the folder to a file inside the folder is followed); open it with
    :func:`open_regular_file` to also exclude FIFOs, devices and directories.

    >>> confined_path("/data/ck", "checkpoint.abc.safetensors")
    '/data/ck/checkpoint.abc.safetensors'
    >>> confined_path("/data/ck", "../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: file name '../etc/passwd' must be a bare file name inside /data/ck, not a path
    """
    if not isinstance(name, str):
        raise ValueError(f"{what} must be a string, got {type(name).__name__}")
    seps = {"/", "\0"} | ({os.altsep} if os.altsep else set()) | {os.sep}
    if name in ("", ".", "..") or any(s in name for s in seps):
        raise ValueError(f"{what} {name!r} must be a bare file name inside {os.fspath(directory)!s}, not a path")
    folder = os.path.realpath(directory)
    candidate = os.path.join(os.path.abspath(directory), name)
    real = os.path.realpath(candidate)
    if os.path.dirname(real) != folder:
        raise ValueError(f"{what} {name!r} in {os.fspath(directory)!s} is a link leading out of the folder")
    return real
