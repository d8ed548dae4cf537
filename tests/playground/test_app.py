"""The playground's ASGI app through Starlette's TestClient: HTTP routes, the WebSocket protocol, bad input,
sessions that must not mix, idle expiry (with an injected clock), divergence, CSV upload and export."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2" if __import__("importlib.util").util.find_spec("httpx2") else "httpx")

import gradlab  # noqa: E402
from gradlab import io  # noqa: E402
from gradlab.playground.data import feature_matrix  # noqa: E402
from tests.playground.wshelpers import connect, open_tab, recv  # noqa: E402


# ------------------------------------------------------------------ HTTP
def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "gradlab playground" in page.text and "/static/app.js" in page.text
    for name, words in (("app.js", "WebSocket"), ("draw.js", "heatmap"), ("style.css", "--pos")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and words in r.text
    assert client.get("/static/nope.js").status_code == 404
    info = client.get("/api/info").json()
    assert info["limits"]["max_layers"] == 8 and info["limits"]["max_neurons"] == 64 and info["sessions"] == 0


def test_export_of_unknown_session_is_404(client):
    assert client.get("/api/sessions/nope/model.safetensors").status_code == 404
    ws, hello = connect(client)
    assert client.get(f"/api/sessions/{hello['session']}/other.bin").status_code == 404
    ws.close()


# ------------------------------------------------------------------ the protocol
def test_hello_state_frame_then_config(client):
    ws, hello = connect(client)
    assert hello["resumed"] is False and hello["limits"]["grid"] == 100
    ws.send_json({"type": "config", "settings": {"dataset": "xor", "layers": [3]}})
    state = recv(ws, "state")
    assert state["settings"]["dataset"] == "xor" and state["layer_sizes"] == [2, 3, 1]
    assert len(state["train"]["y"]) == 250 and len(state["train"]["x"]) == 500
    frame = recv(ws, "frame")
    assert len(base64.b64decode(frame["heatmap"])) == 10000
    ws.close()


BAD_MESSAGES = [
    ("not json at all", "must be JSON"),
    (json.dumps([1, 2]), 'must be a JSON object with a "type"'),
    (json.dumps({"kind": "play"}), 'must be a JSON object with a "type"'),
    (json.dumps({"type": "explode"}), "unknown message type 'explode'"),
    (json.dumps({"type": "config"}), "settings must be an object"),
    (json.dumps({"type": "config", "settings": {"lr": -1}}), "learning rate must be a number above 0"),
    (json.dumps({"type": "config", "settings": {"layers": [0]}}), "between 1 and 64 neurons, got 0"),
    (json.dumps({"type": "config", "settings": {"layers": [10000]}}), "between 1 and 64 neurons, got 10000"),
    (json.dumps({"type": "config", "settings": {"layers": [8] * 20}}), "at most 8 hidden layers"),
    (json.dumps({"type": "config", "settings": {"noise": 1e300}}), "noise must be"),
    (json.dumps({"type": "config", "settings": {"features": "x1"}}), "list of feature names"),
    (json.dumps({"type": "neuron", "layer": 9, "index": 0}), "no neuron"),
    (json.dumps({"type": "upload", "csv": 5}), "must be text"),
    (json.dumps({"type": "upload", "csv": "a,b\n1,2\n"}), "at least 4 data rows"),
    (json.dumps({"type": "upload", "csv": "1,2,0\n3,4,1\n5,6,0\n7,8,x\n"}),
     "line 4, column 3 (label): 'x' is not a number"),
    (json.dumps({"type": "upload", "csv": "1,2,0\n3,4,1\n5,6,0\n7,8,1\n", "problem": "clustering"}), "problem"),
    (json.dumps({"type": "ack", "frame": "x"}), "ack needs the frame number"),
    (json.dumps({"type": "config", "settings": {"dataset": "csv"}}), "no CSV data set uploaded"),
]


def test_bad_messages_are_refused_and_the_server_keeps_answering(client):
    ws, _ = connect(client)
    for text, words in BAD_MESSAGES:
        ws.send_text(text)
        err = recv(ws, "error")
        assert words in err["message"], (text, err)
    ws.send_bytes(b"\x00\x01")
    assert "binary messages" in recv(ws, "error")["message"]
    ws.send_text(" " * 2_000_001)
    assert "too large" in recv(ws, "error")["message"]
    # still alive, and nothing was changed by the refused settings
    ws.send_json({"type": "step"})
    frame = recv(ws, "frame")
    assert frame["epoch"] == 1
    ws.send_json({"type": "state"})
    state = recv(ws, "state")
    assert state["settings"]["lr"] == 0.03 and state["settings"]["layers"] == [4, 2]
    ws.close()
    assert client.get("/api/info").status_code == 200


def test_play_streams_frames_until_paused(client):
    ws, _ = connect(client)
    ws.send_json({"type": "play"})
    assert recv(ws, "playing")["playing"] is True
    epochs = [recv(ws, "frame")["epoch"] for _ in range(5)]
    assert epochs == sorted(epochs) and epochs[-1] > epochs[0]
    ws.send_json({"type": "pause"})
    assert recv(ws, "playing")["playing"] is False
    ws.close()


def test_unacknowledged_frames_are_not_piled_up(client):
    ws, _ = connect(client)  # its first frame was acknowledged
    ws.send_json({"type": "play"})
    got = []
    while len(got) < 2:
        msg = ws.receive_json()
        if msg["type"] == "frame":
            got.append(msg["frame"])  # no ack
    ws.send_json({"type": "pause"})  # the server waits for an ack, so the next message is the pause reply
    assert ws.receive_json() == {"type": "playing", "playing": False}
    ws.close()


def test_two_sessions_do_not_mix(client, manager):
    a, ha = connect(client)
    b, hb = connect(client)
    assert ha["session"] != hb["session"] and len(manager) == 2
    a.send_json({"type": "config", "settings": {"dataset": "xor", "layers": [3], "seed": 11}})
    b.send_json({"type": "config", "settings": {"dataset": "spiral", "classes": 3, "layers": [5, 5]}})
    sa, sb = recv(a, "state"), recv(b, "state")
    assert sa["layer_sizes"] == [2, 3, 1] and sb["layer_sizes"] == [2, 5, 5, 3]
    for ws in (a, b):
        ws.send_json({"type": "play"})
    fa = [recv(a, "frame") for _ in range(3)][-1]
    fb = [recv(b, "frame") for _ in range(3)][-1]
    assert len(base64.b64decode(fa["weights"])) == 2 * 3 + 3
    assert len(base64.b64decode(fb["weights"])) == 2 * 5 + 5 * 5 + 5 * 3
    assert "test_acc" in fa and "test_acc" in fb
    sess_a, sess_b = manager.get(ha["session"]), manager.get(hb["session"])
    assert sess_a.model is not sess_b.model and sess_a.settings["seed"] == 11 and sess_b.settings["seed"] == 1
    for ws in (a, b):
        ws.close()


def test_reconnecting_resumes_the_session(client, manager):
    ws, hello = connect(client)
    ws.send_json({"type": "config", "settings": {"dataset": "gauss", "layers": [2]}})
    recv(ws, "state")
    ws.close()
    ws2, hello2 = connect(client, hello["session"])
    assert hello2["resumed"] is True and hello2["session"] == hello["session"]
    assert manager.get(hello["session"]).settings["dataset"] == "gauss"
    ws3, hello3 = connect(client, hello["session"])  # already attached to another tab: a new session
    assert hello3["resumed"] is False and hello3["session"] != hello["session"]
    ws2.close()
    ws3.close()


def test_idle_sessions_expire(client, manager, clock):
    ws, hello = connect(client)
    sid = hello["session"]
    other, hother = connect(client)
    other.close()  # detached: waits for its page to come back
    clock.t += 599
    assert client.get("/api/info").json()["sessions"] == 2
    clock.t += 2
    assert client.get("/api/info").json()["sessions"] == 0  # both idle for > 10 minutes
    msg = recv(ws, "expired")
    assert "minutes without activity" in msg["message"]
    assert client.get(f"/api/sessions/{sid}/model.safetensors").status_code == 404
    ws2, hello2 = connect(client, sid)  # coming back after expiry: a fresh session
    assert hello2["resumed"] is False and hello2["session"] != sid
    ws2.close()


def test_activity_keeps_a_session_alive(client, manager, clock):
    ws, hello = connect(client)
    clock.t += 500
    ws.send_json({"type": "state"})
    recv(ws, "state")
    clock.t += 500
    assert client.get("/api/info").json()["sessions"] == 1
    ws.close()


def test_the_number_of_sessions_is_bounded(client, manager):
    tabs = [connect(client)[0] for _ in range(3)]
    ws = open_tab(client)
    err = ws.receive_json()
    assert err["type"] == "error" and err["fatal"] and "limit is 3" in err["message"]
    tabs[0].close()  # a detached session makes room
    extra, _ = connect(client)
    assert len(manager) == 3
    for t in [*tabs[1:], extra]:
        t.close()


def test_divergence_pauses_and_says_why(client):
    ws, _ = connect(client)
    ws.send_json({"type": "config", "settings": {"problem": "regression", "dataset": "plane", "lr": 10,
                                                 "features": ["x1", "x2", "x1sq"]}})
    recv(ws, "state")
    ws.send_json({"type": "play"})
    paused = recv(ws, "paused")
    assert "NaN or infinite" in paused["reason"] and "learning rate" in paused["reason"]
    assert recv(ws, "playing")["playing"] is False
    ws.send_json({"type": "play"})  # refused while diverged
    assert recv(ws, "paused")["diverged"] is True
    ws.send_json({"type": "config", "settings": {"lr": 0.01}})
    assert recv(ws, "state")["diverged"] is None
    assert recv(ws, "frame")["epoch"] == 0
    ws.send_json({"type": "step"})
    assert recv(ws, "frame")["epoch"] == 1
    ws.close()


def test_csv_upload(client):
    ws, _ = connect(client)
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, (60, 2))
    rows = "\n".join(f"{a:.4f},{b:.4f},{int(a > b)}" for a, b in pts)
    ws.send_json({"type": "upload", "csv": "x1,x2,label\n" + rows})
    assert "60 points" in recv(ws, "info")["message"]
    state = recv(ws, "state")
    assert state["settings"]["dataset"] == "csv" and "60 points" in state["csv"]
    assert len(state["train"]["y"]) + len(state["test"]["y"]) == 60
    ws.send_json({"type": "config", "settings": {"train_ratio": 80}})
    assert len(recv(ws, "state")["train"]["y"]) == 48
    ws.close()


def test_export_over_http_loads_and_the_snippet_runs(client, manager, tmp_path, monkeypatch):
    ws, hello = connect(client)
    sid = hello["session"]
    ws.send_json({"type": "config", "settings": {"dataset": "circle", "layers": [6, 3],
                                                 "features": ["x1", "x2", "x1sq", "x2sq"], "activation": "relu"}})
    recv(ws, "state")
    assert recv(ws, "frame")["epoch"] == 0
    for epoch in (1, 2, 3):
        ws.send_json({"type": "step"})
        assert recv(ws, "frame")["epoch"] == epoch  # the step is done: nothing trains while we compare
    weights = client.get(f"/api/sessions/{sid}/model.safetensors")
    code = client.get(f"/api/sessions/{sid}/model.py")
    assert weights.status_code == code.status_code == 200
    assert "attachment" in weights.headers["content-disposition"]
    (tmp_path / "playground_model.safetensors").write_bytes(weights.content)
    state = io.load(tmp_path / "playground_model.safetensors")
    session = manager.get(sid)
    assert list(state) == list(session.model.state_dict())
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "snippet"}
    exec(compile(code.text, "playground_model.py", "exec"), ns)
    pts = np.array([[0.0, 0.0], [4.0, 4.0], [-1.0, 3.0]], np.float32)
    with gradlab.no_grad():
        logits = session.model(gradlab.from_numpy(feature_matrix(pts, session.settings["features"]))).numpy()[:, 0]
    np.testing.assert_allclose(ns["predict"](pts), 1 / (1 + np.exp(-logits)), rtol=1e-5)
    ws.close()


def test_hover_neuron_while_paused(client):
    ws, _ = connect(client)
    ws.send_json({"type": "neuron", "layer": 1, "index": 2})
    msg = recv(ws, "neuron")
    assert msg["layer"] == 1 and msg["index"] == 2 and len(base64.b64decode(msg["heatmap"])) == 10000
    ws.send_json({"type": "step"})
    assert recv(ws, "frame")["neuron"]["index"] == 2
    ws.send_json({"type": "neuron", "layer": None})
    ws.send_json({"type": "step"})
    assert "neuron" not in recv(ws, "frame")
    ws.close()
