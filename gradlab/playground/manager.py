"""The live sessions (bounded, freed when idle) and the session-level message protocol. No server in here.

Messages from the page are JSON objects with a ``type``; :func:`handle` answers the session-level ones with a
list of replies. ``play``, ``pause`` and ``ack`` belong to the connection (see :mod:`gradlab.playground.app`).

>>> m = SessionManager(max_sessions=2)
>>> s = m.create()
>>> [r["type"] for r in handle(s, {"type": "config", "settings": {"dataset": "xor"}})]
['state', 'frame']
>>> handle(s, {"type": "config", "settings": {"layers": [0]}})[0]["message"]
'hidden layer 1: between 1 and 64 neurons, got 0'
>>> handle(s, {"type": "bogus"})[0]["message"]
"unknown message type 'bogus'"
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from .config import SettingsError
from .data import parse_csv
from .session import Session

__all__ = ["SessionManager", "SessionLimitError", "handle", "error", "COMPUTE_LOCK", "MESSAGE_TYPES"]

log = logging.getLogger("gradlab.playground")

# gradlab's grad mode is one global switch: every session's gradlab work runs under this lock, one at a time.
COMPUTE_LOCK = threading.Lock()

CONNECTION_TYPES = ("play", "pause", "ack")
SESSION_TYPES = ("config", "reset", "regenerate", "step", "upload", "neuron", "state")
MESSAGE_TYPES = CONNECTION_TYPES + SESSION_TYPES


class SessionLimitError(RuntimeError):
    """Every session slot is taken by a connected page."""


def error(message: str, request: Any = None) -> dict[str, Any]:
    return {"type": "error", "message": message, "request": request}


class SessionManager:
    """Holds at most ``max_sessions`` sessions; ``sweep`` frees those idle for ``idle_timeout`` seconds.

    ``clock`` (default ``time.monotonic``) is injectable for tests. A session is *attached* while a page's
    WebSocket uses it; a detached session waits for its page to reconnect until it expires, and is the first
    to be evicted when a new page needs a slot.
    """

    def __init__(self, max_sessions: int = 32, idle_timeout: float = 600.0,
                 clock: Callable[[], float] = time.monotonic):
        if max_sessions < 1 or idle_timeout <= 0:
            raise ValueError("max_sessions must be >= 1 and idle_timeout > 0")
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self.clock = clock
        self.sessions: dict[str, Session] = {}
        self.attached: dict[str, Any] = {}  # session id -> its connection
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.sessions)

    def get(self, sid: Any) -> Session | None:
        return self.sessions.get(sid) if isinstance(sid, str) else None

    def sweep(self) -> list[tuple[Session, Any]]:
        """Free every session idle for longer than ``idle_timeout``; returns ``(session, connection or None)``."""
        now = self.clock()
        with self._lock:
            gone = [s for s in self.sessions.values() if now - s.last_active > self.idle_timeout]
            return [(s, self.remove(s.sid)) for s in gone]

    def remove(self, sid: str) -> Any:
        """Forget a session; returns the connection it was attached to (or None)."""
        with self._lock:
            self.sessions.pop(sid, None)
            return self.attached.pop(sid, None)

    def create(self, settings: dict[str, Any] | None = None) -> Session:
        """A new session (evicting the longest-idle detached one when full; SessionLimitError if all attached)."""
        with self._lock:
            if len(self.sessions) >= self.max_sessions:
                detached = [s for s in self.sessions.values() if s.sid not in self.attached]
                if not detached:
                    raise SessionLimitError(
                        f"the playground is busy: {len(self.sessions)} sessions are open (the limit is "
                        f"{self.max_sessions}); close another tab or try again later")
                self.remove(min(detached, key=lambda s: s.last_active).sid)
            sid = secrets.token_urlsafe(12)
            with COMPUTE_LOCK:
                session = Session(settings, sid=sid, clock=self.clock)
            self.sessions[sid] = session
            return session

    def attach(self, sid: Any, connection: Any) -> tuple[Session, bool]:
        """The session ``sid`` if it exists and no other page holds it (resumed: True), else a new one."""
        self.sweep()
        with self._lock:
            session = self.get(sid)
            if session is not None and sid not in self.attached:
                session.touch()
                self.attached[sid] = connection
                return session, True
            session = self.create()
            self.attached[session.sid] = connection
            return session, False

    def detach(self, sid: str, connection: Any) -> None:
        with self._lock:
            if self.attached.get(sid) is connection:
                del self.attached[sid]


def handle(session: Session, msg: Any) -> list[dict[str, Any]]:
    """Answer one session-level message (never raises for bad input: replies with an ``error`` instead)."""
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        return [error('a message must be a JSON object with a "type"')]
    kind = msg["type"]
    if kind not in SESSION_TYPES:
        if kind in CONNECTION_TYPES:
            return [error(f"{kind!r} is handled by the connection, not the session", kind)]
        return [error(f"unknown message type {kind[:40]!r}", kind[:40])]
    session.touch()
    try:
        with COMPUTE_LOCK:
            return _dispatch(session, kind, msg)
    except SettingsError as e:
        return [error(str(e), kind)]
    except Exception as e:  # a bug: say so, keep the connection and the server
        log.exception("playground: %s message failed", kind)
        return [error(f"internal error while handling {kind!r}: {type(e).__name__}: {e}", kind)]


def _dispatch(session: Session, kind: str, msg: dict[str, Any]) -> list[dict[str, Any]]:
    if kind == "config":
        session.configure(msg.get("settings"))
    elif kind == "reset":
        session.reset()
    elif kind == "regenerate":
        session.regenerate()
    elif kind == "step":
        return [session.step()]
    elif kind == "neuron":
        reply = session.set_neuron(msg.get("layer"), msg.get("index"))
        return [reply] if reply else []
    elif kind == "upload":
        problem = msg.get("problem", session.settings["problem"])
        data = parse_csv(msg.get("csv"), problem)
        session.upload(data)
        return [{"type": "info", "message": f"CSV data set loaded: {data.note}"}, session.state(), session.frame()]
    frame = session.paused_message() if session.diverged else session.frame()
    return [session.state(), frame]
