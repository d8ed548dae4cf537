"""gradlab on a real GPU (CuPy): the op catalogue and the layer ops against the CPU (and torch CUDA where present),
the fused Adam kernel, short trainings (MLP, LeNet-5, LSTM) equal to the CPU's, checkpoints across devices.

Skipped, with the reason, where CuPy or a GPU is missing (the device plumbing is tested on the CPU by
``tests/autograd/test_devices.py`` and ``tests/ops/test_device_dispatch.py``).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import gradlab
from gradlab import nn
from tests.helpers import assert_close, to_torch
from tests.ops.catalogue import CATALOGUE, OpCase, make_inputs
from tests.ops.device_cases import CASES as LAYER_CASES
from tests.ops.device_cases import make_case_inputs, run_case

cp = pytest.importorskip("cupy", reason="CuPy is not installed (pip install gradlab[cuda])")
if not gradlab.cuda.is_available():
    pytest.skip("no CUDA GPU found by CuPy", allow_module_level=True)

TOL = {"float64": {"rtol": 1e-9, "atol": 1e-11}, "float32": {"rtol": 2e-5, "atol": 2e-6}}


def _rng(*key: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(key).encode()))


def _catalogue_run(case: OpCase, arrays: list, g: np.ndarray | None, device: str) -> tuple:
    ts = [gradlab.tensor(a.copy(), requires_grad=True, device=device) for a in arrays]
    out = case.fn(gradlab, *ts)
    if g is None:
        return out, None
    out.backward(gradlab.tensor(g, device=device))
    return out, [t.grad for t in ts]


@pytest.mark.parametrize("case, dtype", [pytest.param(c, dt, id=f"{c.name}-{dt}") for c in CATALOGUE
                                         for dt in ("float64", "float32")])
def test_catalogue_on_cuda_matches_cpu(case: OpCase, dtype: str) -> None:
    arrays = [a.astype(dtype) for a in make_inputs(case, _rng(case.name, "cuda"))]
    out_cpu, _ = _catalogue_run(case, arrays, None, "cpu")
    g = _rng(case.name, "up").standard_normal(tuple(out_cpu.shape)).astype(dtype)
    out_cpu, grads_cpu = _catalogue_run(case, arrays, g, "cpu")
    out, grads = _catalogue_run(case, arrays, g, "cuda")
    assert out.is_cuda and isinstance(out._data, cp.ndarray)
    assert out.dtype == out_cpu.dtype
    assert_close(out.detach().cpu(), out_cpu, **TOL[dtype])
    for gr, gc in zip(grads, grads_cpu):
        assert gr.is_cuda
        assert_close(gr.cpu(), gc, **TOL[dtype])


@pytest.fixture
def torch_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    return torch


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CATALOGUE])
def test_catalogue_on_cuda_matches_torch_cuda(case: OpCase, torch_cuda) -> None:
    if case.op.endswith("_numpy"):
        pytest.skip("the catalogue's torch constant is a CPU tensor (the gradlab-CPU comparison covers this case)")
    arrays = [a.astype(np.float32) for a in make_inputs(case, _rng(case.name, "torch"))]
    out, grads = _catalogue_run(case, arrays, None, "cuda")
    g = _rng(case.name, "up").standard_normal(tuple(out.shape)).astype(np.float32)
    out, grads = _catalogue_run(case, arrays, g, "cuda")
    tin = [to_torch(a, requires_grad=False).cuda().requires_grad_(True) for a in arrays]
    tout = case.fn(torch_cuda, *tin)
    tout.backward(torch_cuda.from_numpy(g).cuda())
    assert_close(out.detach().cpu(), tout.detach().cpu(), rtol=1e-4, atol=1e-5)
    for gr, tg in zip(grads, tin):
        assert_close(gr.cpu(), tg.grad.cpu(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in LAYER_CASES])
def test_layer_ops_on_cuda_match_cpu(case: tuple, dtype: str) -> None:
    floats, ints = make_case_inputs(case, _rng(case[0], "cuda"), dtype)
    out_cpu, _ = run_case(case, floats, ints, None, "cpu")
    g = _rng(case[0], "up").standard_normal(tuple(out_cpu.shape)).astype(dtype)
    out_cpu, grads_cpu = run_case(case, floats, ints, g, "cpu")
    out, grads = run_case(case, floats, ints, g, "cuda")
    tol = {"float64": {"rtol": 1e-8, "atol": 1e-10}, "float32": {"rtol": 1e-4, "atol": 1e-5}}[dtype]
    assert out.is_cuda
    assert_close(out.detach().cpu(), out_cpu, **tol)
    for gr, gc in zip(grads, grads_cpu):
        assert (gr is None) == (gc is None)
        if gr is not None:
            assert gr.is_cuda
            assert_close(gr.cpu(), gc, **tol)


@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
                                {"maximize": True}, {"amsgrad": True}], ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_adam_kernel_matches_the_cpu_update(kw: dict, dtype: str) -> None:
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((7, 5)).astype(dtype)
    grads = [rng.standard_normal((7, 5)).astype(dtype) for _ in range(30)]
    result = {}
    for device in ("cpu", "cuda"):
        w = nn.Parameter(gradlab.tensor(w0, device=device))
        opt = gradlab.optim.Adam([w], lr=0.01, **kw)
        for g in grads:
            w.grad = gradlab.tensor(g, device=device)
            opt.step()
        result[device] = w.detach().cpu().numpy()
        assert str(w.device).startswith(device)
    np.testing.assert_allclose(result["cuda"], result["cpu"], **TOL[dtype])


def _make(name: str):
    from gradlab.models import MLP, LeNet5, SequenceClassifier

    return {
        "mlp": (lambda: MLP(784, hidden=(64, 32), out_features=10),
                lambda p: gradlab.optim.SGD(p, lr=0.05, momentum=0.9), (32, 784)),
        "lenet5": (lambda: LeNet5(), lambda p: gradlab.optim.Adam(p, lr=1e-3), (16, 1, 28, 28)),
        "lstm": (lambda: SequenceClassifier(hidden_size=32), lambda p: gradlab.optim.Adam(p, lr=1e-3),
                 (16, 28, 28)),
    }[name]


def _train(name: str, device: str, steps: int = 8) -> tuple:
    make, make_opt, shape = _make(name)
    gradlab.manual_seed(0)
    model = make().to(device)
    opt = make_opt(model.parameters())
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(steps):
        x = gradlab.tensor(rng.standard_normal(shape).astype(np.float32), device=device)
        y = gradlab.tensor(rng.integers(0, 10, shape[0]), device=device)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses


@pytest.mark.parametrize("name", ["mlp", "lenet5", "lstm"])
def test_short_training_on_cuda_equals_cpu(name: str) -> None:
    model_cpu, losses_cpu = _train(name, "cpu")
    model, losses = _train(name, "cuda")
    assert all(p.is_cuda for p in model.parameters())
    np.testing.assert_allclose(losses, losses_cpu, rtol=1e-4, atol=1e-5)
    for (k, p), (_, pc) in zip(model.state_dict().items(), model_cpu.state_dict().items()):
        assert_close(p.cpu(), pc, rtol=1e-3, atol=1e-5, msg=k)


def test_cuda_trained_model_saved_and_loaded_on_cpu_and_the_reverse(tmp_path) -> None:
    model, _ = _train("lenet5", "cuda", steps=3)
    x = np.random.default_rng(5).standard_normal((4, 1, 28, 28)).astype(np.float32)
    with gradlab.no_grad():
        out_gpu = model.eval()(gradlab.tensor(x, device="cuda")).cpu().numpy()
    path = tmp_path / "gpu.safetensors"
    gradlab.save({k: v.cpu() for k, v in model.state_dict().items()}, path)
    from gradlab.models import LeNet5

    on_cpu = LeNet5().eval()
    on_cpu.load_state_dict(gradlab.load(path))
    with gradlab.no_grad():
        np.testing.assert_allclose(on_cpu(gradlab.tensor(x)).numpy(), out_gpu, rtol=1e-4, atol=1e-5)
    # the reverse: a CPU checkpoint into a model on the GPU
    path2 = tmp_path / "cpu.safetensors"
    gradlab.save(on_cpu.state_dict(), path2)
    back = LeNet5().to("cuda").eval()
    back.load_state_dict(gradlab.load(path2))
    assert all(p.is_cuda for p in back.parameters())
    with gradlab.no_grad():
        np.testing.assert_allclose(back(gradlab.tensor(x, device="cuda")).cpu().numpy(), out_gpu, rtol=1e-4,
                                   atol=1e-5)


def test_save_takes_a_cuda_state_dict_directly(tmp_path) -> None:
    model = nn.Linear(3, 2).to("cuda")
    gradlab.save(model.state_dict(), tmp_path / "m.safetensors")
    loaded = gradlab.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded["weight"].numpy(), model.weight.detach().cpu().numpy())


def test_devices_numpy_and_errors_on_a_real_gpu() -> None:
    x = gradlab.randn(3, 2, device="cuda", requires_grad=True)
    assert x.is_cuda and x.device == gradlab.device("cuda", 0) and "device='cuda:0'" in repr(x)
    host = x.detach().numpy()
    assert type(host) is np.ndarray and type(np.asarray(x.detach())) is np.ndarray
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found at least two "
                                           "devices, cuda:0 and cpu!"):
        x + gradlab.ones(3, 2)
    y = x.cpu()
    (y * 2).sum().backward()
    assert x.grad.is_cuda and x.grad.cpu().tolist() == [[2.0, 2.0]] * 3
    t = gradlab.tensor(cp.arange(3.0))  # a CuPy array stays on its GPU
    assert t.is_cuda and t.tolist() == [0.0, 1.0, 2.0]


def test_dataloader_batches_arrive_on_the_gpu() -> None:
    from gradlab.data import DataLoader, TensorDataset

    ds = TensorDataset(np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10))
    batches = list(DataLoader(ds, batch_size=4, shuffle=True, device="cuda"))
    assert all(xb.is_cuda and yb.is_cuda for xb, yb in batches)
    assert sorted(np.concatenate([yb.cpu().numpy() for _, yb in batches]).tolist()) == list(range(10))


def test_dropout_on_cuda_is_seeded_and_scaled() -> None:
    def draw() -> np.ndarray:
        gradlab.manual_seed(7)
        return nn.functional.dropout(gradlab.ones(10000, device="cuda"), 0.3, training=True).cpu().numpy()

    a, b = draw(), draw()
    np.testing.assert_array_equal(a, b)
    vals = np.unique(a)
    assert len(vals) == 2 and vals[0] == 0 and abs(vals[1] - 1 / 0.7) < 1e-6
    assert 0.27 < (a == 0).mean() < 0.33


def _blobs(train: bool = True, root: str | None = None) -> tuple:
    """Three separable classes of 8x8 images (a dataset for run_training that needs no files)."""
    centers = np.random.default_rng(0).normal(size=(3, 1, 8, 8)).astype(np.float32)
    rng = np.random.default_rng(1 if train else 2)
    y = rng.integers(0, 3, 600 if train else 300)
    x = (centers[y] + 0.5 * rng.standard_normal((len(y), 1, 8, 8))).astype(np.float32)
    return x, y.astype(np.int64), {"input_shape": [1, 8, 8], "num_classes": 3, "classes": ["a", "b", "c"]}


def test_run_training_on_cuda_matches_cpu_then_resumes_and_evaluates_on_cpu(tmp_path) -> None:
    from gradlab.train.experiment import DATASETS, load_run_model, make_config, register_dataset, run_training

    register_dataset("gpu-blobs", _blobs)
    try:
        cfg = make_config(dataset="gpu-blobs", hidden=(32,), epochs=2, batch_size=64)
        gpu = run_training(cfg, tmp_path / "gpu", device="cuda", log=None, progress=False)
        cpu = run_training(cfg, tmp_path / "cpu", log=None, progress=False)
        assert gpu["test_accuracy"] > 0.9
        assert abs(gpu["test_accuracy"] - cpu["test_accuracy"]) <= 0.01
        assert abs(gpu["test_loss"] - cpu["test_loss"]) <= 1e-3 * max(1.0, cpu["test_loss"])
        more = run_training(dict(cfg, epochs=3), tmp_path / "gpu", resume=True, log=None, progress=False)
        assert more["epochs"] == 3  # a run trained on the GPU continues on the CPU
        model, _ = load_run_model(tmp_path / "gpu")
        assert all(not p.is_cuda for p in model.parameters())
        back = run_training(dict(cfg, epochs=4), tmp_path / "gpu", resume=True, device="cuda", log=None,
                            progress=False)
        assert back["epochs"] == 4 and back["test_accuracy"] > 0.9  # and back onto the GPU
    finally:
        DATASETS.pop("gpu-blobs")
