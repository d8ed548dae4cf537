"""Divergence: NaN/inf weights are never checkpointed or saved; ``fit(on_nan=...)``; strict JSON on disk."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.data import DataLoader, TensorDataset
from gradlab.io import load_checkpoint
from gradlab.train import History, LambdaCallback, fit, has_checkpoint, save_weights
from gradlab.train.finite import first_nonfinite

from .conftest import blobs

# diverging on purpose: numpy's overflow warnings are expected here (the CLI silences them; see tests/cli)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _loader(batch_size=64, nan_rows=()):
    x, y = blobs(n=64)
    x[list(nan_rows)] = np.nan
    return DataLoader(TensorDataset(gradlab.from_numpy(x), gradlab.from_numpy(y)), batch_size=batch_size)


def _model(seed=0):
    gradlab.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))


def test_diverged_weights_are_not_checkpointed(tmp_path):
    """lr 1e39 (inf in float32): one step makes the weights non-finite while the loss of that step was finite."""
    model = _model()
    ckpt = tmp_path / "ck"
    with pytest.raises(FloatingPointError, match=r"parameter '[\w.]+' holds NaN or infinite values after epoch 1 "
                                                 r"\(step 1\)"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1e39), _loader(), epochs=1,
            checkpoint_dir=ckpt, progress=False)
    assert not has_checkpoint(ckpt)


def test_checkpoint_keeps_the_last_finite_epoch(tmp_path):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.01)
    blow_up = LambdaCallback(on_epoch_begin=lambda e, logs=None: e == 2 and opt.param_groups[0].update(lr=1e39))
    ckpt = tmp_path / "ck"
    with pytest.raises(FloatingPointError, match=r"after epoch 3 \(step 3\)"):
        fit(model, nn.CrossEntropyLoss(), opt, _loader(), epochs=4, callbacks=[blow_up], checkpoint_dir=ckpt,
            progress=False)
    ck = load_checkpoint(ckpt)
    assert ck["epoch"] == 1 and all(np.isfinite(v.numpy()).all() for v in ck["model_state"].values())


def test_save_weights_refuses_nonfinite(tmp_path):
    model = _model()
    model[0].bias.data[3] = np.nan
    with pytest.raises(FloatingPointError, match=r"parameter '0.bias'"):
        save_weights(model, tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").exists()


def test_on_nan_skip_batch_skips_the_bad_batches():
    model = _model()
    hist = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), _loader(16, nan_rows=[20]),
               epochs=3, progress=False, on_nan="skip-batch")
    assert hist.history["skipped_batches"] == [1, 1, 1]
    assert first_nonfinite(model) is None and len(hist) == 3


def test_on_nan_skip_batch_with_clipping_skips_nonfinite_gradients():
    model = _model()
    hist = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01), _loader(16, nan_rows=[5]),
               epochs=1, progress=False, on_nan="skip-batch", clip_grad_norm=1.0)
    assert hist.history["skipped_batches"] == [1] and first_nonfinite(model) is None


def test_on_nan_stop_goes_back_to_the_last_checkpoint(tmp_path):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.01)
    blow_up = LambdaCallback(on_epoch_begin=lambda e, logs=None: e == 2 and opt.param_groups[0].update(lr=1e39))
    ckpt = tmp_path / "ck"
    hist = fit(model, nn.CrossEntropyLoss(), opt, _loader(16), epochs=5, callbacks=[blow_up], checkpoint_dir=ckpt,
               progress=False, on_nan="stop")
    assert len(hist) == 2 and hist.stop_reason.startswith("stopped in epoch 3")
    saved = load_checkpoint(ckpt)
    assert saved["epoch"] == 1
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), saved["model_state"][k].numpy(), err_msg=k)
    assert opt.param_groups[0]["lr"] == 0.01


def test_on_nan_stop_without_checkpoint_keeps_the_finite_weights():
    model = _model()
    hist = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), _loader(16, nan_rows=[40]),
               epochs=3, progress=False, on_nan="stop")
    assert len(hist) == 0 and "training loss is nan at epoch 1, batch 3" in hist.stop_reason
    assert first_nonfinite(model) is None


def test_on_nan_is_checked():
    model = _model()
    with pytest.raises(ValueError, match="on_nan must be one of"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), _loader(), on_nan="ignore",
            progress=False)


def test_history_json_is_strict_and_old_files_load(tmp_path):
    h = History()
    h.append(0, {"loss": float("inf"), "val_loss": float("nan")})
    h.append(1, {"loss": np.float32(0.5), "val_loss": 1.0})
    h.to_json(tmp_path / "history.json")
    text = (tmp_path / "history.json").read_text()
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}"))
    assert doc["history"]["loss"] == [None, 0.5]
    assert doc["nonfinite"] == {"history/loss/0": "inf", "history/val_loss/0": "nan"}
    back = History.from_json(tmp_path / "history.json")
    assert back.history["loss"][0] == math.inf and math.isnan(back.history["val_loss"][0])
    # the form written before: strings in place of the non-finite values
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"epoch": [0, 1], "history": {"loss": ["nan", 0.5], "val_loss": ["-inf", None]}}))
    back = History.from_json(old)
    assert math.isnan(back.history["loss"][0]) and back.history["val_loss"] == [-math.inf, None]
    assert isinstance(back.history["loss"][1], float)


def test_damaged_history_json_names_the_file(tmp_path):
    bad = tmp_path / "history.json"
    bad.write_text('{"epoch": [0], "history": {"loss": [null]}, "nonfinite": {"history/loss/7": "nan"}}')
    with pytest.raises(ValueError, match="history.json"):
        History.from_json(bad)
