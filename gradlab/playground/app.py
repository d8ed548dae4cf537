"""The playground's web server: a Starlette app (the page, a WebSocket per tab, model export) and ``serve``.

Each WebSocket connection drives one :class:`~gradlab.playground.session.Session`. While playing, the server
trains a little, sends a frame, and waits for the page to acknowledge it (at most ``window`` frames in flight,
so a slow or hidden tab slows training down instead of piling frames up), at most ``max_fps`` frames a second.
gradlab work runs in worker threads, one session at a time (``COMPUTE_LOCK``), never on the event loop.

Routes: ``GET /`` the page, ``/static/*`` its files, ``GET /api/info`` limits and defaults,
``GET /api/sessions/{id}/model.safetensors`` and ``.../model.py`` the export, ``WS /ws?session=ID`` the protocol.
"""
from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from .config import DEFAULTS, FEATURES, LIMITS
from .export import SNIPPET_FILE, WEIGHTS_FILE, safetensors_bytes, snippet
from .manager import COMPUTE_LOCK, SessionLimitError, SessionManager, error, handle

try:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketState
except ImportError as e:  # pragma: no cover - the extra is missing: importable, but create_app says what to install
    _MISSING: ImportError | None = e
else:
    _MISSING = None
INSTALL_HINT = "the gradlab playground needs starlette, uvicorn and websockets: pip install 'gradlab[playground]'"

__all__ = ["create_app", "serve", "bind", "STATIC_DIR"]

STATIC_DIR = Path(__file__).parent / "static"
MAX_MESSAGE_CHARS = 2_000_000  # a 1 MB CSV as JSON text, with room to spare
EXPIRED_CODE = 4000
BUSY_CODE = 1013


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if obj == obj and abs(obj) != float("inf") else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def to_json(msg: dict[str, Any]) -> str:
    """Strict JSON for the browser: NaN and infinities (never valid JSON) become null."""
    try:
        return json.dumps(msg, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_clean(msg), separators=(",", ":"), allow_nan=False)


def _locked(fn: Any, *args: Any) -> Any:
    with COMPUTE_LOCK:
        return fn(*args)


class Connection:
    """One page's WebSocket: receives messages, runs the play loop, sends frames."""

    def __init__(self, ws: WebSocket, manager: SessionManager, max_fps: float | None, window: int,
                 budget_s: float):
        self.ws, self.manager = ws, manager
        self.max_fps, self.window, self.budget_s = max_fps, window, budget_s
        self.session: Any = None
        self.playing = False
        self.player_active = False
        self.acked = 0
        self.ack_event = anyio.Event()
        self.send_lock = anyio.Lock()
        self.closed = False
        self.scope: Any = None

    async def send(self, msg: dict[str, Any]) -> None:
        if self.closed:
            return
        async with self.send_lock:
            if self.ws.application_state != WebSocketState.CONNECTED:
                return
            try:
                await self.ws.send_text(to_json(msg))
            except Exception:  # the page went away mid-send: this connection is over, the server is fine
                self.closed, self.playing = True, False
                if self.scope is not None:
                    self.scope.cancel()

    async def run(self, requested: Any) -> None:
        try:
            self.session, resumed = self.manager.attach(requested, self)
        except SessionLimitError as e:
            await self.send({**error(str(e), "connect"), "fatal": True})
            await self.ws.close(code=BUSY_CODE, reason="too many sessions")
            return
        self.acked = self.session.frame_no
        try:
            await self.send({"type": "hello", "session": self.session.sid, "resumed": resumed, "limits": LIMITS,
                             "defaults": DEFAULTS, "features": FEATURES, "max_fps": self.max_fps})
            await self.send(await anyio.to_thread.run_sync(_locked, self.session.state))
            await self._send_picture()
            async with anyio.create_task_group() as tg:
                self.scope = tg.cancel_scope
                self._tg = tg
                await self._receive_loop()
                tg.cancel_scope.cancel()
        finally:
            self.playing = False
            self.closed = True
            self.manager.detach(self.session.sid, self)

    async def _send_picture(self) -> None:
        s = self.session
        await self.send(await anyio.to_thread.run_sync(_locked, s.paused_message if s.diverged else s.frame))

    async def expire(self) -> None:
        """The session was freed for being idle: tell the page and close."""
        self.playing = False
        await self.send({"type": "expired", "message": "This session was closed after "
                         f"{self.manager.idle_timeout / 60:g} minutes without activity. Reconnect to start again."})
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code=EXPIRED_CODE, reason="idle")
        if self.scope is not None:
            self.scope.cancel()

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
                await self.send(error(f"message too large ({len(text)} characters; limit {MAX_MESSAGE_CHARS})"))
                continue
            try:
                msg = json.loads(text)
            except ValueError:
                await self.send(error("a message must be JSON"))
                continue
            await self._dispatch(msg)

    async def _dispatch(self, msg: Any) -> None:
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            await self.send(error('a message must be a JSON object with a "type"'))
            return
        kind = msg["type"]
        self.session.touch()
        if kind == "ack":
            frame = msg.get("frame")
            if isinstance(frame, int) and not isinstance(frame, bool):
                self.acked = max(self.acked, min(frame, self.session.frame_no))
                self.ack_event.set()
            else:
                await self.send(error("ack needs an integer frame number", "ack"))
        elif kind == "play":
            if self.session.diverged:
                await self.send(self.session.paused_message())
                return
            self.playing = True
            await self.send({"type": "playing", "playing": True})
            if not self.player_active:
                self.player_active = True
                self._tg.start_soon(self._play_loop)
        elif kind == "pause":
            self.playing = False
            await self.send({"type": "playing", "playing": False})
        else:
            for reply in await anyio.to_thread.run_sync(handle, self.session, msg):
                await self.send(reply)

    def _can_send(self) -> bool:
        return self.session.frame_no - self.acked < self.window

    async def _play_loop(self) -> None:
        try:
            while self.playing and not self.closed:
                t0 = anyio.current_time()
                while self.playing and not self._can_send():
                    self.ack_event = anyio.Event()
                    with anyio.move_on_after(1.0):
                        await self.ack_event.wait()
                if not self.playing:
                    break
                msg = await anyio.to_thread.run_sync(_locked, self.session.play_frame, self.budget_s)
                await self.send(msg)
                if msg["type"] == "paused":
                    self.playing = False
                    await self.send({"type": "playing", "playing": False})
                    break
                wait = (1.0 / self.max_fps if self.max_fps else 0.0) - (anyio.current_time() - t0)
                await anyio.sleep(max(wait, 0.0))
        finally:
            self.player_active = False


def create_app(manager: SessionManager | None = None, *, max_fps: float | None = 30.0, window: int = 2,
               budget_s: float = 0.025, sweep_interval: float = 30.0) -> Starlette:
    """The ASGI app. ``manager`` holds the sessions (inject one with a fake clock in tests); ``max_fps`` caps the
    frame rate (None: as fast as the page acknowledges); ``budget_s`` is the training time per frame."""
    if _MISSING is not None:
        raise ImportError(f"{INSTALL_HINT} ({_MISSING})")
    manager = SessionManager() if manager is None else manager

    async def sweep() -> None:
        for _session, conn in manager.sweep():
            if conn is not None:
                await conn.expire()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def info(request: Request) -> Response:
        await sweep()
        return JSONResponse({"limits": LIMITS, "defaults": DEFAULTS, "features": FEATURES,
                             "sessions": len(manager), "max_sessions": manager.max_sessions,
                             "idle_timeout_s": manager.idle_timeout})

    async def export(request: Request) -> Response:
        session = manager.get(request.path_params["sid"])
        if session is None:
            return JSONResponse({"error": "no such session (it may have expired)"}, status_code=404)
        if request.path_params["name"] == "model.safetensors":
            data = await anyio.to_thread.run_sync(_locked, safetensors_bytes, session)
            return Response(data, media_type="application/octet-stream",
                            headers={"Content-Disposition": f'attachment; filename="{WEIGHTS_FILE}"'})
        if request.path_params["name"] == "model.py":
            text = await anyio.to_thread.run_sync(_locked, snippet, session)
            return Response(text, media_type="text/x-python; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{SNIPPET_FILE}"'})
        return JSONResponse({"error": "unknown export; use model.safetensors or model.py"}, status_code=404)

    async def ws_endpoint(ws: WebSocket) -> None:
        await ws.accept()
        await sweep()
        await Connection(ws, manager, max_fps, window, budget_s).run(ws.query_params.get("session"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        async with anyio.create_task_group() as tg:
            async def sweeper() -> None:
                while True:
                    await anyio.sleep(sweep_interval)
                    await sweep()

            tg.start_soon(sweeper)
            yield
            tg.cancel_scope.cancel()

    app = Starlette(routes=[
        Route("/", index),
        Route("/api/info", info),
        Route("/api/sessions/{sid}/{name}", export),
        WebSocketRoute("/ws", ws_endpoint),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ], lifespan=lifespan)
    app.state.manager = manager
    return app


def bind(host: str, port: int) -> Any:
    """A listening TCP socket on ``host:port`` (port 0: a free one); OSError when it is taken."""
    import socket

    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(host: str = "127.0.0.1", port: int = 8000, *, sock: Any = None, log_level: str = "warning",
          **app_kwargs: Any) -> None:
    """Run the playground with uvicorn until interrupted; prints the URL. BLAS is limited to one thread: the
    playground's matrices are small, and OpenBLAS threads only fight over the cores (and with other sessions)."""
    try:
        import uvicorn
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} ({e})") from None
    from threadpoolctl import threadpool_limits

    app = create_app(**app_kwargs)
    threadpool_limits(1, "blas")
    sock = sock or bind(host, port)
    host, port = sock.getsockname()[:2]
    if host not in ("127.0.0.1", "::1"):
        print(f"gradlab playground: warning: listening on {host}; anyone who can reach it can use it "
              "(there is no login)", file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(f"gradlab playground: open http://{shown}:{port}/ in a browser (Ctrl+C to stop)", flush=True)
    config = uvicorn.Config(app, log_level=log_level)
    uvicorn.Server(config).run(sockets=[sock])
