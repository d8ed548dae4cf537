"""One page's WebSocket: receive its messages, run its play loop and its steps, send frames.

While playing, the server trains a time slice, sends a frame, and waits for the page to acknowledge it (at most
``window`` frames in flight, so a slow or hidden tab slows training down instead of piling frames up), at most
``max_fps`` frames a second. A "step" (one epoch) is trained in time slices too, so a long epoch never holds the
worker; steps asked for while one runs are merged (at most :data:`MAX_QUEUED_STEPS` wait). The time slice shrinks
as more sessions train on the same worker, so that each of them gets a frame several times a second. When the page
goes away, its waiting work is dropped.
"""
from __future__ import annotations

import contextlib
import json
from typing import Any

import anyio

from .config import DEFAULTS, FEATURES, LIMITS
from .manager import SessionLimitError, SessionManager
from .protocol import MAX_DEPTH, SESSION_TYPES, error, nesting_depth, to_json
from .worker import WorkerError

try:
    from starlette.websockets import WebSocket, WebSocketState
except ImportError:  # pragma: no cover - the extra is missing; app.create_app says what to install
    WebSocket = Any  # type: ignore[misc,assignment]

__all__ = ["Connection", "MAX_MESSAGE_CHARS", "MAX_QUEUED_STEPS", "EXPIRED_CODE", "BUSY_CODE", "LOST_CODE"]

MAX_MESSAGE_CHARS = 2_000_000  # a 1 MB CSV as JSON text, with room to spare
MAX_QUEUED_STEPS = 2
SHARE_S = 0.016  # a shared worker's training time per round of its busy sessions (each gets SHARE_S / n) ...
MIN_SLICE_S = 0.003  # ... but never less than this per frame
EXPIRED_CODE = 4000
LOST_CODE = 4001
BUSY_CODE = 1013


class Connection:
    """One page's WebSocket and the session it drives (see the module docstring).

    >>> from starlette.testclient import TestClient
    >>> from gradlab.playground.app import create_app
    >>> with TestClient(create_app(max_fps=None)) as client, client.websocket_connect("/ws") as ws:
    ...     first = [ws.receive_json()["type"] for _ in range(3)]
    ...     ws.send_json({"type": "config", "settings": {"layers": [0]}})
    ...     refused = ws.receive_json()
    >>> first, refused["type"], refused["message"]
    (['hello', 'state', 'frame'], 'error', 'hidden layer 1: between 1 and 64 neurons, got 0')
    """

    def __init__(self, ws: WebSocket, manager: SessionManager, max_fps: float | None, window: int,
                 budget_s: float):
        self.ws, self.manager = ws, manager
        self.max_fps, self.window, self.budget_s = max_fps, window, budget_s
        self.sid = ""
        self.worker = 0
        self.frame_no = 0
        self.playing = False
        self.steps = 0
        self.acked = 0
        self.ack_event = anyio.Event()
        self.work_event = anyio.Event()
        self.call_lock = anyio.Lock()
        self.send_lock = anyio.Lock()
        self.closed = False
        self.scope: Any = None

    # ------------------------------------------------------------------ sending
    async def send(self, msg: dict[str, Any]) -> None:
        if self.closed:
            return
        if msg.get("type") == "frame":
            self.frame_no = max(self.frame_no, int(msg["frame"]))
        async with self.send_lock:
            if self.ws.application_state != WebSocketState.CONNECTED:
                return
            try:
                await self.ws.send_text(to_json(msg))
            except Exception:  # the page went away mid-send: this connection is over, the server is fine
                self._stop()

    def _stop(self) -> None:
        self.closed, self.playing, self.steps = True, False, 0
        if self.scope is not None:
            self.scope.cancel()

    async def call(self, req: dict[str, Any]) -> dict[str, Any]:
        """One request to this session's worker (one at a time per page). A lost session ends the connection."""
        async with self.call_lock:
            try:
                reply = await self.manager.pool.call(self.worker, self.sid, req)
            except WorkerError:
                reply = {"missing": True}
        if reply.get("missing"):
            self.manager.remove(self.sid)
            await self.send({**error("this session was lost (its worker process stopped); press Retry to start a "
                                     "new one", "connect"), "fatal": True})
            with contextlib.suppress(Exception):
                await self.ws.close(code=LOST_CODE, reason="session lost")
            self._stop()  # cancels this connection's task group, and with it this call
            await anyio.sleep_forever()
        return reply

    async def _send_replies(self, reply: dict[str, Any]) -> None:
        for msg in reply.get("replies", []):
            await self.send(msg)

    # ------------------------------------------------------------------ life
    async def run(self, requested: Any, client: str) -> None:
        try:
            got = self.manager.attach(requested, self, client)
        except SessionLimitError as e:
            await self.send({**error(str(e), "connect"), "fatal": True, "retry": True})
            await self.ws.close(code=BUSY_CODE, reason="too many sessions")
            return
        self.sid, self.worker = got.sid, got.worker
        try:
            async with anyio.create_task_group() as tg:
                self.scope = tg.cancel_scope
                await self.manager.drop(got.evicted)
                if not got.resumed:
                    await self.call({"op": "create"})
                await self.send({"type": "hello", "session": self.sid, "resumed": got.resumed, "limits": LIMITS,
                                 "defaults": DEFAULTS, "features": FEATURES, "max_fps": self.max_fps})
                reply = await self.call({"op": "hello"})
                await self._send_replies(reply)
                self.acked = self.frame_no
                tg.start_soon(self._work_loop)
                await self._receive_loop()
                tg.cancel_scope.cancel()
        finally:
            self.playing, self.closed = False, True
            self.manager.pool.queues[self.worker].busy.discard(self)
            self.manager.detach(self.sid, self)

    async def expire(self) -> None:
        """The session was freed for being idle: tell the page and close."""
        self.playing = False
        await self.send({"type": "expired", "message": "This session was closed after "
                         f"{self.manager.idle_timeout / 60:g} minutes without activity. Reconnect to start again."})
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code=EXPIRED_CODE, reason="idle")
        self._stop()

    # ------------------------------------------------------------------ receiving
    async def _receive_loop(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await self.send(error("binary messages are not understood; send JSON text"))
                continue
            if len(text) > MAX_MESSAGE_CHARS:
                await self.send(error(f"message too large ({len(text):,} characters; the limit is "
                                      f"{MAX_MESSAGE_CHARS:,})"))
                continue
            try:
                msg = json.loads(text)
            except (ValueError, RecursionError):
                await self.send(error("a message must be JSON (this one could not be read, or nests too deeply)"))
                continue
            if nesting_depth(msg) > MAX_DEPTH:
                await self.send(error(f"a message must be JSON nested at most {MAX_DEPTH} levels deep"))
                continue
            await self._dispatch(msg)

    async def _dispatch(self, msg: Any) -> None:
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            await self.send(error('a message must be a JSON object with a "type"'))
            return
        kind = msg["type"]
        self.manager.touch(self.sid)
        if kind == "ack":
            frame = msg.get("frame")
            if isinstance(frame, int) and not isinstance(frame, bool):
                self.acked = max(self.acked, min(frame, self.frame_no))
                self.ack_event.set()
            else:
                await self.send(error("ack needs the frame number (a whole number)", "ack"))
        elif kind == "play":
            self.playing = True
            await self.send({"type": "playing", "playing": True})
            self.work_event.set()
        elif kind == "pause":
            self.playing = False
            await self.send({"type": "playing", "playing": False})
        elif kind == "step":
            self.steps = min(self.steps + 1, MAX_QUEUED_STEPS)  # a flood of steps is merged, not queued
            self.work_event.set()
        elif kind in SESSION_TYPES:
            await self._send_replies(await self.call({"op": "message", "msg": msg}))
        else:
            await self._send_replies({"replies": [error(f"unknown message type {kind[:40]!r}", kind[:40])]})

    # ------------------------------------------------------------------ training
    def _slice(self) -> float:
        """Training time for the next frame: the whole budget alone on the worker; shared, a slice that keeps the
        frames coming (frame rate over training speed)."""
        busy = len(self.manager.pool.queues[self.worker].busy)
        return self.budget_s if busy <= 1 else min(self.budget_s, max(MIN_SLICE_S, SHARE_S / busy))

    async def _work_loop(self) -> None:
        busy = self.manager.pool.queues[self.worker].busy
        while not self.closed:
            if not (self.steps or self.playing):
                busy.discard(self)
                self.work_event = anyio.Event()
                await self.work_event.wait()
                continue
            busy.add(self)
            if self.steps:
                await self._step()
            else:
                await self._play_frame()

    async def _step(self) -> None:
        await self.call({"op": "step_start"})
        reply: dict[str, Any] = {}
        while not self.closed:
            reply = await self.call({"op": "step_slice", "budget": self._slice()})
            if reply.get("done") or reply.get("error"):
                await self._send_replies(reply)
                break
        self.steps = max(self.steps - 1, 0)
        if any(m.get("type") == "paused" for m in reply.get("replies", [])):
            self.steps = 0
            self.playing = False

    async def _play_frame(self) -> None:
        t0 = anyio.current_time()
        while self.playing and self.frame_no - self.acked >= self.window:
            self.ack_event = anyio.Event()
            with anyio.move_on_after(1.0):
                await self.ack_event.wait()
        if not self.playing:
            return
        reply = await self.call({"op": "play_frame", "budget": self._slice()})
        await self._send_replies(reply)
        if any(m.get("type") == "paused" for m in reply.get("replies", [])):
            self.playing = False
            await self.send({"type": "playing", "playing": False})
            return
        wait = (1.0 / self.max_fps if self.max_fps else 0.0) - (anyio.current_time() - t0)
        await anyio.sleep(max(wait, 0.0))
