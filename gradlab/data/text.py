"""Character-level text data: a ``Vocab`` (characters <-> ids, saved as JSON next to a model's weights),
``CharDataset`` (fixed-length windows of ids with their next-character targets) and ``char_datasets`` (a UTF-8
text file split into train and validation parts).

>>> v = Vocab.from_text("hello")
>>> v.chars, v.encode("hell").tolist(), v.decode([3, 1])
(['e', 'h', 'l', 'o'], [1, 0, 2, 2], 'oh')
>>> ds = CharDataset(v.encode("hello hello"[:5]), seq_len=2)
>>> len(ds), [a.tolist() for a in ds[0]]
(2, [[1, 0], [0, 2]])
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradlab.data.dataset import Dataset

__all__ = ["Vocab", "CharDataset", "load_text", "split_text", "char_datasets"]


class Vocab:
    """A character vocabulary: ``chars[i]`` has id ``i`` (sorted by code point, so building it is deterministic).

    >>> v = Vocab.from_text("hello")
    >>> v.chars, len(v)
    (['e', 'h', 'l', 'o'], 4)
    >>> v.encode("hole").tolist(), v.decode([1, 0, 2, 2, 3])
    ([1, 3, 2, 0], 'hello')
    >>> Vocab("hello")
    Traceback (most recent call last):
        ...
    ValueError: a Vocab's characters must be distinct
    """

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars: list[str] = list(chars)
        if any(len(c) != 1 for c in self.chars):
            raise ValueError("a Vocab holds single characters")
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("a Vocab's characters must be distinct")
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and other.chars == self.chars

    def __repr__(self) -> str:
        return f"Vocab({len(self)} characters)"

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text`` as an int64 array; raises ValueError naming characters outside the vocabulary."""
        try:
            return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError:
            missing = sorted({c for c in text if c not in self.stoi})
            raise ValueError(f"characters not in the vocabulary: {''.join(missing)!r}") from None

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        return "".join(self.chars[int(i)] for i in np.asarray(ids).reshape(-1))

    def to_json(self) -> str:
        return json.dumps({"chars": self.chars}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocab:
        return cls(json.loads(text)["chars"])

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON to ``path`` (atomically: a temporary file, then a rename)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


class CharDataset(Dataset):
    """Windows of ``seq_len`` ids and their targets (the same window shifted by one character).

    Item ``i`` starts at ``i * stride`` (``stride`` defaults to ``seq_len``: non-overlapping windows) and is a pair
    of int64 arrays ``(ids[s:s + seq_len], ids[s + 1:s + seq_len + 1])``.

    >>> ds = CharDataset(np.arange(10), seq_len=4)
    >>> len(ds), [a.tolist() for a in ds[1]]
    (2, [[4, 5, 6, 7], [5, 6, 7, 8]])
    >>> len(CharDataset(np.arange(10), seq_len=4, stride=1))
    6
    """

    def __init__(self, ids: Sequence[int] | np.ndarray, seq_len: int, stride: int | None = None) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        if seq_len < 1:
            raise ValueError(f"seq_len must be >= 1, got {seq_len}")
        self.seq_len = int(seq_len)
        self.stride = int(stride or seq_len)
        if self.stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        if len(self.ids) < self.seq_len + 1:
            raise ValueError(f"a text of {len(self.ids)} characters is too short for windows of {seq_len} "
                             f"(+1 for the targets)")
        self._n = (len(self.ids) - self.seq_len - 1) // self.stride + 1

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError(f"index {index} out of range for a CharDataset of {self._n} windows")
        s = index * self.stride
        return self.ids[s:s + self.seq_len], self.ids[s + 1:s + self.seq_len + 1]


def load_text(path: str | os.PathLike) -> str:
    """The contents of a UTF-8 text file (newlines normalised to ``\\n``).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "t.txt"
    ...     _ = p.write_bytes("caf\\u00e9\\r\\nok\\n".encode("utf-8"))
    ...     load_text(p)
    'café\\nok\\n'
    """
    return Path(path).read_text(encoding="utf-8").replace("\r\n", "\n")


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """``(train, validation)``: the last ``val_fraction`` of the text is the validation part.

    >>> split_text("abcdefghij", 0.2)
    ('abcdefgh', 'ij')
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    cut = len(text) - int(round(len(text) * val_fraction))
    return text[:cut], text[cut:]


def char_datasets(path: str | os.PathLike, seq_len: int = 100, val_fraction: float = 0.1,
                  stride: int | None = None, limit: int | None = None) -> tuple[CharDataset, CharDataset | None, Vocab]:
    """``(train, validation or None, vocab)`` from a UTF-8 text file (its first ``limit`` characters when given);
    the vocabulary covers the whole (limited) text.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "t.txt"
    ...     _ = p.write_text("abcab" * 20, encoding="utf-8")
    ...     train, val, vocab = char_datasets(p, seq_len=8, val_fraction=0.2)
    >>> len(train), len(val), vocab.chars
    (9, 2, ['a', 'b', 'c'])
    """
    text = load_text(path)
    if limit is not None:
        text = text[:limit]
    if not text:
        raise ValueError(f"{path}: the text is empty")
    vocab = Vocab.from_text(text)
    train, val = split_text(text, val_fraction)
    val_ds: Any = None
    if len(val) > seq_len:
        val_ds = CharDataset(vocab.encode(val), seq_len)
    return CharDataset(vocab.encode(train), seq_len, stride), val_ds, vocab
