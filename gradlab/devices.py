"""Devices: ``gradlab.device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``), the default device, moving arrays between them.

A tensor's device is where its array lives: a NumPy array is on the CPU, a CuPy array on the GPU it was made on.
Moving an array copies it (``to_device``); CuPy is imported only when a CUDA device is first asked for.
"""
from __future__ import annotations

from typing import Any

import numpy as np  # noqa: F401  (the doctests use it)

from gradlab import backend

__all__ = [
    "device", "as_device", "device_of", "to_device", "needs_move", "is_device_like", "get_default_device",
    "set_default_device", "CPU",
]


class device:  # noqa: N801  (torch.device)
    """Where a tensor lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda:0")``, ``device("cuda", 1)``.

    Compares equal to its string form, as torch's does (``t.device == "cpu"``).

    >>> device("cuda:1")
    device(type='cuda', index=1)
    >>> str(device("cpu")), device("cpu") == "cpu"
    ('cpu', True)
    """

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002  (torch's argument name)
        spec: Any = type
        if isinstance(spec, device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise TypeError(f"device() expects a string such as 'cpu' or 'cuda:0', got {spec!r}")
        name = spec.strip().lower()
        if ":" in name:
            if index is not None:
                raise ValueError(f"device string {spec!r} already has an index; don't pass index={index} too")
            name, _, idx = name.partition(":")
            if not idx.isdigit():
                raise ValueError(f"invalid device string {spec!r}: the index after ':' must be a number")
            index = int(idx)
        if name not in ("cpu", "cuda"):
            raise ValueError(f"unknown device type {spec!r}: gradlab runs on 'cpu' and 'cuda' (CuPy)")
        if index is not None:
            index = int(index)
            if index < 0:
                raise ValueError(f"device index must be >= 0, got {index}")
            if name == "cpu" and index != 0:
                raise ValueError(f"the cpu device has index 0 only, got {index}")
        self.type = name
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")
_default = [CPU]
_cuda_devices: dict[int, device] = {}


def as_device(d: Any) -> device:
    """``d`` (a string, a ``device``, an int meaning a CUDA index, or None for the default) as a ``device``.

    >>> as_device("cpu") is CPU
    True
    """
    if d is None:
        return _default[0]
    if isinstance(d, device):
        return d
    if isinstance(d, str) and d == "cpu":
        return CPU
    if isinstance(d, int) and not isinstance(d, bool):
        return device("cuda", d)
    return device(d)


def device_of(arr: Any) -> device:
    """The device an array lives on (``cuda:N`` for a CuPy array on GPU N).

    >>> device_of(np.zeros(2))
    device(type='cpu')
    """
    cp = backend.cupy_if_loaded()
    if cp is None or not isinstance(arr, cp.ndarray):
        return CPU
    i = arr.device.id
    d = _cuda_devices.get(i)
    if d is None:
        d = _cuda_devices[i] = device("cuda", i)
    return d


def to_device(arr: Any, d: Any) -> Any:
    """``arr`` on device ``d``: itself if it is already there, else a copy (host <-> GPU, or GPU <-> GPU).

    >>> a = np.ones(2)
    >>> to_device(a, "cpu") is a
    True
    """
    d = as_device(d)
    cp = backend.cupy_if_loaded()
    on_gpu = cp is not None and isinstance(arr, cp.ndarray)
    if d.type == "cpu":
        return arr.get() if on_gpu else arr
    cp = backend.cupy_module()
    index = 0 if d.index is None else d.index
    if index >= cp.cuda.runtime.getDeviceCount():
        raise RuntimeError(f"device {d} does not exist: CuPy sees {cp.cuda.runtime.getDeviceCount()} CUDA device(s)")
    if on_gpu and arr.device.id == index:
        return arr
    with cp.cuda.Device(index):
        return cp.asarray(arr)


def needs_move(arr: Any, d: device) -> bool:
    """Whether ``arr`` must be copied to be on ``d`` (``cuda`` without an index means the current GPU).

    >>> needs_move(np.zeros(1), CPU)
    False
    """
    cp = backend.cupy_if_loaded()
    on_gpu = cp is not None and isinstance(arr, cp.ndarray)
    if d.type == "cpu":
        return on_gpu
    if not on_gpu:
        return True
    want = d.index if d.index is not None else cp.cuda.runtime.getDevice()
    return bool(arr.device.id != want)


def is_device_like(x: Any) -> bool:
    """True for what ``Tensor.to`` reads as a device: a ``device``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, an int.

    >>> is_device_like("cuda:0"), is_device_like("float32")
    (True, False)
    """
    if isinstance(x, device):
        return True
    if isinstance(x, str):
        return x.strip().lower().partition(":")[0] in ("cpu", "cuda")
    return isinstance(x, int) and not isinstance(x, bool)


def get_default_device() -> device:
    """The device factories use when no ``device=`` is given (``cpu`` unless changed).

    >>> get_default_device()
    device(type='cpu')
    """
    return _default[0]


def set_default_device(d: Any) -> None:
    """Make ``d`` the device of new tensors from factories (``gradlab.zeros``, ``randn``...), as torch's.

    ``None`` goes back to the CPU (torch: "no default device").

    >>> set_default_device("cpu")
    >>> set_default_device(None)
    """
    d = as_device("cpu" if d is None else d)
    if d.type == "cuda":
        backend.cupy_module()  # fail now, with the install hint, rather than at the first factory call
    _default[0] = d

