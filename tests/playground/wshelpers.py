"""Helpers for the playground's server tests: a fake clock, a page's WebSocket, and reading messages of a type."""
from __future__ import annotations

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2" if __import__("importlib.util").util.find_spec("httpx2") else "httpx")

from starlette.testclient import TestClient  # noqa: E402

from gradlab.playground.app import create_app  # noqa: E402
from gradlab.playground.manager import SessionManager  # noqa: E402

__all__ = ["FakeClock", "Tab", "recv", "open_tab", "connect", "make_client", "TestClient", "SessionManager"]


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Tab:
    """A page's WebSocket: ``close()`` disconnects it (and waits for the server side to finish)."""

    def __init__(self, client, session: str | None = None, headers: dict | None = None):
        self.ws = client.websocket_connect("/ws" + (f"?session={session}" if session else ""), headers=headers or {})
        self.ws.__enter__()
        self.open = True

    def __getattr__(self, name):
        return getattr(self.ws, name)

    def close(self) -> None:
        if self.open:
            self.open = False
            self.ws.__exit__(None, None, None)


def make_client(manager, base_url: str = "http://testserver", **kwargs):
    """A TestClient around the app (a generator for fixtures: closes the tabs it opened)."""
    tabs: list[Tab] = []
    with TestClient(create_app(manager, max_fps=None, sweep_interval=3600, **kwargs), base_url=base_url) as c:
        c.tabs = tabs
        yield c
        for t in tabs:
            t.close()


def recv(ws, kind: str, limit: int = 200) -> dict:
    """The next message of type ``kind`` (acknowledging frames on the way); fails on an unexpected error."""
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == "frame":
            ws.send_json({"type": "ack", "frame": msg["frame"]})
        if msg["type"] == kind:
            return msg
        assert msg["type"] != "error" or kind == "error", msg
    raise AssertionError(f"no {kind!r} message")


def open_tab(client, session: str | None = None, headers: dict | None = None) -> Tab:
    tab = Tab(client, session, headers)
    client.tabs.append(tab)
    return tab


def connect(client, session: str | None = None, headers: dict | None = None):
    ws = open_tab(client, session, headers)
    hello = recv(ws, "hello")
    recv(ws, "state")
    recv(ws, "frame")
    return ws, hello


