"""Who may use the server: the WebSocket Origin check (with its allow-list), the Host check when bound to loopback,
session limits per client address with a refusal that offers a retry, and hostile messages (deep JSON, huge
numbers) answered like any other bad message."""
from __future__ import annotations

import json

import pytest

from gradlab.playground.security import allowed_hosts
from tests.playground.wshelpers import SessionManager, connect, make_client, open_tab, recv

WebSocketDisconnect = pytest.importorskip("starlette.websockets").WebSocketDisconnect

FOREIGN = ["http://evil.example", "null", "http://127.0.0.1.evil.example", "http://testserver.evil.example",
           "http://testserver:8080", "https://testserver", "file://", "ws://testserver"]


@pytest.mark.parametrize("origin", FOREIGN)
def test_a_websocket_from_a_foreign_origin_is_refused(client, manager, origin):
    with pytest.raises(WebSocketDisconnect) as refused:
        open_tab(client, headers={"origin": origin}).receive_json()
    assert refused.value.code == 1008
    assert len(manager) == 0  # no session was made for it


@pytest.mark.parametrize("origin", [None, "http://testserver", "HTTP://TestServer:80"])
def test_the_pages_own_origin_is_accepted(client, origin):
    ws, hello = connect(client, headers={"origin": origin} if origin else None)
    assert hello["type"] == "hello"
    ws.close()


def test_the_allow_list(manager):
    for client in make_client(manager, allow_origins=["https://play.example.org"]):
        ws, _ = connect(client, headers={"origin": "https://play.example.org"})
        ws.close()
        with pytest.raises(WebSocketDisconnect):
            open_tab(client, headers={"origin": "https://other.example.org"}).receive_json()
    for client in make_client(manager, allow_origins=["*"]):
        ws, _ = connect(client, headers={"origin": "http://anything.example"})
        ws.close()


def test_loopback_only_host_names(manager):
    hosts = allowed_hosts("127.0.0.1")
    for client in make_client(manager, base_url="http://127.0.0.1:8000", allowed_hosts=hosts):
        assert client.get("/api/info").status_code == 200
        assert client.get("/api/info", headers={"host": "localhost:8000"}).status_code == 200
        assert client.get("/api/info", headers={"host": "[::1]:8000"}).status_code == 200
        for host in ("attacker.example", "attacker.example:8000", "127.0.0.1.attacker.example"):
            assert client.get("/api/info", headers={"host": host}).status_code == 400
            assert client.get("/", headers={"host": host}).status_code == 400
        with pytest.raises(WebSocketDisconnect):
            open_tab(client, headers={"host": "attacker.example:8000"}).receive_json()
        ws, _ = connect(client, headers={"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"})
        ws.close()


def test_sessions_per_client_address_are_limited_and_the_refusal_offers_a_retry(clock):
    manager = SessionManager(max_sessions=10, max_per_client=2, clock=clock)
    for client in make_client(manager):
        tabs = [connect(client)[0] for _ in range(2)]
        ws = open_tab(client)
        err = ws.receive_json()
        assert err["type"] == "error" and err["fatal"] and err["retry"]
        assert "limit per address is 2" in err["message"] and "Retry" in err["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1013
        assert len(manager) == 2
        tabs[0].close()  # its session waits, detached; the same address may now replace it
        again, _ = connect(client)
        assert len(manager) == 2
        for t in (tabs[1], again):
            t.close()


def test_one_address_cannot_lock_out_another(clock):
    manager = SessionManager(max_sessions=3, max_per_client=2, clock=clock)
    for client in make_client(manager):
        tabs = [connect(client)[0] for _ in range(2)]
        manager.attach(None, "another page", client="10.1.2.3")  # someone else gets the last slot
        assert len(manager) == 3
        for t in tabs:
            t.close()


@pytest.mark.parametrize("text, words", [
    ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ('{"type": "config", "settings": {"layers": ' + "[" * 100_000 + "]" * 100_000 + "}}", "nests too deeply"),
    ('{"type": "config", "settings": {"layers": ' + "[" * 40 + "]" * 40 + "}}", "nested at most 32 levels"),
    (json.dumps({"type": "config", "settings": {"seed": 10**300}}), "got a number with 301 digits"),
    (json.dumps({"type": "config", "settings": {"seed": -5}}), "from 0 to 2,147,483,647; got -5"),
    (json.dumps({"type": "config", "settings": {"lr": None}}), "got nothing (null)"),
    (json.dumps({"type": "neuron", "layer": "x", "index": None}), "no neuron nothing (null) in layer 'x'"),
    (json.dumps({"type": "x" * 300}), "unknown message type 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"),
    (json.dumps({"type": "weight", "layer": 1, "src": 0, "dst": 0, "value": 1e300}), "between -1,000,000"),
    (json.dumps({"type": "weight", "layer": 5, "src": 0, "dst": 0}), "no link"),
])
def test_hostile_messages_get_a_plain_answer_and_the_connection_stays(client, text, words):
    ws, _ = connect(client)
    ws.send_text(text)
    err = recv(ws, "error")
    assert words in err["message"], err
    assert len(err["message"]) < 300 and "None" not in err["message"] and "2.14748e+09" not in err["message"]
    ws.send_json({"type": "state"})
    assert recv(ws, "state")["settings"]["layers"] == [4, 2]
    ws.close()


def test_read_and_edit_a_weight(client, manager):
    ws, hello = connect(client)
    ws.send_json({"type": "weight", "layer": 2, "src": 3, "dst": 1})
    got = recv(ws, "weight")
    session = manager.get(hello["session"])
    assert got["value"] == pytest.approx(float(session.linears[1].weight.data[1, 3]))
    ws.send_json({"type": "weight", "layer": 2, "src": 3, "dst": 1, "value": -1.25})
    assert recv(ws, "weight")["value"] == -1.25
    assert recv(ws, "frame")["epoch"] == 0  # redrawn with the new weight
    assert session.linears[1].weight.data[1, 3] == -1.25
    ws.close()
