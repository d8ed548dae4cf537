"""The live sessions: which worker runs each, who holds it, when it was last used, and the limits on them.

No server and no training in here: the sessions themselves live in workers (:mod:`gradlab.playground.worker`);
this is the bookkeeping the server consults when a page connects, and the idle sweep.

>>> m = SessionManager(max_sessions=3, max_per_client=2)
>>> a = m.attach(None, "tab 1", client="10.0.0.1")
>>> b = m.attach(None, "tab 2", client="10.0.0.1")
>>> m.attach(None, "tab 3", client="10.0.0.1")
Traceback (most recent call last):
...
gradlab.playground.manager.ClientLimitError: this address already has 2 playground tabs open ...
>>> m.attach(None, "tab 4", client="10.0.0.2").resumed, len(m)
(False, 3)
"""
from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .worker import WorkerPool

__all__ = ["SessionManager", "SessionLimitError", "ClientLimitError", "Record", "Attached"]


class SessionLimitError(RuntimeError):
    """Every session slot is taken by a connected page.

    >>> m = SessionManager(max_sessions=1)
    >>> _ = m.attach(None, "tab 1", client="10.0.0.1")
    >>> m.attach(None, "tab 2", client="10.0.0.2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    gradlab.playground.manager.SessionLimitError: ...
    """


class ClientLimitError(SessionLimitError):
    """One client address already holds its share of the sessions.

    >>> m = SessionManager(max_per_client=1)
    >>> _ = m.attach(None, "tab 1", client="10.0.0.1")
    >>> m.attach(None, "tab 2", client="10.0.0.1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    gradlab.playground.manager.ClientLimitError: this address already has 1 playground tabs open ...
    """


@dataclass
class Record:
    """One session as the server sees it.

    >>> m = SessionManager(clock=lambda: 5.0)
    >>> a = m.attach(None, "tab", client="10.0.0.1")
    >>> r = m.record(a.sid)
    >>> r.client, r.worker, r.last_active
    ('10.0.0.1', 0, 5.0)
    """

    sid: str
    worker: int
    client: str
    last_active: float


@dataclass
class Attached:
    """What :meth:`SessionManager.attach` decided: the session, whether it existed, and sessions to free.

    >>> m = SessionManager()
    >>> a = m.attach(None, "tab", client="10.0.0.1")
    >>> a.resumed, a.evicted, len(a.sid) > 10
    (False, [], True)
    >>> m.detach(a.sid, "tab")
    >>> m.attach(a.sid, "tab again", client="10.0.0.1").resumed  # the page came back
    True
    """

    sid: str
    worker: int
    resumed: bool
    evicted: list[Record] = field(default_factory=list)


class SessionManager:
    """At most ``max_sessions`` sessions, at most ``max_per_client`` of them per client address; ``sweep`` frees
    those idle for ``idle_timeout`` seconds. ``workers``: worker processes to shard sessions over (0: sessions run
    in this process). ``clock`` (default ``time.monotonic``) is injectable for tests.

    A session is *attached* while a page's WebSocket uses it; a detached session waits for its page to reconnect
    until it expires, and is the first to be evicted when its client (or anyone, when the server is full) needs a
    slot.

    >>> t = [0.0]
    >>> m = SessionManager(max_sessions=2, idle_timeout=60, clock=lambda: t[0])
    >>> a = m.attach(None, "tab 1", client="10.0.0.1")
    >>> m.detach(a.sid, "tab 1")  # the page went away; the session waits for it
    >>> t[0] = 61.0
    >>> [r.sid == a.sid for r, _ in m.sweep()], len(m)  # idle too long: freed
    ([True], 0)
    """

    def __init__(self, max_sessions: int = 32, idle_timeout: float = 600.0,
                 clock: Callable[[], float] = time.monotonic, *, workers: int = 0, max_per_client: int = 8):
        if max_sessions < 1 or idle_timeout <= 0 or max_per_client < 1:
            raise ValueError("max_sessions and max_per_client must be >= 1 and idle_timeout > 0")
        self.max_sessions = max_sessions
        self.max_per_client = max_per_client
        self.idle_timeout = idle_timeout
        self.clock = clock
        self.pool = WorkerPool(workers)
        self.records: dict[str, Record] = {}
        self.attached: dict[str, Any] = {}  # session id -> its connection
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.records)

    def record(self, sid: Any) -> Record | None:
        return self.records.get(sid) if isinstance(sid, str) else None

    def get(self, sid: Any) -> Any:
        """The Session object of ``sid`` when sessions run in this process (``workers=0``), else None."""
        return self.pool.inline_session(sid) if self.record(sid) is not None else None

    def touch(self, sid: str) -> None:
        rec = self.records.get(sid)
        if rec is not None:
            rec.last_active = self.clock()

    def sweep(self) -> list[tuple[Record, Any]]:
        """Forget every session idle for longer than ``idle_timeout``: ``(record, connection or None)`` each (the
        caller drops them from their workers and closes the connections)."""
        now = self.clock()
        with self._lock:
            gone = [r for r in self.records.values() if now - r.last_active > self.idle_timeout]
            return [(r, self.remove(r.sid)) for r in gone]

    def remove(self, sid: str) -> Any:
        """Forget a session; returns the connection it was attached to (or None)."""
        with self._lock:
            self.records.pop(sid, None)
            return self.attached.pop(sid, None)

    def attach(self, sid: Any, connection: Any, client: str = "") -> Attached:
        """The session ``sid`` if it exists and no other page holds it (resumed), else a new slot; raises
        :class:`ClientLimitError` or :class:`SessionLimitError` when there is no room."""
        with self._lock:
            rec = self.record(sid)
            if rec is not None and sid not in self.attached:
                rec.last_active = self.clock()
                self.attached[rec.sid] = connection
                return Attached(rec.sid, rec.worker, True)
            evicted = []
            mine = [r for r in self.records.values() if r.client == client]
            if len(mine) >= self.max_per_client:
                evicted.append(self._evict(mine, ClientLimitError(
                    f"this address already has {len(mine)} playground tabs open (the limit per address is "
                    f"{self.max_per_client}): close one of them, then press Retry")))
            if len(self.records) >= self.max_sessions:
                evicted.append(self._evict(list(self.records.values()), SessionLimitError(
                    f"the playground is busy: {len(self.records)} sessions are open (the limit is "
                    f"{self.max_sessions}); close another tab, or press Retry later")))
            load = [0] * len(self.pool)
            for r in self.records.values():
                load[r.worker] += 1
            new = Record(secrets.token_urlsafe(12), load.index(min(load)), client, self.clock())
            self.records[new.sid] = new
            self.attached[new.sid] = connection
            return Attached(new.sid, new.worker, False, evicted)

    def _evict(self, candidates: list[Record], refusal: SessionLimitError) -> Record:
        detached = [r for r in candidates if r.sid not in self.attached]
        if not detached:
            raise refusal
        victim = min(detached, key=lambda r: r.last_active)
        self.remove(victim.sid)
        return victim

    def detach(self, sid: str, connection: Any) -> None:
        with self._lock:
            if self.attached.get(sid) is connection:
                del self.attached[sid]

    async def drop(self, records: list[Record]) -> None:
        """Free forgotten sessions in their workers."""
        for r in records:
            self.pool.queues[r.worker].forget(r.sid)
            try:
                await self.pool.call(r.worker, r.sid, {"op": "drop"})
            except Exception:  # the worker is gone, and the session with it
                pass
