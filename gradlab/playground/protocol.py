"""The session-level message protocol (no server, no processes): :func:`handle` answers one message from the page.

Messages from the page are JSON objects with a ``type``; ``play``, ``pause``, ``step`` and ``ack`` belong to the
connection (see :mod:`gradlab.playground.connection`), the rest are answered here with a list of replies.

>>> from gradlab.playground.session import Session
>>> s = Session()
>>> [r["type"] for r in handle(s, {"type": "config", "settings": {"dataset": "xor"}})]
['state', 'frame']
>>> handle(s, {"type": "config", "settings": {"layers": [0]}})[0]["message"]
'hidden layer 1: between 1 and 64 neurons, got 0'
>>> handle(s, {"type": "bogus"})[0]["message"]
"unknown message type 'bogus'"
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any

from .config import SettingsError, describe
from .data import parse_csv
from .session import Session

__all__ = ["handle", "error", "to_json", "nesting_depth", "COMPUTE_LOCK", "MESSAGE_TYPES", "CONNECTION_TYPES",
           "SESSION_TYPES", "MAX_DEPTH"]

log = logging.getLogger("gradlab.playground")

# gradlab's grad mode is one global switch: in one process, sessions' gradlab work runs under this lock.
COMPUTE_LOCK = threading.Lock()

CONNECTION_TYPES = ("play", "pause", "ack", "step")
SESSION_TYPES = ("config", "reset", "regenerate", "upload", "neuron", "state", "weight")
MESSAGE_TYPES = CONNECTION_TYPES + SESSION_TYPES
MAX_DEPTH = 32  # no message of the protocol nests deeper than a few levels


def error(message: str, request: Any = None) -> dict[str, Any]:
    """An ``error`` reply (``request``: the type of the message it answers).

    >>> error("no", "config")
    {'type': 'error', 'message': 'no', 'request': 'config'}
    """
    return {"type": "error", "message": message, "request": request}


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if obj == obj and abs(obj) != float("inf") else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def to_json(msg: Any) -> str:
    """Strict JSON for the browser: NaN and infinities (never valid JSON) become null.

    >>> to_json({"a": float("nan"), "b": [1.5]})
    '{"a":null,"b":[1.5]}'
    """
    try:
        return json.dumps(msg, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_clean(msg), separators=(",", ":"), allow_nan=False)


def nesting_depth(obj: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply lists and objects nest in ``obj`` (counted without recursion; stops counting past ``limit``).

    >>> nesting_depth({"a": [[1], 2]}), nesting_depth(5)
    (3, 0)
    """
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if depth > limit:
                return deepest
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def handle(session: Session, msg: Any) -> list[dict[str, Any]]:
    """Answer one session-level message (never raises for bad input: replies with an ``error`` instead).

    >>> from gradlab.playground.session import Session
    >>> s = Session({"dataset": "xor", "layers": [2]})
    >>> [r["type"] for r in handle(s, {"type": "reset"})]
    ['state', 'frame']
    >>> handle(s, "hello")[0]["message"]
    'a message must be a JSON object with a "type"'
    """
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        return [error('a message must be a JSON object with a "type"')]
    kind = msg["type"]
    if kind not in SESSION_TYPES:
        if kind in CONNECTION_TYPES:
            return [error(f"{kind!r} is handled by the connection, not the session", kind)]
        return [error(f"unknown message type {describe(kind)}", kind[:40])]
    session.touch()
    try:
        with COMPUTE_LOCK:
            return _dispatch(session, kind, msg)
    except SettingsError as e:
        return [error(str(e), kind)]
    except Exception as e:  # a bug: say so, keep the connection and the server
        log.exception("playground: %s message failed", kind)
        return [error(f"internal error while handling {kind!r}: {type(e).__name__}", kind)]


def _dispatch(session: Session, kind: str, msg: dict[str, Any]) -> list[dict[str, Any]]:
    if kind == "config":
        session.configure(msg.get("settings"))
    elif kind == "reset":
        session.reset()
    elif kind == "regenerate":
        session.regenerate()
    elif kind == "neuron":
        reply = session.set_neuron(msg.get("layer"), msg.get("index"))
        return [reply] if reply else []
    elif kind == "weight":
        value = msg.get("value")
        reply = session.weight(msg.get("layer"), msg.get("src"), msg.get("dst"), value)
        if value is None:
            return [reply]
        return [reply, session.paused_message() if session.diverged else session.frame()]
    elif kind == "upload":
        problem = msg.get("problem", session.settings["problem"])
        data = parse_csv(msg.get("csv"), problem, msg.get("scaling", "columns"))
        session.upload(data)
        return [{"type": "info", "message": f"CSV data set loaded: {data.note}. Your data is not part of the page's "
                 "link; use \u201cdownload data\u201d to keep it."}, session.state(), session.frame()]
    frame = session.paused_message() if session.diverged else session.frame()
    return [session.state(), frame]
