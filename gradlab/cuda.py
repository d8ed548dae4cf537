"""``gradlab.cuda``: asking about NVIDIA GPUs, as ``torch.cuda`` (through CuPy, imported only when asked).

>>> import gradlab
>>> isinstance(gradlab.cuda.is_available(), bool)
True
"""
from __future__ import annotations

from typing import Any

from gradlab import backend

__all__ = ["is_available", "device_count", "current_device", "synchronize", "manual_seed", "manual_seed_all"]


def _cupy_or_none() -> Any:
    try:
        return backend.cupy_module()
    except RuntimeError:
        return None


def is_available() -> bool:
    """True when CuPy is installed and sees at least one NVIDIA GPU (never raises).

    >>> is_available() in (True, False)
    True
    """
    return _cupy_or_none() is not None


def device_count() -> int:
    """How many CUDA devices CuPy sees (0 without CuPy or without a GPU).

    >>> device_count() >= 0
    True
    """
    cp = _cupy_or_none()
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


def current_device() -> int:
    """The index of the current CUDA device (raises, naming what to install, without CuPy or a GPU).

    >>> try:
    ...     current_device() >= 0
    ... except RuntimeError:
    ...     True
    True
    """
    return int(backend.cupy_module().cuda.runtime.getDevice())


def synchronize(device: Any = None) -> None:
    """Wait for every kernel queued on the GPU (for timing); does nothing when CuPy was never used.

    >>> synchronize()
    """
    cp = backend.cupy_if_loaded()
    if cp is not None:
        cp.cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seed gradlab's generator, which also seeds its GPU draws (as ``torch.cuda.manual_seed``).

    >>> manual_seed(0)
    """
    backend.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Same as :func:`manual_seed` (one generator drives every device).

    >>> manual_seed_all(0)
    """
    backend.manual_seed(seed)
