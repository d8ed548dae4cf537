"""MNIST and Fashion-MNIST, read from their original gzip IDX files (found locally or downloaded, MD5-checked).

With ``root`` given, the files are looked for in ``root/mnist/`` (or ``root/fashion-mnist/``) and directly in
``root``, and nowhere else: a ``root`` that does not exist raises ``FileNotFoundError`` naming it, and missing or
corrupt files there are never replaced by another copy found elsewhere. Without ``root``, in this order (in each
place the subfolder ``mnist/`` or ``fashion-mnist/``; for ``$GRADLAB_DATA`` the files may also lie directly in
the folder):

1. ``$GRADLAB_DATA`` (several folders may be joined with ``os.pathsep``),
2. ``shared/datasets`` beside the repository (``<repo>/../shared/datasets``, then ``<repo>/shared/datasets``),
3. ``../shared/datasets`` and ``shared/datasets`` relative to the current directory,
4. the download cache ``~/.cache/gradlab``.

When the files are nowhere and ``download=True`` they are fetched from the class's ``mirrors`` into
``<root>/<folder>/`` (with ``root``) or ``~/.cache/gradlab/<folder>/``; each file is streamed into a temporary file
in that folder, its MD5 checked, then moved into place atomically, so a failed or corrupted download leaves nothing
behind. Every file's MD5 is verified before use (once per process for an unchanged file).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._utils import wrap
from ..dataset import Dataset
from .idx import read_idx_images, read_idx_labels

__all__ = ["MNIST", "FashionMNIST", "default_cache_dir", "clear_cache"]

_255 = np.float32(255)  # a float32 scalar keeps the division in float32 (10x faster than the int 255)
_MD5_CACHE: dict[tuple, str] = {}
_ARRAY_CACHE: weakref.WeakValueDictionary[tuple, np.ndarray] = weakref.WeakValueDictionary()


def default_cache_dir() -> Path:
    """``~/.cache/gradlab``: where downloads go when no ``root`` is given.

    >>> default_cache_dir() == Path.home() / ".cache" / "gradlab"
    True
    """
    return Path.home() / ".cache" / "gradlab"


def clear_cache() -> None:
    """Forget the per-process MD5 verifications and parsed arrays (the next load re-reads the files).

    >>> clear_cache()
    >>> len(_MD5_CACHE), len(_ARRAY_CACHE)
    (0, 0)
    """
    _MD5_CACHE.clear()
    _ARRAY_CACHE.clear()


def _file_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def _md5(path: Path) -> str:
    key = _file_key(path)
    digest = _MD5_CACHE.get(key)
    if digest is None:
        h = hashlib.md5()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        digest = h.hexdigest()
        _MD5_CACHE[key] = digest
    return digest


def _repo_root() -> Path | None:
    here = Path(__file__).resolve()
    # gradlab/data/datasets/mnist.py -> the folder that holds the gradlab package
    parents = here.parents
    return parents[3] if len(parents) > 3 else None


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels, labels 0-9.

    Args:
        root: an existing folder, the only place looked in (``root/<folder>/`` and ``root``) and downloaded into
            (``root/<folder>/``); a missing one raises ``FileNotFoundError`` naming it. Unset: the default places.
        train: the training split (else the test split).
        transform: applied to each image, which it receives as the raw ``uint8`` numpy array ``(28, 28)``.
            Without it, ``ds[i]`` gives a float32 Tensor ``(1, 28, 28)`` scaled to [0, 1].
        target_transform: applied to each label (a Python int).
        download: fetch missing files from ``mirrors`` (see the module docstring for where files are looked for).

    Attributes: ``data`` (uint8 array ``(N, 28, 28)``, read-only and shared between instances: copy it to change
    it), ``targets`` (int64 array ``(N,)``), ``classes``, ``class_to_idx``, ``folder_path`` (where the files were).

    For whole-dataset training, ``as_tensors()`` returns ``(X, y)`` in one vectorised step, and ``DataLoader`` over
    the dataset itself (no transforms) also builds each batch with one indexing operation.

    >>> MNIST.classes[:2], MNIST.folder
    (['0 - zero', '1 - one'], 'mnist')
    """

    folder = "mnist"
    mirrors: list[str] = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    # split -> ((images file, MD5 of the .gz), (labels file, MD5 of the .gz))
    resources: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
        "train": (
            ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ),
        "test": (
            ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
            ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
        ),
    }
    classes: list[str] = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip
    image_size = (28, 28)
    # per-pixel mean and standard deviation of the training images scaled to [0, 1]
    mean = 0.1307
    std = 0.3081
    timeout = 30.0  # seconds per download request

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = True,
    ) -> None:
        self.root = None if root is None else Path(root).expanduser()
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        split = "train" if self.train else "test"
        (img_name, img_md5), (lbl_name, lbl_md5) = self.resources[split]
        folder = self._locate([(img_name, img_md5), (lbl_name, lbl_md5)], download)
        self.folder_path = folder
        images = self._load(folder / img_name, "images")
        labels = self._load(folder / lbl_name, "labels")
        if len(images) != len(labels):
            raise ValueError(
                f"{folder}: {img_name} holds {len(images)} images but {lbl_name} holds {len(labels)} labels"
            )
        self.data: np.ndarray = images
        self.targets: np.ndarray = labels.astype(np.int64)

    # ------------------------------------------------------------------ locating and loading
    @classmethod
    def search_dirs(cls, root: str | os.PathLike | None = None) -> list[Path]:
        """The folders searched for the files, in order (see the module docstring): only ``root/<folder>`` and
        ``root`` when ``root`` is given.

        >>> [p.as_posix() for p in MNIST.search_dirs("/data")]
        ['/data/mnist', '/data']
        """
        if root is not None:
            base = Path(os.path.normpath(os.path.abspath(Path(root).expanduser())))
            return [base / cls.folder, base]
        dirs: list[Path] = []
        direct: list[Path] = []
        for part in os.environ.get("GRADLAB_DATA", "").split(os.pathsep):
            if part.strip():
                direct.append(Path(part.strip()).expanduser())
        for base in direct:
            dirs += [base / cls.folder, base]
        shared: list[Path] = []
        repo = _repo_root()
        if repo is not None:
            shared += [repo.parent / "shared" / "datasets", repo / "shared" / "datasets"]
        try:
            cwd = Path.cwd()
            shared += [cwd.parent / "shared" / "datasets", cwd / "shared" / "datasets"]
        except OSError:
            pass
        shared.append(default_cache_dir())
        dirs += [base / cls.folder for base in shared]
        out: list[Path] = []
        seen: set[str] = set()
        for d in dirs:
            key = os.path.normpath(os.path.abspath(d))
            if key not in seen:
                seen.add(key)
                out.append(Path(key))
        return out

    def _download_dir(self) -> Path:
        base = self.root if self.root is not None else default_cache_dir()
        return base / self.folder

    def _locate(self, files: list[tuple[str, str]], download: bool) -> Path:
        """The first searched folder holding all ``files`` with the right MD5s (downloading them if allowed)."""
        bad: list[str] = []
        if self.root is not None and not self.root.is_dir():
            what = "is not a folder" if self.root.exists() else "does not exist"
            raise FileNotFoundError(
                f"{type(self).__name__}: root {self.root} {what} (create it to download the files there, "
                "or leave root unset to search the default places)"
            )
        dirs = self.search_dirs(self.root)
        for d in dirs:
            paths = [d / name for name, _ in files]
            if not all(p.is_file() for p in paths):
                continue
            problems = []
            for p, (_, md5) in zip(paths, files):
                actual = _md5(p)
                if actual != md5:
                    problems.append(f"{p}: MD5 mismatch: the file's MD5 is {actual}, expected {md5}")
            if not problems:
                return d
            bad += problems
        if bad:
            raise ValueError(
                f"{type(self).__name__}: corrupt or wrong dataset files"
                + (" in root" if self.root is not None else " (and no intact copy elsewhere)") + ":\n  "
                + "\n  ".join(bad)
                + "\nDelete or replace these files (they may be partial downloads or another dataset's files)."
            )
        if not download:
            raise FileNotFoundError(self._not_found_message(files, dirs, "download=False"))
        target = self._download_dir()
        for name, md5 in files:
            if not (target / name).is_file():
                self._download(name, md5, target, files, dirs)
        for p, (_, md5) in zip([target / n for n, _ in files], files):
            actual = _md5(p)
            if actual != md5:
                raise ValueError(f"{p}: MD5 mismatch: the file's MD5 is {actual}, expected {md5}")
        return target

    def _not_found_message(self, files: list[tuple[str, str]], dirs: list[Path], why: str) -> str:
        names = ", ".join(n for n, _ in files)
        where = "\n  ".join(str(d) for d in dirs)
        return (
            f"{type(self).__name__} files not found ({why}). Put {names} (the original gzip files) in one of:\n  "
            f"{where}\nor set the GRADLAB_DATA environment variable to a folder that holds them "
            f"(directly or in a '{self.folder}/' subfolder), or pass root=."
        )

    def _download(self, name: str, md5: str, target: Path, files: list, dirs: list[Path]) -> None:
        created: list[Path] = []
        d = target
        while not d.exists():
            created.append(d)
            d = d.parent
        target.mkdir(parents=True, exist_ok=True)
        import http.client  # imported here: only downloads need the network stack
        import urllib.request

        errors = []
        for base in self.mirrors:
            url = base.rstrip("/") + "/" + name
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target)
            tmp = Path(tmp_name)
            try:
                print(f"Downloading {url} to {target / name}", file=sys.stderr)
                h = hashlib.md5()
                received = 0
                with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=self.timeout) as resp:
                    length = resp.headers.get("Content-Length")
                    while chunk := resp.read(1 << 20):
                        f.write(chunk)
                        h.update(chunk)
                        received += len(chunk)
                if length is not None and received != int(length):
                    raise ValueError(f"truncated download: received {received} of {length} bytes")
                if h.hexdigest() != md5:
                    raise ValueError(f"MD5 mismatch: the downloaded file's MD5 is {h.hexdigest()}, expected {md5}")
                os.replace(tmp, target / name)
                return
            except (OSError, ValueError, http.client.HTTPException) as e:
                errors.append(f"{url}: {type(e).__name__}: {e}")
            finally:
                if tmp.exists():
                    tmp.unlink()
        for c in created:  # leave no empty folders behind
            try:
                c.rmdir()
            except OSError:
                break
        raise RuntimeError(
            f"could not download {name} for {type(self).__name__}:\n  "
            + "\n  ".join(errors)
            + "\n"
            + self._not_found_message(files, dirs, "and the download failed")
        )

    def _load(self, path: Path, kind: str) -> np.ndarray:
        key = (kind, *_file_key(path))
        arr = _ARRAY_CACHE.get(key)
        if arr is None:
            if kind == "images":
                arr = read_idx_images(path, shape=self.image_size)
            else:
                arr = read_idx_labels(path, num_classes=len(self.classes))
            if arr.flags.writeable:
                arr.flags.writeable = False
            _ARRAY_CACHE[key] = arr
        return arr

    # ------------------------------------------------------------------ dataset protocol
    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = self.data[index]
        target: Any = int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        else:
            img = wrap(np.divide(img, _255, dtype=np.float32)[None])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _batch_fetcher(self) -> Callable[[Any], list] | None:
        if self.transform is not None or self.target_transform is not None:
            return None
        data, targets = self.data, self.targets

        def fetch(idx: Any) -> list:
            x = np.divide(data[idx], _255, dtype=np.float32)
            y = targets[idx]
            return [wrap(x.reshape(x.shape[0], 1, *x.shape[1:])), wrap(y.copy() if isinstance(idx, slice) else y)]

        return fetch

    def as_tensors(self, flatten: bool = False, normalize: bool = True, standardize: bool = False) -> tuple[Any, Any]:
        """The whole split as ``(X, y)`` Tensors, built in one vectorised step (no per-image loop).

        ``X`` is ``(N, 1, 28, 28)``, or ``(N, 784)`` with ``flatten=True``. With ``normalize`` (default) it is
        float32 in [0, 1]; with ``normalize=False`` the raw uint8 pixels (0-255); ``standardize=True`` gives float32
        ``(x / 255 - mean) / std`` with the class's ``mean``/``std``. ``y`` is int64 ``(N,)``. Wrap them in a
        ``TensorDataset`` for a fast ``DataLoader``::

            X, y = MNIST(train=True).as_tensors(flatten=True)
            loader = DataLoader(TensorDataset(X, y), batch_size=128, shuffle=True)

        Transforms are not applied.
        """
        n = len(self.data)
        if normalize or standardize:
            x = np.divide(self.data, _255, dtype=np.float32)
            if standardize:
                x -= np.float32(self.mean)
                x /= np.float32(self.std)
        else:
            x = np.array(self.data, dtype=np.uint8)  # a writable copy of the shared read-only array
        x = x.reshape(n, -1) if flatten else x.reshape(n, 1, *self.data.shape[1:])
        return wrap(x), wrap(np.array(self.targets, dtype=np.int64))

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self) -> str:
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.folder_path}",
            f"    Split: {'Train' if self.train else 'Test'}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28x28 grayscale article images in 10 classes, with the MNIST interface.

    >>> FashionMNIST.classes[9], FashionMNIST.folder
    ('Ankle boot', 'fashion-mnist')
    """

    folder = "fashion-mnist"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = {
        "train": (
            ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ),
        "test": (
            ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
            ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
        ),
    }
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
    mean = 0.2860
    std = 0.3530
