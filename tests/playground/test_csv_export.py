"""Your own data: CSV columns scaled one by one (or together, on request), bad values refused naming the row and
column, the data downloadable again, and an export that carries the scaling, so the snippet predicts on raw rows
exactly what the page showed."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.playground.data import feature_matrix
from tests.playground.wshelpers import connect, recv


def _rows(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The issue's case: x1 in units spread over ~100, x2 over ~5, and the label depends on both."""
    rng = np.random.default_rng(seed)
    x1, x2 = 1000 + rng.uniform(-50, 50, n), rng.uniform(-2.5, 2.5, n)
    return np.stack([x1, x2], 1), ((x1 - 1000) / 50 + x2 / 2.5 > 0).astype(int)


def _csv(pts: np.ndarray, y: np.ndarray) -> str:
    return "mass,height,kind\n" + "\n".join(f"{a!r},{b!r},{c}" for (a, b), c in zip(pts.tolist(), y.tolist()))


def _upload(ws, text: str, **extra) -> dict:
    ws.send_json({"type": "upload", "csv": text, **extra})
    info = recv(ws, "info")
    assert "not part of the page's link" in info["message"]
    state = recv(ws, "state")
    assert recv(ws, "frame")["epoch"] == 0
    return state


def _run_snippet(client, sid: str, tmp_path, monkeypatch) -> dict:
    weights = client.get(f"/api/sessions/{sid}/model.safetensors").content
    (tmp_path / "playground_model.safetensors").write_bytes(weights)
    code = client.get(f"/api/sessions/{sid}/model.py").text
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "snippet"}
    exec(compile(code, "playground_model.py", "exec"), ns)
    return ns


def test_columns_are_scaled_one_by_one_and_the_export_applies_it(client, manager, tmp_path, monkeypatch):
    ws, hello = connect(client)
    pts, y = _rows()
    state = _upload(ws, _csv(pts, y))
    shown = np.array(state["train"]["x"] + state["test"]["x"]).reshape(-1, 2)
    assert np.ptp(shown[:, 0]) > 9 and np.ptp(shown[:, 1]) > 9  # both columns spread over the plot
    ws.send_json({"type": "config", "settings": {"optimizer": "adam", "lr": 0.03, "layers": [4]}})
    recv(ws, "state")
    recv(ws, "frame")
    for epoch in range(1, 16):
        ws.send_json({"type": "step"})
        frame = recv(ws, "frame")
        assert frame["epoch"] == epoch
    session = manager.get(hello["session"])
    n_tr, n_te = len(session.x_train), len(session.x_test)
    page_acc = (frame["train_acc"] * n_tr + frame["test_acc"] * n_te) / (n_tr + n_te)
    assert page_acc > 0.9, frame

    ns = _run_snippet(client, hello["session"], tmp_path, monkeypatch)
    p = ns["predict"](pts)  # raw rows, in the file's own units
    assert np.mean((p > 0.5) == y) == pytest.approx(page_acc, abs=1e-9)
    with gradlab.no_grad():
        logits = session.model(gradlab.from_numpy(feature_matrix(session.csv.x, session.settings["features"])))
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-logits.numpy()[:, 0])), rtol=1e-4, atol=1e-6)
    ws.close()


def test_one_shared_scale_on_request(client):
    ws, _ = connect(client)
    pts, y = _rows()
    state = _upload(ws, _csv(pts, y), scaling="shared")
    shown = np.array(state["train"]["x"] + state["test"]["x"]).reshape(-1, 2)
    assert np.ptp(shown[:, 0]) > 9 and np.ptp(shown[:, 1]) < 0.6  # the aspect ratio is kept
    assert "aspect ratio kept" in state["csv"]
    ws.send_json({"type": "upload", "csv": _csv(pts, y), "scaling": "stretch"})
    assert "scaling must be one of columns, shared, standard" in recv(ws, "error")["message"]
    ws.close()


def test_standardised_columns_and_the_export_applies_them(client, manager, tmp_path, monkeypatch):
    ws, hello = connect(client)
    pts, y = _rows()
    state = _upload(ws, _csv(pts, y), scaling="standard")
    assert "standardised to mean 0 and standard deviation 1" in state["csv"]
    session = manager.get(hello["session"])
    # the network's inputs are the z-scores of the whole file (StandardScaler's population standard deviation)
    np.testing.assert_allclose(session.csv.x, (pts - pts.mean(0)) / pts.std(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(session.csv.center, pts.mean(0), rtol=1e-12)
    np.testing.assert_allclose(session.csv.scale, 1 / pts.std(0), rtol=1e-12)
    shown = np.array(state["train"]["x"] + state["test"]["x"]).reshape(-1, 2)
    np.testing.assert_allclose(np.sort(shown, 0), np.sort(session.csv.x, 0), atol=6e-4)  # shown to 3 decimals
    ws.send_json({"type": "config", "settings": {"optimizer": "adam", "lr": 0.03, "layers": [4]}})
    recv(ws, "state")
    recv(ws, "frame")
    for _ in range(15):
        ws.send_json({"type": "step"})
        frame = recv(ws, "frame")
    assert frame["epoch"] == 15 and frame["train_acc"] > 0.9, frame
    ns = _run_snippet(client, hello["session"], tmp_path, monkeypatch)
    with gradlab.no_grad():
        logits = session.model(gradlab.from_numpy(feature_matrix(session.csv.x, session.settings["features"])))
    np.testing.assert_allclose(ns["predict"](pts), 1 / (1 + np.exp(-logits.numpy()[:, 0])), rtol=1e-4, atol=1e-6)
    ws.close()


def test_a_constant_column_is_centred_not_divided_by_zero():
    from gradlab.playground.data import parse_csv

    d = parse_csv("x1,x2,label\n3,1,0\n3,2,1\n3,3,0\n3,4,1\n", "classification", "standard")
    assert d.scale[0] == 1.0 and d.center[0] == 3.0 and np.all(d.x[:, 0] == 0)
    assert np.isfinite(d.x).all()


def test_regression_export_restores_the_targets_units(client, manager, tmp_path, monkeypatch):
    ws, hello = connect(client)
    rng = np.random.default_rng(1)
    pts = rng.uniform([-3, 200], [3, 260], (80, 2))
    target = 40 * pts[:, 0] + (pts[:, 1] - 230)
    ws.send_json({"type": "config", "settings": {"problem": "regression"}})
    recv(ws, "state")
    recv(ws, "frame")
    state = _upload(ws, "\n".join(f"{a!r},{b!r},{t!r}" for (a, b), t in zip(pts.tolist(), target.tolist())),
                    problem="regression")
    assert state["problem"] == "regression"
    for epoch in (1, 2, 3):
        ws.send_json({"type": "step"})
        assert recv(ws, "frame")["epoch"] == epoch
    session = manager.get(hello["session"])
    ns = _run_snippet(client, hello["session"], tmp_path, monkeypatch)
    with gradlab.no_grad():
        out = session.model(gradlab.from_numpy(feature_matrix(session.csv.x, session.settings["features"]))).data
    np.testing.assert_allclose(ns["predict"](pts), out[:, 0] * np.abs(target).max(), rtol=1e-4, atol=1e-3)
    ws.close()


def test_download_data_gives_the_rows_back(client):
    ws, hello = connect(client)
    assert client.get(f"/api/sessions/{hello['session']}/data.csv").status_code == 404  # nothing uploaded yet
    pts, y = _rows(20)
    _upload(ws, _csv(pts, y))
    r = client.get(f"/api/sessions/{hello['session']}/data.csv")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    lines = r.text.splitlines()
    assert lines[0] == "mass,height,kind"
    back = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]])
    np.testing.assert_array_equal(back[:, :2], pts)
    np.testing.assert_array_equal(back[:, 2], y)
    ws.close()


@pytest.mark.parametrize("value, words", [
    ("1.7e308", "CSV line 3, column 1 (mass): '1.7e308' is too large"),
    ("1e999", "CSV line 3, column 1 (mass): '1e999' is not a finite number"),
    ("-inf", "CSV line 3, column 1 (mass): '-inf' is not a finite number"),
])
def test_overflowing_values_are_refused_naming_row_and_column(client, value, words):
    ws, _ = connect(client)
    ws.send_json({"type": "upload", "csv": f"mass,height,kind\n1,2,0\n{value},3,1\n2,2,1\n3,3,0\n"})
    err = recv(ws, "error")
    assert words in err["message"] and "learning rate" not in err["message"]
    ws.close()
