"""A stand-in for CuPy on machines without a GPU, to test gradlab's device plumbing on the CPU.

``fake_gpu()`` (a context manager) makes gradlab believe CuPy is loaded with one GPU whose arrays are
:class:`FakeGpuArray` (a NumPy subclass that reports ``device.id == 0``). Array functions of the fake module return
such arrays, and NumPy keeps the subclass through ufuncs, so an op that builds a plain NumPy array where it should
have asked its inputs' array module shows up as a tensor on the CPU. It checks dispatch, devices and the error
paths, not CuPy's numerics (``tests/gpu/test_cuda.py`` does that on a real GPU).

>>> import numpy as np, gradlab
>>> with fake_gpu():
...     x = gradlab.ones(2, device="cuda")
...     str(x.device), str(x.cpu().device)
('cuda:0', 'cpu')
"""

from __future__ import annotations

import contextlib
import re
import sys
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["FakeGpuArray", "fake_gpu"]


class _Dev:
    id = 0

    def __str__(self) -> str:
        return "<fake CUDA Device 0>"

    def synchronize(self) -> None:
        pass


class FakeGpuArray(np.ndarray):
    """A NumPy array that says it lives on GPU 0."""

    @property
    def device(self) -> Any:  # type: ignore[override]
        return _Dev()

    def get(self) -> np.ndarray:
        return np.array(self, copy=True).view(np.ndarray)


def _gpu(x: Any) -> Any:
    if isinstance(x, np.ndarray) and not isinstance(x, FakeGpuArray):
        return x.view(FakeGpuArray)
    if isinstance(x, tuple):
        return tuple(_gpu(v) for v in x)
    if isinstance(x, list):
        return [_gpu(v) for v in x]
    return x


def _wrap(fn: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return _gpu(fn(*args, **kwargs))

    return call


class _Device:
    def __init__(self, index: int = 0) -> None:
        self.id = index

    def __enter__(self) -> _Device:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def synchronize(self) -> None:
        pass


class _RandomState:
    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def random_sample(self, size: Any = None, dtype: Any = np.float64) -> Any:
        return _gpu(self._rng.random(size, dtype=dtype))


class _ElementwiseKernel:
    """Runs a CuPy ``ElementwiseKernel`` body (the simple C subset gradlab's kernels use) with NumPy, so that the
    fused GPU kernels are checked against the NumPy code paths on the CPU."""

    def __init__(self, in_params: str, out_params: str, operation: str, name: str) -> None:
        self.ins = [p.split()[-1] for p in in_params.split(",")]
        self.outs = [p.split()[-1] for p in out_params.split(",")]
        lines = []
        for stmt in operation.split(";"):
            stmt = " ".join(stmt.split())
            if not stmt:
                continue
            stmt = re.sub(r"^T ", "", stmt).replace("(T)", "")
            stmt = re.sub(r"\b(tanh|sqrt|exp|log)\(", r"np.\1(", stmt)
            target, _, expr = stmt.partition(" = ")
            lines.append(f"{target}[...] = {expr}" if target in self.outs else f"{target} = {expr}")
        self.code = compile("\n".join(lines), name, "exec")

    def __call__(self, *args: Any) -> None:
        env: dict[str, Any] = {"np": np}
        env.update(zip(self.ins + self.outs, args))
        exec(self.code, env)


class _FakeCupy(types.ModuleType):
    ndarray = FakeGpuArray
    ElementwiseKernel = _ElementwiseKernel

    def __init__(self) -> None:
        super().__init__("fake_cupy")
        runtime = types.SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0)
        self.cuda = types.SimpleNamespace(runtime=runtime, Device=_Device)
        self.random = types.SimpleNamespace(RandomState=_RandomState)

    def asarray(self, a: Any, dtype: Any = None, order: Any = None) -> Any:
        if isinstance(a, FakeGpuArray) and (dtype is None or np.dtype(dtype) == a.dtype):
            return a
        return np.array(np.asarray(a), dtype=dtype, copy=True).view(FakeGpuArray)

    def __getattr__(self, name: str) -> Any:
        obj = getattr(np, name)
        if isinstance(obj, (type, np.ufunc, types.ModuleType)) or not callable(obj):
            return obj
        return _wrap(obj)


@contextlib.contextmanager
def fake_gpu() -> Iterator[Any]:
    """Make gradlab see one fake GPU for the duration (restores everything afterwards)."""
    from scipy import special

    from gradlab import backend, devices

    fake = _FakeCupy()
    cupyx = types.ModuleType("cupyx")
    cupyx_scipy = types.ModuleType("cupyx.scipy")
    cupyx_special = types.ModuleType("cupyx.scipy.special")
    cupyx_special.erf = special.erf  # type: ignore[attr-defined]
    saved_modules = {k: sys.modules.get(k) for k in ("cupyx", "cupyx.scipy", "cupyx.scipy.special")}
    sys.modules.update({"cupyx": cupyx, "cupyx.scipy": cupyx_scipy, "cupyx.scipy.special": cupyx_special})
    saved_cp = backend._cp
    backend._cp = fake
    backend.default_generator._cupy_rng = None
    devices._cuda_devices.clear()
    try:
        yield fake
    finally:
        backend._cp = saved_cp
        backend.default_generator._cupy_rng = None
        devices._cuda_devices.clear()
        devices._default[0] = devices.CPU
        for k, v in saved_modules.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
