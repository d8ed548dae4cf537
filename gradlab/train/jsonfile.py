"""Strict JSON for the run-folder files (``history.json``, ``results.json``, ``config.json``), written atomically.

JSON has no NaN or infinity. gradlab never writes the bare ``NaN``/``Infinity`` tokens that Python's ``json`` emits
by default: a non-finite float is written as ``null`` in its place, and the document gets a top-level
``"nonfinite"`` object recording what stood there, keyed by the value's path (keys joined with ``/``, list
indices as numbers), the value being one of the strings ``"nan"``, ``"inf"`` or ``"-inf"``. Reading applies the
record back, so in memory the values are floats again. Readers that do not know the convention see ``null``:
"no usable number".

>>> text = dumps({"test_loss": float("nan"), "history": {"loss": [0.5, float("inf")]}})
>>> text
'{"test_loss": null, "history": {"loss": [0.5, null]}, "nonfinite": {"test_loss": "nan", "history/loss/1": "inf"}}'
>>> loads(text)
{'test_loss': nan, 'history': {'loss': [0.5, inf]}}
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

__all__ = ["NONFINITE_KEY", "encode_nonfinite", "decode_nonfinite", "dumps", "loads", "write_json", "read_json"]

#: The top-level key recording the non-finite floats written as ``null``.
NONFINITE_KEY = "nonfinite"


def _float_name(x: float) -> str:
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def encode_nonfinite(obj: Any) -> Any:
    """A copy of ``obj`` (dicts, lists, tuples, scalars) with every non-finite float replaced by ``None`` and, when
    there were any, a top-level :data:`NONFINITE_KEY` entry recording them (``obj`` must then be a dict).

    numpy scalars become Python numbers.

    >>> encode_nonfinite({"a": [1.0, float("-inf")]})
    {'a': [1.0, None], 'nonfinite': {'a/1': '-inf'}}
    """
    found: dict[str, str] = {}

    def walk(x: Any, path: str) -> Any:
        if isinstance(x, dict):
            return {k: walk(v, f"{path}/{k}" if path else str(k)) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [walk(v, f"{path}/{i}" if path else str(i)) for i, v in enumerate(x)]
        if isinstance(x, bool) or x is None or isinstance(x, str):
            return x
        if hasattr(x, "item") and not isinstance(x, (int, float)):  # numpy scalar
            x = x.item()
        if isinstance(x, float) and not math.isfinite(x):
            found[path] = _float_name(x)
            return None
        return x

    out = walk(obj, "")
    if found:
        if not isinstance(out, dict):
            raise ValueError("non-finite floats can only be recorded in a JSON object at the top level")
        out[NONFINITE_KEY] = found
    return out


def _legacy(x: Any) -> Any:
    """The old form (before strict JSON): non-finite floats stored as the strings ``'nan'``, ``'inf'``..."""
    if isinstance(x, dict):
        return {k: _legacy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_legacy(v) for v in x]
    if isinstance(x, str) and x.lower() in ("nan", "inf", "-inf", "infinity", "-infinity"):
        return float(x)
    return x


def decode_nonfinite(obj: Any, legacy_strings: bool = False) -> Any:
    """Undo :func:`encode_nonfinite`: put the recorded non-finite floats back and drop :data:`NONFINITE_KEY`.

    ``legacy_strings``: also turn the strings ``'nan'``/``'inf'``/``'-inf'`` into floats (files written before
    this convention, e.g. old ``history.json``). Raises ValueError on a record that does not fit the document.

    >>> decode_nonfinite({"a": [1.0, None], "nonfinite": {"a/1": "-inf"}})
    {'a': [1.0, -inf]}
    """
    if not isinstance(obj, dict) or NONFINITE_KEY not in obj:
        return _legacy(obj) if legacy_strings else obj
    obj = dict(obj)
    record = obj.pop(NONFINITE_KEY)
    if legacy_strings:
        obj = _legacy(obj)
    if not isinstance(record, dict):
        raise ValueError(f"{NONFINITE_KEY!r} must be an object mapping paths to 'nan', 'inf' or '-inf'")
    for path, name in record.items():
        if name not in ("nan", "inf", "-inf"):
            raise ValueError(f"{NONFINITE_KEY!r}: {path!r} holds {name!r}, not 'nan', 'inf' or '-inf'")
        *parents, last = str(path).split("/")
        node: Any = obj
        try:
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            key: Any = int(last) if isinstance(node, list) else last
            if node[key] is not None:
                raise ValueError(f"{NONFINITE_KEY!r}: {path!r} is not null in the document")
            node[key] = float(name)
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise ValueError(f"{NONFINITE_KEY!r}: the path {path!r} does not fit the document ({e})") from None
    return obj


def dumps(obj: Any, indent: int | None = None) -> str:
    """Strict JSON text of ``obj`` (non-finite floats as ``null`` + the :data:`NONFINITE_KEY` record).

    >>> dumps({"x": 1.5})
    '{"x": 1.5}'
    """
    return json.dumps(encode_nonfinite(obj), indent=indent, allow_nan=False, ensure_ascii=False)


def loads(text: str, legacy_strings: bool = False) -> Any:
    """Parse JSON written by :func:`dumps` (floats restored); bare ``NaN``/``Infinity`` tokens are accepted too.

    >>> loads('{"x": null, "nonfinite": {"x": "nan"}}')
    {'x': nan}
    """
    return decode_nonfinite(json.loads(text), legacy_strings=legacy_strings)


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 1) -> Path:
    """Write ``obj`` as strict JSON to ``path`` atomically (temporary file in the same folder, then rename).

    >>> import tempfile, os
    >>> p = write_json(os.path.join(tempfile.mkdtemp(), "r.json"), {"loss": float("nan")})
    >>> read_json(p)
    {'loss': nan}
    """
    path = Path(path)
    text = dumps(obj, indent=indent) + "\n"
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_json(path: str | os.PathLike, legacy_strings: bool = False) -> Any:
    """Read a JSON file written by :func:`write_json`; ValueError naming the file when it is not valid JSON.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "bad.json"); _ = open(p, "w").write("{oops")
    >>> read_json(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../bad.json is not valid JSON: ...
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        return loads(text, legacy_strings=legacy_strings)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
