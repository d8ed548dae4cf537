"""The playground's ONNX export: one graph from raw points to the page's prediction (CSV scaling, feature columns,
network, output head), equal in ONNX Runtime to the snippet's ``predict`` and to the session's own network; served
at ``/api/sessions/{id}/model.onnx`` as a download; a clear error when the onnx package is missing."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import gradlab
from gradlab.playground.data import feature_matrix, parse_csv
from gradlab.playground.export import SNIPPET_FILE, WEIGHTS_FILE, safetensors_bytes, snippet
from gradlab.playground.host import SessionHost
from gradlab.playground.onnx_export import ONNX_FILE, onnx_bytes
from gradlab.playground.session import Session
from tests.playground.wshelpers import connect, recv

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = {"rtol": 1e-5, "atol": 1e-5}


def _run_onnx(data: bytes, points: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["points"]
    return sess.run(None, {"points": np.asarray(points, np.float32)})[0]


def _snippet_predict(session: Session, tmp_path, monkeypatch):
    (tmp_path / WEIGHTS_FILE).write_bytes(safetensors_bytes(session))
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "snippet"}
    exec(compile(snippet(session), SNIPPET_FILE, "exec"), ns)
    return ns["predict"]


def _own(session: Session, points: np.ndarray) -> np.ndarray:
    """The session's own prediction: its network on the features of the scaled points, the snippet's head."""
    center, scale = (session.csv.center, session.csv.scale) if session.csv is not None else ((0, 0), (1, 1))
    target = session.csv.target_scale if session.csv is not None else 1.0
    scaled = ((points.astype(np.float64) - np.array(center)) * np.array(scale)).astype(np.float32)
    with gradlab.no_grad():
        out = session.model(gradlab.from_numpy(feature_matrix(scaled, session.settings["features"]))).numpy()
    if session.kind == "regression":
        return out[:, 0] * target
    if session.kind == "multi":
        e = np.exp(out - out.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
    return 1 / (1 + np.exp(-out[:, 0]))


def _trained(settings: dict, epochs: int = 3, csv: str | None = None, problem: str = "classification") -> Session:
    s = Session(settings)
    if csv is not None:
        s.upload(parse_csv(csv, problem))
    for _ in range(epochs):
        s.step()
    assert not s.diverged
    return s


ALL_FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]


def _csv_rows(n: int = 120, seed: int = 0, regression: bool = False) -> tuple[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x1, x2 = 1000 + rng.uniform(-50, 50, n), rng.uniform(-2.5, 2.5, n)
    y = (x1 - 1000) / 5 + x2 * 30 if regression else ((x1 - 1000) / 50 + x2 / 2.5 > 0).astype(int)
    text = "mass,height,y\n" + "\n".join(f"{a!r},{b!r},{c!r}" for a, b, c in zip(x1.tolist(), x2.tolist(), y.tolist()))
    return text, np.stack([x1, x2], 1)


CASES = {
    "binary": lambda: (_trained({"dataset": "circle", "layers": [5, 3], "features": ALL_FEATURES,
                                 "activation": "tanh", "optimizer": "adam", "lr": 0.03}), None),
    "multi": lambda: (_trained({"dataset": "spiral", "classes": 4, "layers": [6], "features": ["x1", "x2", "sinx1"],
                                "activation": "relu", "optimizer": "adam", "lr": 0.03}), None),
    "regression": lambda: (_trained({"problem": "regression", "dataset": "plane", "layers": [4],
                                     "features": ["x1", "x2", "x1x2"], "optimizer": "adam", "lr": 0.03}), None),
    "csv-binary": lambda: (lambda t: (_trained({"layers": [4], "optimizer": "adam", "lr": 0.03}, csv=t[0]), t[1]))(
        _csv_rows()),
    "csv-regression": lambda: (lambda t: (_trained({"problem": "regression", "layers": [4], "optimizer": "adam",
                                                    "lr": 0.03}, csv=t[0], problem="regression"), t[1]))(
        _csv_rows(regression=True)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_onnx_equals_the_snippet_and_the_session(case, tmp_path, monkeypatch):
    session, raw = CASES[case]()
    data = onnx_bytes(session)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    if raw is None:
        raw = np.random.default_rng(1).uniform(-6, 6, (50, 2))
    else:
        assert session.csv is not None and session.csv.scale != (1.0, 1.0)  # the scaling is really in play
    predict = _snippet_predict(session, tmp_path, monkeypatch)
    for points in (raw[:7], raw):  # two batch sizes: the batch axis is dynamic
        points = points.astype(np.float32)
        got = _run_onnx(data, points)
        want = predict(points)
        assert got.shape == want.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, want, **TOL)
        np.testing.assert_allclose(got, _own(session, points), **TOL)
    if session.kind == "multi":
        assert got.shape == (len(raw), 4)


def test_the_route_serves_the_onnx_file(client, manager):
    ws, hello = connect(client)
    sid = hello["session"]
    ws.send_json({"type": "step"})
    assert recv(ws, "frame")["epoch"] == 1
    r = client.get(f"/api/sessions/{sid}/model.onnx")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == f'attachment; filename="{ONNX_FILE}"'
    pts = np.array([[0.0, 0.0], [4.0, 4.0], [-1.0, 3.0]], np.float32)
    np.testing.assert_allclose(_run_onnx(r.content, pts), _own(manager.get(sid), pts), **TOL)
    assert "model.onnx" in client.get(f"/api/sessions/{sid}/model.bin").json()["error"]
    ws.close()


def test_missing_onnx_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"gradlab\[onnx\]"):
        onnx_bytes(Session())
    host = SessionHost()
    host.execute({"op": "create", "sid": "a"})
    reply = host.execute({"op": "export", "sid": "a", "name": "model.onnx"})
    assert reply["status"] == 501 and "pip install 'gradlab[onnx]'" in reply["error"]
