"""The playground's training logic without a server: settings, data, features, training, frames, export."""
from __future__ import annotations

import base64

import numpy as np
import pytest

import gradlab
from gradlab import io
from gradlab.playground.config import DEFAULTS, FEATURES, SettingsError, validate_settings
from gradlab.playground.data import feature_matrix, grid_points, parse_csv
from gradlab.playground.export import WEIGHTS_FILE, safetensors_bytes, snippet
from gradlab.playground.session import Session


def _bytes(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.uint8)


# ------------------------------------------------------------------ settings
@pytest.mark.parametrize("update, words", [
    ({"lr": -0.1}, "learning rate must be a number above 0 and at most 10; got -0.1"),
    ({"lr": 0}, "learning rate must be a number above 0"),
    ({"lr": "fast"}, "learning rate must be a number above 0 and at most 10; got 'fast'"),
    ({"lr": float("nan")}, "got NaN"),
    ({"lr": None}, "learning rate must be a number above 0 and at most 10; got nothing"),
    ({"seed": 10**300}, "seed must be a whole number from 0 to 2,147,483,647; got a number with 301 digits$"),
    ({"seed": -1}, "seed must be a whole number from 0 to 2,147,483,647; got -1$"),
    ({"activation": None}, "activation must be one of .*; got nothing"),
    ({"layers": [0]}, "between 1 and 64 neurons, got 0"),
    ({"layers": [10000]}, "between 1 and 64 neurons, got 10000"),
    ({"layers": [4] * 9}, "at most 8 hidden layers"),
    ({"layers": [2.5]}, "whole number"),
    ({"layers": "4,2"}, "list of neuron counts"),
    ({"noise": 51}, "noise must be a whole number from 0 to 50; got 51"),
    ({"noise": True}, "noise must be a whole number from 0 to 50; got true"),
    ({"train_ratio": 0}, "ratio"),
    ({"batch_size": 0}, "batch size"),
    ({"classes": 7}, "number of classes"),
    ({"dropout": 1.0}, "dropout"),
    ({"reg_rate": -1}, "regularization rate"),
    ({"activation": "softsign"}, "activation must be one of"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ({"features": []}, "at least one input feature"),
    ({"features": ["x3"]}, "unknown input feature"),
    ({"dataset": "moons"}, "data set must be one of"),
    ({"dataset": "plane", "problem": "classification"}, "not a classification data set"),
    ({"dataset": "csv"}, "no CSV data set uploaded"),
    ({"colour": "red"}, "unknown setting 'colour'"),
])
def test_bad_settings_are_refused_with_a_message(update, words):
    with pytest.raises(SettingsError, match=words.replace("(", r"\(")):
        validate_settings(update)


def test_settings_merge_and_normalise():
    s = validate_settings({"features": ["x2", "x1", "x2"], "noise": 10.0, "problem": "regression"})
    assert s["features"] == ["x1", "x2"] and s["noise"] == 10 and isinstance(s["noise"], int)
    assert s["dataset"] == "plane"  # switching the problem type picks that type's first data set
    assert validate_settings({}) == DEFAULTS
    assert validate_settings({"dataset": "plane"})["problem"] == "regression"  # the data set implies the problem
    assert validate_settings({"dataset": "xor"}, s)["problem"] == "classification"
    with pytest.raises(SettingsError):
        validate_settings(["not", "a", "dict"])


def test_a_refused_update_changes_nothing():
    s = Session({"dataset": "xor"})
    before = dict(s.settings), [p.detach().numpy().copy() for p in s.model.parameters()]
    with pytest.raises(SettingsError):
        s.configure({"layers": [3, 3], "lr": -1})
    assert s.settings == before[0]
    assert all((a == p.data).all() for a, p in zip(before[1], s.model.parameters()))


# ------------------------------------------------------------------ data and features
def test_features_and_grid():
    pts = np.array([[1.0, -2.0]], np.float32)
    got = feature_matrix(pts, list(FEATURES))
    np.testing.assert_allclose(got[0], [1, -2, 1, 4, -2, np.sin(1), np.sin(-2)], rtol=1e-6)
    g = grid_points(100)
    assert g.shape == (10000, 2) and g[0, 0] < 0 < g[0, 1] and g[-1, 0] > 0 > g[-1, 1]  # top-left, bottom-right


def test_multiclass_spiral_uses_softmax_output():
    s = Session({"dataset": "spiral", "classes": 4, "layers": [6]})
    assert s.n_classes == 4 and s.layer_sizes == [2, 6, 4]
    assert set(np.unique(s.y_train)) == {0, 1, 2, 3}
    f = s.step()
    heat = _bytes(f["heatmap"])
    assert heat.size == 10000 and (heat >> 5).max() <= 3  # class index in the top bits
    assert 0 <= f["test_acc"] <= 1


def test_circle_and_xor_stay_binary():
    assert Session({"dataset": "xor", "classes": 5}).layer_sizes[-1] == 1


def test_split_follows_ratio_and_points():
    s = Session({"train_ratio": 30, "n_points": 200})
    assert len(s.x_train) == 60 and len(s.x_test) == 140


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("x1,x2,label\n1,2,0\n", "at least 4 data rows"),
    ("1,2,0\n1,2\n3,4,1\n5,6,0\n", "line 2: expected 3 columns"),
    ("1,2,0\n1,abc,1\n3,4,1\n5,6,0\n", "line 2, column 2 \\(x2\\): 'abc' is not a number"),
    ("1,2,0\n1,inf,1\n3,4,1\n5,6,0\n", "line 2, column 2 \\(x2\\): 'inf' is not a finite number"),
    ("a,b,c\n1,2,0\n1e309,2,1\n3,4,1\n5,6,0\n", "line 3, column 1 \\(a\\): '1e309' is not a finite number"),
    ("1,2,0\n1,2,1\n1.7e308,4,1\n5,6,0\n", "line 3, column 1 \\(x1\\): '1.7e308' is too large"),
    ("1,2,0\n1,2,1\n3,-4e35,1\n5,6,0\n", "line 3, column 2 \\(x2\\): '-4e35' is too large"),
    ("1,2,0\n1,2,nan\n3,4,1\n5,6,0\n", "line 2, column 3 \\(label\\): 'nan' is not a finite number"),
    ("1,2,0\n1,2,0.5\n3,4,1\n5,6,0\n", "whole number"),
    ("1,2,0\n1,2,9\n3,4,1\n5,6,0\n", "class labels must be 0 to 5"),
    ("1,2,1\n1,2,1\n3,4,1\n5,6,1\n", "at least two classes"),
    ("1,2,0\n" * 5001, "at most 5000"),
    ("9" * 1_000_001, "too large"),
])
def test_csv_validation(text, words):
    with pytest.raises(SettingsError, match=words):
        parse_csv(text, "classification")


def test_csv_parsing_scales_points_and_reads_labels():
    d = parse_csv("# comment\nx;y;c\n0;0;-1\n100;0;1\n0;100;1\n100;100;-1\n", "classification")
    assert d.y.tolist() == [0, 1, 1, 0] and d.n_classes == 2
    assert np.abs(d.x).max() == pytest.approx(5.0)
    r = parse_csv("0,0,10\n1,0,-20\n0,1,5\n1,1,0\n", "regression")
    assert r.y.tolist() == [0.5, -1.0, 0.25, 0.0] and "divided by 20" in r.note
    s = Session()
    s.upload(r)
    assert s.settings["dataset"] == "csv" and s.settings["problem"] == "regression" and s.layer_sizes[-1] == 1
    assert len(s.x_train) + len(s.x_test) == 4
    with pytest.raises(SettingsError, match="is a regression problem"):
        s.configure({"dataset": "csv", "problem": "classification"})
    s.configure({"problem": "classification"})  # switching the problem type leaves the CSV data set
    assert s.settings["dataset"] == "circle" and s.layer_sizes[-1] == 1
    s.configure({"dataset": "csv"})  # ... which is still there to come back to
    assert s.settings["problem"] == "regression"


# ------------------------------------------------------------------ training and frames
def test_frame_contents_and_sizes():
    s = Session({"dataset": "xor", "layers": [8, 8, 8, 8]})
    f = s.play_frame()
    assert f["type"] == "frame" and f["frame"] == 1
    assert _bytes(f["heatmap"]).size == 100 * 100
    assert np.frombuffer(base64.b64decode(f["weights"]), np.int8).size == 2 * 8 + 3 * 64 + 8
    assert len(f["grad_norms"]) == 5 and all(g > 0 for g in f["grad_norms"])
    assert _bytes(f["thumbs"]).size == (2 + 32 + 1) * f["thumb_size"] ** 2
    assert "neuron" not in f


def test_xor_learns():
    s = Session({"dataset": "xor", "layers": [8], "optimizer": "adam", "lr": 0.03})
    first = s.frame()["test_loss"]
    for _ in range(30):
        f = s.step()
    assert f["epoch"] == 30 and f["test_loss"] < 0.3 < first and f["test_acc"] > 0.9


def test_same_seed_same_network_and_reset_restarts():
    a, b = Session({"seed": 5}), Session({"seed": 5})
    assert a.step()["train_loss"] == b.step()["train_loss"]
    first = Session({"seed": 5}).frame()["train_loss"]
    a.reset()
    assert a.epoch == 0 and a.frame()["train_loss"] == first
    a.regenerate()
    assert a.settings["seed"] != 5


def test_live_settings_keep_the_weights():
    s = Session({"dataset": "gauss"})
    s.step()
    w = s.linears[0].weight.detach().numpy().copy()
    s.configure({"lr": 0.1, "optimizer": "adam", "regularization": "l2", "reg_rate": 0.01, "dropout": 0.2})
    assert s.epoch == 1 and (s.linears[0].weight.data == w).all()
    assert s.optimizer.param_groups[0]["lr"] == 0.1 and type(s.optimizer).__name__ == "Adam"
    s.step()  # dropout and L2 in the step
    s.configure({"activation": "relu"})  # the network changes: it starts afresh
    assert s.epoch == 0


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_regularisation_shrinks_weights(reg):
    plain = Session({"dataset": "gauss", "layers": [8], "lr": 0.1})
    reged = Session({"dataset": "gauss", "layers": [8], "lr": 0.1, "regularization": reg, "reg_rate": 0.3})
    for _ in range(10):
        plain.step()
        reged.step()
    norm = lambda s: sum(float(np.abs(lin.weight.detach().numpy()).sum()) for lin in s.linears)  # noqa: E731
    assert norm(reged) < 0.7 * norm(plain)


def test_huge_learning_rate_pauses_with_a_reason():
    s = Session({"problem": "regression", "dataset": "plane", "lr": 10.0, "features": ["x1", "x2", "x1sq"]})
    msgs = [s.play_frame() for _ in range(5)]
    paused = [m for m in msgs if m["type"] == "paused"]
    assert paused and "NaN or infinite" in paused[0]["reason"] and "learning rate (10)" in paused[0]["reason"]
    assert msgs[-1]["type"] == "paused" and s.step()["type"] == "paused"  # stays paused: no garbage frames
    s.configure({"lr": 0.001})  # any change starts afresh
    assert s.diverged is None and s.play_frame()["type"] == "frame"


def test_gradient_flow_vanishes_with_deep_sigmoid_not_relu_he():
    sig = Session({"layers": [8] * 8, "activation": "sigmoid"}).grad_norms
    relu = Session({"layers": [8] * 8, "activation": "relu", "init": "he"}).grad_norms
    assert len(sig) == len(relu) == 9
    assert sig[0] / sig[-1] < 1e-4  # the first layer gets almost nothing
    assert relu[0] / relu[-1] > 1e-2


@pytest.mark.parametrize("layer, index", [(0, 1), (1, 3), (2, 0)])
def test_neuron_heatmap_on_request(layer, index):
    s = Session({"layers": [4]})
    reply = s.set_neuron(layer, index)
    assert reply["type"] == "neuron" and _bytes(reply["heatmap"]).size == 10000 and reply["scale"] > 0
    assert s.frame()["neuron"]["layer"] == layer
    assert s.set_neuron(None, None) is None and "neuron" not in s.frame()


@pytest.mark.parametrize("layer, index", [(3, 0), (1, 4), (-1, 0), ("1", 0), (True, 0), (1, None)])
def test_bad_neuron_is_refused(layer, index):
    with pytest.raises(SettingsError, match="no neuron"):
        Session({"layers": [4]}).set_neuron(layer, index)


def test_largest_network_and_big_batches():
    s = Session({"layers": [64] * 8, "batch_size": 100, "features": list(FEATURES)})
    f = s.play_frame()
    assert f["type"] == "frame" and "thumbs" not in f  # too many neurons for thumbnails


# ------------------------------------------------------------------ export
@pytest.mark.parametrize("settings", [
    {"dataset": "xor", "layers": [5, 3], "features": ["x1", "x2", "x1x2", "sinx1"]},
    {"dataset": "spiral", "classes": 3, "layers": [6], "activation": "relu"},
    {"problem": "regression", "dataset": "reg-gauss", "layers": [4], "activation": "gelu"},
    {"dataset": "gauss", "layers": [], "activation": "linear"},
])
def test_export_snippet_rebuilds_the_model(settings, tmp_path, monkeypatch):
    s = Session(settings)
    s.step()
    (tmp_path / WEIGHTS_FILE).write_bytes(safetensors_bytes(s))
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "playground_snippet"}
    exec(compile(snippet(s), "playground_model.py", "exec"), ns)
    pts = np.random.default_rng(0).uniform(-6, 6, (50, 2)).astype(np.float32)
    with gradlab.no_grad():
        out = s._forward(gradlab.from_numpy(feature_matrix(pts, s.settings["features"])), training=False).numpy()
    if s.kind == "binary":
        want = 1 / (1 + np.exp(-out[:, 0]))
    elif s.kind == "multi":
        want = np.exp(out) / np.exp(out).sum(1, keepdims=True)
    else:
        want = out[:, 0]
    np.testing.assert_allclose(ns["predict"](pts), want, rtol=1e-5, atol=1e-6)
    assert io.load(WEIGHTS_FILE).keys() == s.model.state_dict().keys()
