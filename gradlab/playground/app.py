"""The playground's web server: a Starlette app (the page, a WebSocket per tab, model export) and ``serve``.

Each WebSocket connection drives one session (:mod:`gradlab.playground.connection`); sessions run in worker
processes (:mod:`gradlab.playground.worker`). Browsers may only connect from the page's own origin (or an
allow-list), and a server bound to loopback answers only loopback host names (:mod:`gradlab.playground.security`).

Routes: ``GET /`` the page, ``/static/*`` its files, ``GET /api/info`` limits and defaults,
``GET /api/sessions/{id}/model.safetensors``, ``.../model.py``, ``.../model.onnx`` the export and ``.../data.csv``
the uploaded data,
``WS /ws?session=ID`` the protocol.
"""
from __future__ import annotations

import base64
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

from .config import DEFAULTS, FEATURES, LIMITS
from .connection import BUSY_CODE, EXPIRED_CODE, MAX_MESSAGE_CHARS, Connection
from .export import SNIPPET_FILE, WEIGHTS_FILE
from .manager import SessionManager
from .onnx_export import ONNX_FILE
from .security import allowed_hosts as loopback_hosts
from .security import is_loopback, origin_allowed
from .worker import WorkerError

try:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket
except ImportError as e:  # pragma: no cover - the extra is missing: importable, but create_app says what to install
    _MISSING: ImportError | None = e
else:
    _MISSING = None
INSTALL_HINT = "the gradlab playground needs starlette, uvicorn and websockets: pip install 'gradlab[playground]'"

__all__ = ["create_app", "serve", "bind", "STATIC_DIR", "MAX_MESSAGE_CHARS", "EXPIRED_CODE", "BUSY_CODE",
           "ORIGIN_CODE"]

STATIC_DIR = Path(__file__).parent / "static"
ORIGIN_CODE = 1008  # policy violation: the WebSocket came from a page on another origin
_DOWNLOADS = {"model.safetensors": (WEIGHTS_FILE, "application/octet-stream"),
              "model.py": (SNIPPET_FILE, "text/x-python; charset=utf-8"),
              "model.onnx": (ONNX_FILE, "application/octet-stream"),
              "data.csv": ("playground_data.csv", "text/csv; charset=utf-8")}


def create_app(manager: SessionManager | None = None, *, max_fps: float | None = 30.0, window: int = 2,
               budget_s: float = 0.025, sweep_interval: float = 30.0, allow_origins: Sequence[str] = (),
               allowed_hosts: Sequence[str] | None = None) -> Starlette:
    """The ASGI app. ``manager`` holds the sessions (inject one with a fake clock in tests); ``max_fps`` caps the
    frame rate (None: as fast as the page acknowledges); ``budget_s`` is the most training time per frame.
    ``allow_origins``: origins besides the page's own whose pages may open a WebSocket (``*``: any);
    ``allowed_hosts``: the ``Host`` names answered (None: any; :func:`serve` passes loopback names when bound to
    loopback).

    >>> from starlette.testclient import TestClient
    >>> with TestClient(create_app(max_fps=None)) as client:
    ...     page = client.get("/")
    ...     with client.websocket_connect("/ws") as ws:
    ...         first = ws.receive_json()
    >>> page.status_code, page.headers["content-type"], first["type"]
    (200, 'text/html; charset=utf-8', 'hello')
    """
    if _MISSING is not None:
        raise ImportError(f"{INSTALL_HINT} ({_MISSING})")
    manager = SessionManager() if manager is None else manager
    allow = tuple(allow_origins)

    async def sweep() -> None:
        gone = manager.sweep()
        for _record, conn in gone:
            if conn is not None:
                await conn.expire()
        await manager.drop([r for r, _ in gone])

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def info(request: Request) -> Response:
        await sweep()
        return JSONResponse({"limits": LIMITS, "defaults": DEFAULTS, "features": FEATURES,
                             "sessions": len(manager), "max_sessions": manager.max_sessions,
                             "max_per_client": manager.max_per_client, "workers": len(manager.pool),
                             "idle_timeout_s": manager.idle_timeout})

    async def export(request: Request) -> Response:
        name = request.path_params["name"]
        rec = manager.record(request.path_params["sid"])
        if rec is None:
            return JSONResponse({"error": "no such session (it may have expired)"}, status_code=404)
        if name not in _DOWNLOADS:
            return JSONResponse({"error": "unknown export; use model.safetensors, model.py, model.onnx or data.csv"},
                                status_code=404)
        try:
            reply = await manager.pool.call(rec.worker, rec.sid, {"op": "export", "name": name})
        except WorkerError:
            reply = {"missing": True}
        if reply.get("missing") or reply.get("error"):
            return JSONResponse({"error": reply.get("error", "no such session (it was lost)")},
                                status_code=int(reply.get("status", 404)))
        filename, media = _DOWNLOADS[name]
        body = base64.b64decode(reply["b64"]) if "b64" in reply else reply["text"].encode("utf-8")
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    async def ws_endpoint(ws: WebSocket) -> None:
        scheme = "https" if ws.url.scheme == "wss" else "http"
        if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"), allow, scheme):
            await ws.close(code=ORIGIN_CODE)  # before accepting: the browser sees the handshake refused (403)
            return
        await ws.accept()
        await sweep()
        client = ws.client.host if ws.client is not None else ""
        await Connection(ws, manager, max_fps, window, budget_s).run(ws.query_params.get("session"), client)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        async with anyio.create_task_group() as tg:
            async def sweeper() -> None:
                while True:
                    await anyio.sleep(sweep_interval)
                    await sweep()

            tg.start_soon(manager.pool.run)
            tg.start_soon(sweeper)
            yield
            tg.cancel_scope.cancel()

    middleware = [] if allowed_hosts is None else [Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts),
                                                              www_redirect=False)]
    app = Starlette(routes=[
        Route("/", index),
        Route("/api/info", info),
        Route("/api/sessions/{sid}/{name}", export),
        WebSocketRoute("/ws", ws_endpoint),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ], middleware=middleware, lifespan=lifespan)
    app.state.manager = manager
    return app


def bind(host: str, port: int) -> Any:
    """A listening TCP socket on ``host:port`` (port 0: a free one); OSError when it is taken.

    >>> sock = bind("127.0.0.1", 0)
    >>> host, port = sock.getsockname()
    >>> host, 0 < port < 65536
    ('127.0.0.1', True)
    >>> bind("127.0.0.1", port)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    OSError: ...
    >>> sock.close()
    """
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
          allow_hosts: Sequence[str] = (), **app_kwargs: Any) -> None:
    """Run the playground with uvicorn until interrupted; prints the URL. Bound to loopback, it answers only
    loopback host names (plus ``allow_hosts``); elsewhere any host, or ``allow_hosts`` when given. BLAS is limited
    to one thread: the playground's matrices are small, and OpenBLAS threads only fight over the cores.

    >>> sock = bind("127.0.0.1", 0)
    >>> serve(sock=sock)  # doctest: +SKIP
    gradlab playground: open http://127.0.0.1:40123/ in a browser (Ctrl+C to stop)
    >>> sock.close()
    """
    try:
        import uvicorn
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} ({e})") from None
    from threadpoolctl import threadpool_limits

    app = create_app(allowed_hosts=loopback_hosts(host, allow_hosts), **app_kwargs)
    threadpool_limits(1, "blas")
    sock = sock or bind(host, port)
    host, port = sock.getsockname()[:2]
    if not is_loopback(host):
        print(f"gradlab playground: warning: listening on {host}; anyone who can reach it can use it "
              "(there is no login)", file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(f"gradlab playground: open http://{shown}:{port}/ in a browser (Ctrl+C to stop)", flush=True)
    config = uvicorn.Config(app, log_level=log_level)
    uvicorn.Server(config).run(sockets=[sock])
