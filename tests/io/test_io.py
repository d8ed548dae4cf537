"""gradlab.io: safetensors save/load, atomic writes, corrupt files, pickle-free checkpoints."""

from __future__ import annotations

import json
import math
import os
from collections import Counter

import numpy as np
import pytest

import gradlab
from gradlab import io as glio
from gradlab import optim
from gradlab.optim import lr_scheduler


def listing(directory) -> list[str]:
    return sorted(os.listdir(directory))


# ------------------------------------------------------------------------------------------ save / load
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_, np.float16])
def test_round_trip_dtypes(tmp_path, dtype):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((3, 4)) * 10).astype(dtype)
    path = tmp_path / "m.safetensors"
    glio.save({"a": gradlab.tensor(arr), "b": arr[0]}, path)
    out = glio.load(path)
    assert list(out) == ["a", "b"]
    for key, expected in [("a", arr), ("b", arr[0])]:
        t = out[key]
        assert isinstance(t, gradlab.Tensor)
        assert t.dtype == np.dtype(dtype) and t.shape == expected.shape
        np.testing.assert_array_equal(t._data, expected)


def test_round_trip_edge_shapes_and_order(tmp_path):
    sd = {
        "big.endian": np.arange(3, dtype=">f8"),
        "z.scalar": np.array(2.5),
        "a.empty": np.zeros((0, 3), np.float32),
        "m.transposed": np.arange(6.0).reshape(2, 3).T,  # not C-contiguous: must still be saved by value
        "b.weight": gradlab.tensor(np.ones((2, 2))),
    }
    path = tmp_path / "m.safetensors"
    glio.save(sd, path)
    out = glio.load(path)
    assert list(out) == list(sd)  # insertion order survives (safetensors itself sorts)
    for k, v in sd.items():
        expected = v._data if isinstance(v, gradlab.Tensor) else v
        np.testing.assert_array_equal(out[k]._data, expected)
        assert out[k].shape == expected.shape
    out["b.weight"]._data += 1  # loaded arrays are writable
    out["b.weight"].add_(1.0)


def test_loaded_tensors_work_with_autograd(tmp_path):
    path = tmp_path / "w.safetensors"
    glio.save({"w": gradlab.tensor([1.0, 2.0])}, path)
    w = glio.load(path)["w"].requires_grad_()
    (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]


def test_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    glio.save({"a": np.ones(2)}, path, metadata={"epoch": "3", "arch": "mlp"})
    assert glio.load_metadata(path) == {"epoch": "3", "arch": "mlp"}
    glio.save({"a": np.ones(2)}, path)
    assert glio.load_metadata(path) == {}
    with pytest.raises(TypeError, match="str to str"):
        glio.save({"a": np.ones(2)}, path, metadata={"epoch": 3})


def test_save_rejects_bad_input(tmp_path):
    path = tmp_path / "m.safetensors"
    with pytest.raises(TypeError, match="keys must be strings"):
        glio.save({1: np.ones(2)}, path)
    with pytest.raises(TypeError, match="dtype"):
        glio.save({"s": np.array(["x"])}, path)
    with pytest.raises(TypeError, match="expected a Tensor"):
        glio.save({"o": object()}, path)
    with pytest.raises(TypeError, match="mapping"):
        glio.save([np.ones(2)], path)
    assert listing(tmp_path) == []  # nothing written, no temporary left


def test_reads_plain_safetensors_files(tmp_path):
    import safetensors.numpy as st

    path = tmp_path / "other.safetensors"
    st.save_file({"x": np.arange(4, dtype=np.int64), "y": np.ones(2, np.float32)}, str(path))
    out = glio.load(path)
    assert sorted(out) == ["x", "y"] and out["x"].tolist() == [0, 1, 2, 3]


def test_interrupted_save_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    glio.save({"a": np.ones(3)}, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk unplugged")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk unplugged"):
        glio.save({"a": np.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["m.safetensors"]  # no temporary file left behind
    np.testing.assert_array_equal(glio.load(path)["a"]._data, np.ones(3))


def test_interrupted_write_keeps_old_file(tmp_path, monkeypatch):
    """A failure while the bytes are being written (e.g. disk full) leaves the target alone too."""
    path = tmp_path / "m.safetensors"
    glio.save({"a": np.ones(3)}, path)
    before = path.read_bytes()

    def fail_fsync(fd):
        raise OSError("no space left on device")

    monkeypatch.setattr(os, "fsync", fail_fsync)
    with pytest.raises(OSError, match="no space"):
        glio.save({"a": np.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and listing(tmp_path) == ["m.safetensors"]


def test_new_file_gets_normal_permissions(tmp_path):
    path = tmp_path / "m.safetensors"
    glio.save({"a": np.ones(1)}, path)
    mask = os.umask(0)
    os.umask(mask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~mask)


@pytest.mark.parametrize("cut", [0, 5, 8, 20, -1, -7])
def test_truncated_file_raises_value_error_naming_it(tmp_path, cut):
    path = tmp_path / "m.safetensors"
    glio.save({"a": np.arange(10.0), "b": np.ones(3)}, path)
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut >= 0 else data[:cut])
    with pytest.raises(ValueError, match="m.safetensors"):
        glio.load(path)


def test_garbage_file_raises_value_error(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"\x80\x04\x95 this is a pickle, not safetensors" * 3)
    with pytest.raises(ValueError, match="junk.safetensors.*not a valid safetensors"):
        glio.load(path)
    header = json.dumps({"a": {"dtype": "F64", "shape": [4], "data_offsets": [0, 32]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 8)  # header promises more data
    with pytest.raises(ValueError, match="junk.safetensors"):
        glio.load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        glio.load(tmp_path / "nope.safetensors")


# ------------------------------------------------------------------------------------------ flatten / unflatten
def test_flatten_unflatten_is_exact():
    obj = {
        "ints": [1, -2, 10**30],
        "floats": [0.1, 1e-300, math.inf, -math.inf],
        "nan": math.nan,
        "flags": (True, False, None),
        "text": "héllo",
        "arr": np.arange(6, dtype=np.int32).reshape(2, 3),
        "tensor": gradlab.tensor([1.5, 2.5]),
        "np_scalars": [np.float32(0.1), np.int64(7), np.bool_(True)],
        7: {"int keyed": 1},
        (1, "a"): "tuple key",
        "__looks_special__": {"__tensor__": "not really"},
        "empty": {},
        "nested": [[], (), {"a": [np.zeros(0)]}],
        "counter": Counter({5: 2, 12: 1}),
    }
    tree, arrays = glio.flatten_state(obj)
    text = json.dumps(tree, allow_nan=False)  # strictly valid JSON
    back = glio.unflatten_state(json.loads(text), arrays)

    assert back["ints"] == [1, -2, 10**30] and all(type(x) is int for x in back["ints"])
    assert back["floats"] == [0.1, 1e-300, math.inf, -math.inf]
    assert math.isnan(back["nan"])
    assert back["flags"] == (True, False, None) and isinstance(back["flags"], tuple)
    assert back["text"] == "héllo"
    np.testing.assert_array_equal(back["arr"], obj["arr"])
    assert isinstance(back["arr"], np.ndarray) and back["arr"].dtype == np.int32
    assert isinstance(back["tensor"], gradlab.Tensor) and back["tensor"].tolist() == [1.5, 2.5]
    f32, i64, b = back["np_scalars"]
    assert type(f32) is np.float32 and f32 == np.float32(0.1)
    assert type(i64) is np.int64 and i64 == 7 and type(b) is np.bool_
    assert back[7] == {"int keyed": 1}
    assert back[(1, "a")] == "tuple key"
    assert back["__looks_special__"] == {"__tensor__": "not really"}
    assert back["empty"] == {}
    assert back["nested"][0] == [] and back["nested"][1] == ()
    assert back["nested"][2]["a"][0].shape == (0,)
    assert back["counter"] == {5: 2, 12: 1}


def test_flatten_rejects_unknown_objects():
    with pytest.raises(TypeError, match="'model/fn'.*without pickle"):
        glio.flatten_state({"model": {"fn": lambda x: x}})
    with pytest.raises(TypeError, match="dtype"):
        glio.flatten_state({"a": np.array([1 + 2j])})  # complex128 is not storable in safetensors


# ------------------------------------------------------------------------------------------ checkpoints
def make_training(seed=0):
    rng = np.random.default_rng(seed)
    params = {
        "fc.weight": gradlab.tensor(rng.standard_normal((4, 3)), requires_grad=True),
        "fc.bias": gradlab.tensor(np.zeros(4), requires_grad=True),
    }
    opt = optim.Adam(
        [{"params": [params["fc.weight"]]}, {"params": [params["fc.bias"]], "lr": 0.01}], lr=0.05, amsgrad=True
    )
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=40)
    return params, opt, sched


def train(params, opt, sched, steps, start):
    for k in range(start, start + steps):
        for p in params.values():
            g = np.cos(p._data * (k + 1)) + 0.1 * p._data
            p.grad = gradlab.tensor(g)
        opt.step()
        sched.step()


def test_checkpoint_round_trip_resumes_training_exactly(tmp_path):
    params, opt, sched = make_training()
    train(params, opt, sched, 15, start=0)
    gen = gradlab.Generator().manual_seed(123)
    gen.numpy_rng.standard_normal(5)
    ckpt = tmp_path / "run1"
    json_path = glio.save_checkpoint(
        ckpt,
        model_state={k: p.detach() for k, p in params.items()},
        optimizer_state=opt.state_dict(),
        scheduler_state=sched.state_dict(),
        epoch=15,
        rng_state=gen.get_state(),
        extra={"history": {"loss": [0.5, 0.25]}, "best": math.inf, "note": None},
    )
    assert json_path == ckpt / "checkpoint.json"
    names = listing(ckpt)
    assert len(names) == 2 and "checkpoint.json" in names

    # uninterrupted reference
    train(params, opt, sched, 20, start=15)
    expected_draw = gen.numpy_rng.standard_normal(3)

    ck = glio.load_checkpoint(ckpt)
    assert ck["epoch"] == 15 and isinstance(ck["epoch"], int)
    assert ck["extra"] == {"history": {"loss": [0.5, 0.25]}, "best": math.inf, "note": None}
    new_params, new_opt, new_sched = make_training(seed=1)
    for k, p in new_params.items():
        assert isinstance(ck["model_state"][k], gradlab.Tensor)
        p._data[...] = ck["model_state"][k]._data
    new_opt.load_state_dict(ck["optimizer_state"])
    new_sched.load_state_dict(ck["scheduler_state"])
    assert isinstance(new_opt.param_groups[0]["betas"], tuple)
    g2 = gradlab.Generator()
    g2.set_state(ck["rng_state"])
    train(new_params, new_opt, new_sched, 20, start=15)

    for k in params:
        np.testing.assert_array_equal(new_params[k]._data, params[k]._data)
    assert new_sched.get_last_lr() == sched.get_last_lr()
    np.testing.assert_array_equal(g2.numpy_rng.standard_normal(3), expected_draw)


def test_checkpoint_state_dicts_come_back_identical(tmp_path):
    params, opt, sched = make_training()
    train(params, opt, sched, 5, start=0)
    osd, ssd = opt.state_dict(), sched.state_dict()
    plateau = lr_scheduler.ReduceLROnPlateau(optim.SGD([gradlab.tensor([1.0], requires_grad=True)], lr=1.0))
    multi = lr_scheduler.MultiStepLR(optim.SGD([gradlab.tensor([1.0], requires_grad=True)], lr=1.0), [3, 3, 7])
    glio.save_checkpoint(
        tmp_path / "c.json",
        model_state={},
        optimizer_state=osd,
        scheduler_state={"one_cycle": ssd, "multistep": multi.state_dict(), "plateau": plateau.state_dict()},
        epoch=None,
        rng_state=None,
    )
    ck = glio.load_checkpoint(tmp_path / "c.json")
    assert set(os.listdir(tmp_path)) >= {"c.json"}

    def same(a, b):
        assert type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict)), (a, b)
        if isinstance(a, dict):
            assert list(a) == list(b)
            for k in a:
                same(a[k], b[k])
        elif isinstance(a, (list, tuple)):
            assert len(a) == len(b)
            for x, y in zip(a, b):
                same(x, y)
        elif isinstance(a, np.ndarray):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))

    same(ck["optimizer_state"], osd)
    same(ck["scheduler_state"]["one_cycle"], ssd)
    same(ck["scheduler_state"]["plateau"], plateau.state_dict())
    assert ck["scheduler_state"]["plateau"]["best"] == math.inf
    restored = lr_scheduler.MultiStepLR(optim.SGD([gradlab.tensor([1.0], requires_grad=True)], lr=1.0), [1])
    restored.load_state_dict(ck["scheduler_state"]["multistep"])
    assert restored.milestones == Counter({3: 2, 7: 1})


def test_checkpoint_overwrite_is_atomic_and_cleans_up(tmp_path, monkeypatch):
    ckpt = tmp_path / "ck"
    glio.save_checkpoint(ckpt, model_state={"w": np.ones(3)}, optimizer_state=None, epoch=1, rng_state=None)
    glio.save_checkpoint(ckpt, model_state={"w": np.full(3, 2.0)}, optimizer_state=None, epoch=2, rng_state=None)
    assert len(listing(ckpt)) == 2  # the first save's tensor file was removed
    assert glio.load_checkpoint(ckpt)["epoch"] == 2

    # the JSON replace fails: the previous checkpoint is still whole and loads
    real_replace = os.replace

    def fail_on_json(src, dst, *a, **k):
        if str(dst).endswith(".json"):
            raise OSError("killed")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", fail_on_json)
    with pytest.raises(OSError, match="killed"):
        glio.save_checkpoint(ckpt, model_state={"w": np.full(3, 3.0)}, optimizer_state=None, epoch=3, rng_state=None)
    monkeypatch.undo()
    ck = glio.load_checkpoint(ckpt)
    assert ck["epoch"] == 2 and ck["model_state"]["w"].tolist() == [2.0, 2.0, 2.0]
    assert not [n for n in listing(ckpt) if n.endswith(".tmp")]


def test_checkpoint_detects_mismatch_and_corruption(tmp_path):
    ckpt = tmp_path / "ck"
    glio.save_checkpoint(ckpt, model_state={"w": np.ones(3)}, optimizer_state=None, epoch=1, rng_state=None)
    doc = json.loads((ckpt / "checkpoint.json").read_text())
    tensor_file = ckpt / doc["tensor_file"]

    data = tensor_file.read_bytes()
    tensor_file.write_bytes(data[:-4] + b"\1\2\3\4")  # flipped bytes in the array data
    with pytest.raises(ValueError, match="does not match checkpoint"):
        glio.load_checkpoint(ckpt)

    tensor_file.unlink()
    with pytest.raises(ValueError, match="does not exist"):
        glio.load_checkpoint(ckpt)

    (ckpt / "checkpoint.json").write_text('{"format": "gradlab-checkpoint", "tensor_fi')
    with pytest.raises(ValueError, match="checkpoint.json.*corrupt or truncated"):
        glio.load_checkpoint(ckpt)

    (ckpt / "checkpoint.json").write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="not a gradlab checkpoint"):
        glio.load_checkpoint(ckpt)

    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        glio.load_checkpoint(tmp_path / "elsewhere")


def test_checkpoint_never_pickles(tmp_path):
    class Opaque:
        pass

    with pytest.raises(TypeError, match="without pickle"):
        glio.save_checkpoint(
            tmp_path / "ck", model_state={}, optimizer_state=None, epoch=0, rng_state=None, extra={"obj": Opaque()}
        )
    assert not (tmp_path / "ck" / "checkpoint.json").exists()
