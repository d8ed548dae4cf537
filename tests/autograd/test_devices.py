"""Devices on the CPU: ``gradlab.device``, ``Tensor.device``/``.to``/``.cuda``/``.cpu``, ``device=`` on factories,
``Module.to``, the default device, ``gradlab.cuda``, and the errors without CuPy or without a GPU.

Paths that need a GPU run against the fake one of ``tests/fake_cupy.py`` (real CuPy: ``tests/gpu/``).
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import gradlab
from gradlab import backend, nn
from gradlab.data import DataLoader, TensorDataset
from tests.fake_cupy import FakeGpuArray, fake_gpu

FACTORIES = {
    "tensor": lambda d: gradlab.tensor([1.0, 2.0], device=d),
    "as_tensor": lambda d: gradlab.as_tensor(np.ones(2), device=d),
    "zeros": lambda d: gradlab.zeros(2, 3, device=d),
    "ones": lambda d: gradlab.ones(2, device=d),
    "empty": lambda d: gradlab.empty(2, device=d),
    "full": lambda d: gradlab.full((2,), 1.5, device=d),
    "eye": lambda d: gradlab.eye(3, device=d),
    "arange": lambda d: gradlab.arange(4, device=d),
    "linspace": lambda d: gradlab.linspace(0, 1, 5, device=d),
    "randn": lambda d: gradlab.randn(3, device=d),
    "rand": lambda d: gradlab.rand(3, device=d),
    "normal": lambda d: gradlab.normal(0.0, 1.0, (3,), device=d),
    "randint": lambda d: gradlab.randint(0, 5, (3,), device=d),
    "randperm": lambda d: gradlab.randperm(4, device=d),
    "zeros_like": lambda d: gradlab.zeros_like(gradlab.ones(2), device=d),
    "ones_like": lambda d: gradlab.ones_like(gradlab.ones(2), device=d),
    "full_like": lambda d: gradlab.full_like(gradlab.ones(2), 3.0, device=d),
    "empty_like": lambda d: gradlab.empty_like(gradlab.ones(2), device=d),
    "randn_like": lambda d: gradlab.randn_like(gradlab.ones(2), device=d),
    "rand_like": lambda d: gradlab.rand_like(gradlab.ones(2), device=d),
    "randint_like": lambda d: gradlab.randint_like(gradlab.ones(2), 5, device=d),
}


# ---- device objects ---------------------------------------------------------------------------------------------
def test_device_parses_like_torch() -> None:
    assert repr(gradlab.device("cuda:1")) == "device(type='cuda', index=1)"
    assert repr(gradlab.device("cuda")) == "device(type='cuda')"
    assert gradlab.device("cuda", 0) == gradlab.device("cuda:0") == "cuda:0"
    assert gradlab.device("cpu") == "cpu" and str(gradlab.device("cpu")) == "cpu"
    assert gradlab.device("cuda") != gradlab.device("cuda:0")  # as torch: no index is not index 0
    assert gradlab.device(gradlab.device("cpu")).type == "cpu"
    assert len({gradlab.device("cuda:0"), gradlab.device("cuda", 0)}) == 1


@pytest.mark.parametrize("bad, err", [("tpu", ValueError), ("cuda:x", ValueError), ("cpu:1", ValueError),
                                      (3.5, TypeError)])
def test_device_rejects_bad_names(bad: object, err: type) -> None:
    with pytest.raises(err, match="device"):
        gradlab.device(bad)


# ---- tensors on the cpu -------------------------------------------------------------------------------------------
def test_cpu_tensor_reports_its_device_and_to_cpu_is_identity() -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    assert x.device == gradlab.device("cpu") and x.device.type == "cpu" and not x.is_cuda
    assert x.to("cpu") is x and x.cpu() is x and x.to(gradlab.device("cpu")) is x and x.to(device="cpu") is x
    y = x.to("cpu", gradlab.float64)
    assert y.dtype == np.float64 and y.requires_grad
    assert x.to(gradlab.zeros(1, dtype=gradlab.float64)).dtype == np.float64  # to(other): its dtype and device
    assert x.to(dtype=gradlab.float64, device="cpu").dtype == np.float64
    c = x.to("cpu", copy=True)
    assert c is not x and c._data is not x._data


@pytest.mark.parametrize("name", list(FACTORIES))
def test_factories_take_a_device(name: str) -> None:
    t = FACTORIES[name]("cpu")
    assert t.device == "cpu" and isinstance(t._data, np.ndarray)
    assert FACTORIES[name](gradlab.device("cpu")).device == "cpu"
    with fake_gpu():
        t = FACTORIES[name]("cuda")
        assert t.device == "cuda:0" and isinstance(t._data, FakeGpuArray), name


def test_random_factories_draw_the_same_values_on_every_device() -> None:
    gradlab.manual_seed(3)
    cpu = gradlab.randn(5)
    with fake_gpu():
        gradlab.manual_seed(3)
        gpu = gradlab.randn(5, device="cuda")
        np.testing.assert_array_equal(gpu.cpu().numpy(), cpu.numpy())


def test_set_default_device_applies_to_factories() -> None:
    gradlab.set_default_device("cpu")
    assert gradlab.get_default_device() == "cpu" and gradlab.zeros(1).device == "cpu"
    with fake_gpu():
        gradlab.set_default_device("cuda")
        try:
            assert gradlab.zeros(2).device.type == "cuda" and gradlab.tensor([1.0]).device.type == "cuda"
        finally:
            gradlab.set_default_device("cpu")
    assert gradlab.zeros(1).device == "cpu"


# ---- moving between devices ---------------------------------------------------------------------------------------
def test_to_cuda_and_back_is_differentiable_and_numpy_copies_back() -> None:
    with fake_gpu():
        x = gradlab.tensor([1.0, -2.0], requires_grad=True)
        g = x.cuda()
        assert g.is_cuda and g.device == "cuda:0" and g.to("cuda") is g and g.cuda(0) is g
        assert "device='cuda:0'" in repr(g)
        y = (g * g).sum()
        assert y.is_cuda
        y.backward()
        assert x.grad.device == "cpu"
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])
        host = g.detach().numpy()
        assert type(host) is np.ndarray and host.tolist() == [1.0, -2.0]
        assert type(np.asarray(g.detach())) is np.ndarray
        assert g.cpu().device == "cpu" and g.to("cpu")._data.tolist() == [1.0, -2.0]


def test_mixing_devices_in_one_op_names_both() -> None:
    with fake_gpu():
        a, b = gradlab.ones(2, device="cuda"), gradlab.ones(2)
        for op in (lambda: a + b, lambda: b * a, lambda: a @ b, lambda: gradlab.cat([a, b])):
            with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found at "
                                                   "least two devices, (cuda:0 and cpu|cpu and cuda:0)!"):
                op()
        assert (a + np.ones(2)).device == "cuda:0"  # a raw host array follows the tensor, as a Python number


def test_module_to_moves_parameters_in_place_and_loads_across_devices() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    params = list(model.parameters())
    opt = gradlab.optim.SGD(params, lr=0.1)
    sd_cpu = {k: v.clone() for k, v in model.state_dict().items()}
    with fake_gpu():
        assert model.to("cuda") is model and model.cuda() is model
        assert list(model.parameters()) == params and all(p.device == "cuda:0" for p in params)
        assert all(b.device == "cuda:0" for b in model.buffers())
        model(gradlab.randn(5, 3, device="cuda")).sum().backward()
        opt.step()
        assert all(p.device == "cuda:0" and p.grad.device == "cuda:0" for p in params)
        model.load_state_dict(sd_cpu)  # a CPU checkpoint loads onto the GPU model
        assert all(p.device == "cuda:0" for p in params)
        np.testing.assert_array_equal(model[0].weight.detach().cpu().numpy(), sd_cpu["0.weight"].numpy())
        sd_gpu = model.state_dict()
        model.cpu()
        assert all(p.device == "cpu" for p in params) and all(b.device == "cpu" for b in model.buffers())
        model.load_state_dict(sd_gpu)  # and a GPU one onto the CPU model
        assert isinstance(model[0].weight._data, np.ndarray) and not isinstance(model[0].weight._data, FakeGpuArray)


def test_optimizer_state_dict_is_on_the_host_and_loads_onto_the_device() -> None:
    with fake_gpu():
        w = nn.Parameter(gradlab.ones(3, device="cuda"))
        opt = gradlab.optim.Adam([w], lr=0.1)
        w.grad = gradlab.ones(3, device="cuda")
        opt.step()
        sd = opt.state_dict()
        assert not isinstance(sd["state"][0]["exp_avg"], FakeGpuArray)
        opt2 = gradlab.optim.Adam([w], lr=0.1)
        opt2.load_state_dict(sd)
        assert isinstance(opt2.state[w]["exp_avg"], FakeGpuArray)


def test_dataloader_moves_batches_to_its_device() -> None:
    ds = TensorDataset(np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6))
    assert all(x.device == "cpu" for x, _ in DataLoader(ds, batch_size=4, device="cpu"))
    with fake_gpu():
        batches = list(DataLoader(ds, batch_size=4, device="cuda"))
        assert len(batches) == 2 and all(x.device == "cuda:0" and y.device == "cuda:0" for x, y in batches)
        assert batches[1][1].cpu().tolist() == [4, 5]


# ---- without CuPy, or without a GPU ----------------------------------------------------------------------------------
@pytest.fixture
def no_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend, "_cp", None)
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    class _NoDevice(Exception):
        pass

    def count() -> int:
        raise _NoDevice("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=count))  # type: ignore[attr-defined]
    monkeypatch.setattr(backend, "_cp", None)
    monkeypatch.setitem(sys.modules, "cupy", fake)


CUDA_USES = {
    "to": lambda: gradlab.ones(2).to("cuda"),
    "cuda": lambda: gradlab.ones(2).cuda(),
    "factory": lambda: gradlab.zeros(2, device="cuda"),
    "tensor": lambda: gradlab.tensor([1.0], device="cuda:0"),
    "module": lambda: nn.Linear(2, 2).to("cuda"),
    "default": lambda: gradlab.set_default_device("cuda"),
}


@pytest.mark.parametrize("use", list(CUDA_USES))
def test_cuda_without_cupy_says_what_to_install(no_cupy: None, use: str) -> None:
    with pytest.raises(RuntimeError, match=r"pip install gradlab\[cuda\].*cupy-cuda12x / cupy-cuda13x"):
        CUDA_USES[use]()
    assert gradlab.cuda.is_available() is False and gradlab.cuda.device_count() == 0
    assert gradlab.get_default_device() == "cpu"


@pytest.mark.parametrize("use", list(CUDA_USES))
def test_cuda_without_a_gpu_says_none_was_found(no_gpu: None, use: str) -> None:
    with pytest.raises(RuntimeError, match="no usable NVIDIA GPU found"):
        CUDA_USES[use]()
    assert gradlab.cuda.is_available() is False


def test_cpu_path_never_imports_cupy(no_cupy: None) -> None:
    x = gradlab.randn(4, 3, requires_grad=True)
    (x @ x.T).relu().sum().backward()
    assert backend.cupy_if_loaded() is None and backend.get_array_module(x._data) is np
    gradlab.cuda.synchronize()  # a no-op without CuPy
