"""``gradlab.save`` / ``gradlab.load`` with torch's signatures: file objects, nested checkpoints, weights_only."""

from __future__ import annotations

import io

import numpy as np
import pytest
import safetensors.numpy

import gradlab
from gradlab import nn, optim


def _model_and_opt():
    gradlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x, y = gradlab.randn(8, 3), gradlab.randn(8, 1)
    for _ in range(3):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    return model, opt, x, y


def _step(model, opt, x, y) -> float:
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    return loss.item()


@pytest.mark.parametrize("to_file", [True, False])
def test_nested_checkpoint_round_trip_resumes_identically(tmp_path, to_file) -> None:
    model, opt, x, y = _model_and_opt()
    ck = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "note": "hi", "best": (0.5, None)}
    if to_file:
        target = io.BytesIO()
        gradlab.save(ck, target)
        target.seek(0)
    else:
        target = tmp_path / "ck.pt"
        gradlab.save(ck, target)
    back = gradlab.load(target, weights_only=True)
    assert back["epoch"] == 3 and back["note"] == "hi" and back["best"] == (0.5, None)
    model2 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    model2.load_state_dict(back["model"])
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(back["optimizer"])
    for _ in range(3):
        assert _step(model, opt, x, y) == _step(model2, opt2, x, y)


def test_flat_state_dict_is_a_plain_safetensors_file() -> None:
    model, *_ = _model_and_opt()
    buf = io.BytesIO()
    gradlab.save(model.state_dict(), buf)
    arrays = safetensors.numpy.load(buf.getvalue())
    assert sorted(arrays) == sorted(model.state_dict())
    buf.seek(0)
    back = gradlab.load(buf)
    assert list(back) == list(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())


def test_same_structure_as_torch_save(torch) -> None:
    obj = {"w": np.arange(6.0).reshape(2, 3), "epoch": 7, "hist": [1.5, 2.5], "inner": {"b": np.ones(2)}}
    gbuf, tbuf = io.BytesIO(), io.BytesIO()
    gradlab.save({k: (gradlab.tensor(v) if isinstance(v, np.ndarray) else
                      {"b": gradlab.tensor(v["b"])} if isinstance(v, dict) else v) for k, v in obj.items()}, gbuf)
    torch.save({k: (torch.tensor(v) if isinstance(v, np.ndarray) else
                    {"b": torch.tensor(v["b"])} if isinstance(v, dict) else v) for k, v in obj.items()}, tbuf)
    gbuf.seek(0)
    tbuf.seek(0)
    g, t = gradlab.load(gbuf), torch.load(tbuf, weights_only=True)
    assert list(g) == list(t) and g["epoch"] == t["epoch"] and g["hist"] == t["hist"]
    np.testing.assert_array_equal(g["w"].numpy(), t["w"].numpy())
    np.testing.assert_array_equal(g["inner"]["b"].numpy(), t["inner"]["b"].numpy())


def test_weights_only_false_and_pickle_options_are_refused_with_the_reason(tmp_path) -> None:
    path = tmp_path / "m.safetensors"
    gradlab.save({"w": gradlab.ones(2)}, path)
    for bad in (False, 0, "yes"):
        with pytest.raises(ValueError, match="never unpickles"):
            gradlab.load(path, weights_only=bad)
    assert gradlab.load(path, weights_only=None)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="never"):
        gradlab.save({"w": gradlab.ones(2)}, path, pickle_module=object())
    with pytest.raises(TypeError, match="map_location"):
        gradlab.load(path, map_location=lambda s, loc: s)
    assert gradlab.load(path, map_location="cpu")["w"].device == "cpu"


def test_bad_targets_and_values_are_named(tmp_path) -> None:
    with pytest.raises(TypeError, match="path or a binary file"):
        gradlab.save({"w": gradlab.ones(1)}, 42)
    with pytest.raises(TypeError, match="binary file"):
        gradlab.load(io.StringIO("text"))
    with pytest.raises(TypeError):
        gradlab.save({"f": lambda: 0}, io.BytesIO())  # no pickle: a function cannot be stored
    with pytest.raises(ValueError, match="not a valid safetensors"):
        gradlab.load(io.BytesIO(b"garbage bytes here"))


def test_checksum_is_verified_from_a_file_object() -> None:
    buf = io.BytesIO()
    gradlab.save({"a": {"w": gradlab.ones(3)}}, buf, checksum=True)
    blob = bytearray(buf.getvalue())
    blob[-1] ^= 0xFF
    with pytest.raises(ValueError, match="SHA-256"):
        gradlab.load(io.BytesIO(bytes(blob)))
