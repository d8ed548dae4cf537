"""Where sessions run: worker processes (or the server's own process), and a fair queue in front of each worker.

Sessions are sharded over ``n`` worker processes (each running :func:`main`), so independent
sessions use all cores instead of waiting on one lock. The server talks to a worker through its stdin and stdout:
each message is a 4-byte big-endian length and a JSON object (no pickle). ``workers=0`` runs one
:class:`~gradlab.playground.host.SessionHost` in the server's process instead (tests, tiny machines).

Each worker runs one request at a time. :class:`WorkerQueue` decides which waits least: the session that has used
the least worker time so far (a virtual clock per session, as in fair-share schedulers), so a session whose
frames are expensive, or that floods requests, gets its share and no more; a session never has more than one
request waiting, and a request whose page went away is dropped before it runs. A session with cheap requests
sends its next one a moment after the last reply; when it would be next in line anyway, the queue waits up to
``anticipate_s`` for it (anticipatory scheduling) instead of starting a long request of another session, which
would otherwise make the two strictly alternate.

>>> import anyio
>>> async def demo():
...     pool = WorkerPool(0)
...     async with anyio.create_task_group() as tg:
...         tg.start_soon(pool.run)
...         await pool.call(0, "s1", {"op": "create"})
...         reply = await pool.call(0, "s1", {"op": "play_frame", "budget": 0.005})
...         tg.cancel_scope.cancel()
...     return reply["replies"][0]["type"]
>>> anyio.run(demo)
'frame'
"""
from __future__ import annotations

import heapq
import itertools
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from .host import SessionHost
from .protocol import to_json

__all__ = ["WorkerPool", "WorkerQueue", "WorkerError", "ProcessWorker", "InlineWorker", "main"]

_HEADER = struct.Struct(">I")
MAX_REPLY_BYTES = 64 << 20
ANTICIPATE_S = 0.004


class WorkerError(RuntimeError):
    """A worker process stopped (its sessions are lost; the next request starts a fresh worker).

    >>> w = ProcessWorker()
    >>> w.start()
    >>> w.proc.stdout.close()  # the worker's replies can no longer be read
    >>> w.call({"op": "pid"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    gradlab.playground.worker.WorkerError: the worker process stopped (...)
    >>> w.close()
    """


class InlineWorker:
    """A session host in this process (replies go through JSON, exactly as from a worker process).

    >>> w = InlineWorker()
    >>> w.call({"op": "create", "sid": "a"}), w.call({"op": "pid"})["pid"] == os.getpid()
    ({'ok': True}, True)
    >>> w.close()
    """

    def __init__(self) -> None:
        self.host = SessionHost()

    def call(self, req: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = json.loads(to_json(self.host.execute(req)))
        return reply

    def close(self) -> None:
        self.host.sessions.clear()


def _read_exact(stream: Any, n: int) -> bytes:
    data = stream.read(n)
    if data is None or len(data) != n:
        raise EOFError("the worker closed its output")
    return bytes(data)


class ProcessWorker:
    """A worker process running :func:`main`; :meth:`call` sends one request and waits for its reply.

    >>> w = ProcessWorker()
    >>> w.call({"op": "pid"})["pid"] != os.getpid()  # started on the first call
    True
    >>> w.call({"op": "create", "sid": "a"})
    {'ok': True}
    >>> w.close()
    """

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        root = str(Path(__file__).resolve().parents[2])
        path = os.environ.get("PYTHONPATH")
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONPATH=root + (os.pathsep + path if path else ""))
        code = "from gradlab.playground.worker import main; main()"
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env)

    def call(self, req: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self.start()  # a fresh, empty worker
            proc = self.proc
            assert proc is not None and proc.stdin is not None and proc.stdout is not None
            data = to_json(req).encode("utf-8")
            try:
                proc.stdin.write(_HEADER.pack(len(data)) + data)
                proc.stdin.flush()
                (n,) = _HEADER.unpack(_read_exact(proc.stdout, 4))
                if n > MAX_REPLY_BYTES:
                    raise EOFError(f"a reply of {n} bytes")
                reply: dict[str, Any] = json.loads(_read_exact(proc.stdout, n))
                return reply
            except (OSError, EOFError, ValueError) as e:
                proc.kill()
                proc.wait()
                raise WorkerError(f"the worker process stopped ({e})") from None

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            try:
                proc.stdin.close()  # the worker exits at the end of its input
            except OSError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


class _Request:
    __slots__ = ("sid", "req", "event", "result", "failure", "cancelled")

    def __init__(self, sid: str, req: dict[str, Any]):
        self.sid, self.req = sid, req
        self.event = anyio.Event()
        self.result: dict[str, Any] = {}
        self.failure: BaseException | None = None
        self.cancelled = False


class WorkerQueue:
    """One worker and the requests waiting for it, served least-used session first (``clock``: seconds, for the
    time each request used; injectable for tests).

    >>> async def demo():
    ...     queue = WorkerQueue(InlineWorker())
    ...     async with anyio.create_task_group() as tg:
    ...         tg.start_soon(queue.run)
    ...         replies = [await queue.call("s1", {"op": "create"}), await queue.call("s2", {"op": "state"})]
    ...         tg.cancel_scope.cancel()
    ...     return replies
    >>> anyio.run(demo)
    [{'ok': True}, {'missing': True}]
    """

    def __init__(self, worker: Any, clock: Any = time.perf_counter, anticipate_s: float = ANTICIPATE_S):
        self.worker, self.clock, self.anticipate_s = worker, clock, anticipate_s
        self.heap: list[tuple[float, int, _Request]] = []
        self.used: dict[str, float] = {}  # session id -> its virtual clock (seconds of worker time)
        self.floor = 0.0
        self.seq = itertools.count()
        self.wake = anyio.Event()
        self.busy: set[Any] = set()  # connections training here now (they share the worker's time)

    async def call(self, sid: str, req: dict[str, Any]) -> dict[str, Any]:
        r = _Request(sid, {**req, "sid": sid})
        start = max(self.used.get(sid, 0.0), self.floor)  # a newcomer starts level with the others
        self.used[sid] = start
        heapq.heappush(self.heap, (start, next(self.seq), r))
        self.wake.set()
        try:
            await r.event.wait()
        except BaseException:
            r.cancelled = True  # the page went away: the request is dropped if it has not started
            raise
        if r.failure is not None:
            raise r.failure
        return r.result

    def forget(self, sid: str) -> None:
        self.used.pop(sid, None)

    async def _anticipate(self, sid: str, deadline: float) -> None:
        """Wait (until ``deadline``) while ``sid`` has no request waiting but would be served before the others."""
        while anyio.current_time() < deadline and sid in self.used:
            if any(q.sid == sid for _, _, q in self.heap) or (self.heap and self.heap[0][0] <= self.used[sid]):
                return
            self.wake = anyio.Event()
            with anyio.move_on_after(deadline - anyio.current_time()):
                await self.wake.wait()

    async def run(self) -> None:
        last: str | None = None
        while True:
            while not self.heap:
                self.wake = anyio.Event()
                await self.wake.wait()
            if last is not None and self.anticipate_s > 0:
                await self._anticipate(last, anyio.current_time() + self.anticipate_s)
            start, _, r = heapq.heappop(self.heap)
            if r.cancelled:
                continue
            self.floor = max(self.floor, start)
            t0 = self.clock()
            try:
                r.result = await anyio.to_thread.run_sync(self.worker.call, r.req)
            except Exception as e:
                r.failure = e
            if r.sid in self.used:
                self.used[r.sid] += self.clock() - t0
            last = r.sid
            r.event.set()


class WorkerPool:
    """``n`` worker processes (``n = 0``: one in-process host), each behind a :class:`WorkerQueue`.

    >>> pool = WorkerPool(0)  # no processes: one host in this process
    >>> len(pool), pool.inline_session("nobody")
    (1, None)
    """

    def __init__(self, n: int = 0):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"the number of workers must be a whole number >= 0, got {n!r}")
        self.inline = n == 0
        self.queues = [WorkerQueue(InlineWorker())] if n == 0 else [WorkerQueue(ProcessWorker()) for _ in range(n)]

    def __len__(self) -> int:
        return len(self.queues)

    def inline_session(self, sid: Any) -> Any:
        """The Session object of ``sid`` when sessions run in this process (else None)."""
        worker = self.queues[0].worker
        return worker.host.sessions.get(sid) if self.inline and isinstance(sid, str) else None

    async def call(self, index: int, sid: str, req: dict[str, Any]) -> dict[str, Any]:
        """Run ``req`` for session ``sid`` on worker ``index`` when its turn comes; WorkerError if the worker died."""
        return await self.queues[index].call(sid, req)

    async def run(self) -> None:
        """Start the workers and serve their queues until cancelled; then stop the workers."""
        try:
            async with anyio.create_task_group() as tg:
                for q in self.queues:
                    if isinstance(q.worker, ProcessWorker):
                        tg.start_soon(anyio.to_thread.run_sync, q.worker.call, {"op": "pid"})  # start it now
                    tg.start_soon(q.run)
        finally:
            with anyio.CancelScope(shield=True):
                for q in self.queues:
                    await anyio.to_thread.run_sync(q.worker.close)


def main() -> None:
    """A worker process: requests on stdin, replies on stdout, until stdin ends.

    >>> import gradlab
    >>> req = json.dumps({"op": "create", "sid": "a"}).encode()
    >>> env = dict(os.environ, PYTHONPATH=str(Path(gradlab.__file__).resolve().parents[1]))
    >>> out = subprocess.run([sys.executable, "-c", "from gradlab.playground.worker import main; main()"],
    ...                      input=_HEADER.pack(len(req)) + req, capture_output=True, env=env, check=True).stdout
    >>> (n,) = _HEADER.unpack(out[:4])
    >>> json.loads(out[4:4 + n])
    {'ok': True}
    """
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, never into the replies
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server, which then closes our stdin
    inp, host = sys.stdin.buffer, SessionHost()
    while True:
        try:
            (n,) = _HEADER.unpack(_read_exact(inp, 4))
            req = json.loads(_read_exact(inp, n))
        except EOFError:
            return
        data = to_json(host.execute(req) if isinstance(req, dict) else {"error": "a request must be an object"})
        body = data.encode("utf-8")
        out.write(_HEADER.pack(len(body)) + body)
        out.flush()


if __name__ == "__main__":
    main()
