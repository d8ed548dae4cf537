"""The array backend: the array module (NumPy; CuPy for ``device="cuda"``), the dtype defaults, the random generator.

Every op takes its array module from its inputs with :func:`get_array_module` (NumPy unless the array is a CuPy
array), so the same op code runs on both. CuPy is imported only when a CUDA device is first asked for
(:func:`cupy_module`), never when gradlab is imported. ``xp`` stays as the CPU module for code that only ever
handles host arrays.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "xp",
    "get_array_module",
    "add_at",
    "cupy_module",
    "cupy_if_loaded",
    "float32",
    "float64",
    "int64",
    "bool_",
    "get_default_dtype",
    "set_default_dtype",
    "Generator",
    "default_generator",
    "manual_seed",
    "rng",
    "rng_for",
    "SUPPORTED_DTYPES",
    "is_floating",
]

xp = np

# The cupy module once a CUDA device has been used (None until then: the CPU path never imports cupy).
_cp: Any = None
_CUDA_HELP = "install CuPy for your CUDA version: pip install gradlab[cuda] (or cupy-cuda12x / cupy-cuda13x)"


def get_array_module(arr: Any) -> Any:
    """The array module of ``arr``: ``cupy`` for a CuPy array, else ``numpy`` (cheap: one check on the CPU path).

    >>> get_array_module(np.zeros(2)).__name__
    'numpy'
    """
    if _cp is not None and isinstance(arr, _cp.ndarray):
        return _cp
    return np


def add_at(xp_module: Any, out: Any, index: Any, values: Any) -> None:
    """Unbuffered ``out[index] += values`` (repeated indices add up): ``np.add.at``, or CuPy's scatter-add.

    >>> a = np.zeros(3)
    >>> add_at(np, a, np.array([0, 0, 2]), 1.0)
    >>> a.tolist()
    [2.0, 0.0, 1.0]
    """
    if xp_module is np:
        np.add.at(out, index, values)
    elif hasattr(xp_module.add, "at"):
        xp_module.add.at(out, index, values)
    else:  # older CuPy
        import cupyx

        cupyx.scatter_add(out, index, values)


def cupy_if_loaded() -> Any:
    """The cupy module if a CUDA device has been used in this process, else None (never imports it).

    >>> cupy_if_loaded() is None or cupy_if_loaded().__name__ == "cupy"
    True
    """
    return _cp


def cupy_module() -> Any:
    """Import CuPy for a CUDA device, with a clear error naming what to install or that no GPU was found.

    >>> try:
    ...     cupy_module()
    ... except RuntimeError as e:
    ...     print("cuda" in str(e).lower())
    ... else:
    ...     print(True)
    True
    """
    global _cp
    if _cp is not None:
        return _cp
    try:
        import cupy
    except ImportError as e:
        raise RuntimeError(f"device 'cuda' needs CuPy, which is not installed ({e}); {_CUDA_HELP}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError (no driver, no device), or a CuPy built for another CUDA
        raise RuntimeError(f"device 'cuda': no usable NVIDIA GPU found by CuPy ({e})") from None
    if count < 1:
        raise RuntimeError("device 'cuda': no NVIDIA GPU found (CuPy sees 0 CUDA devices)")
    _cp = cupy
    return cupy

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

SUPPORTED_DTYPES = frozenset({float16, float32, float64, int8, int16, int32, int64, uint8, bool_})

_default_dtype = [float32]


def get_default_dtype() -> np.dtype:
    """The floating dtype used for Python floats and random factories (float32 unless changed).

    >>> get_default_dtype()
    dtype('float32')
    """
    return _default_dtype[0]


def set_default_dtype(dtype: Any) -> None:
    """Set the default floating dtype (float32 or float64).

    >>> import gradlab
    >>> set_default_dtype(np.float64)
    >>> gradlab.tensor([1.5]).dtype
    dtype('float64')
    >>> set_default_dtype("float32")  # back to the default
    >>> set_default_dtype(np.int64)
    Traceback (most recent call last):
        ...
    TypeError: default dtype must be float32 or float64, got int64
    """
    d = np.dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(f"default dtype must be float32 or float64, got {d}")
    _default_dtype[0] = d


def is_floating(dtype: Any) -> bool:
    """Whether ``dtype`` is a floating-point dtype.

    >>> is_floating(np.float32), is_floating("int64")
    (True, False)
    """
    return np.dtype(dtype).kind == "f"


class Generator:
    """A seeded source of random numbers, like ``torch.Generator``.

    >>> g = Generator().manual_seed(0)
    >>> a = g.numpy_rng.standard_normal(2)
    >>> b = Generator().manual_seed(0).numpy_rng.standard_normal(2)
    >>> bool((a == b).all())
    True
    """

    __slots__ = ("numpy_rng", "_seed", "_cupy_rng")

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self.numpy_rng = np.random.default_rng(seed)
        self._cupy_rng: Any = None

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.numpy_rng = np.random.default_rng(self._seed)
        self._cupy_rng = None
        return self

    def cupy_rng(self) -> Any:
        """A ``cupy.random.RandomState`` for draws on the GPU (dropout masks), seeded from this generator.

        Its seed is drawn from the CPU generator the first time (and again after ``manual_seed``), so a seeded run
        is reproducible on the GPU too; its stream differs from the CPU's. Factories (``randn``, ``rand``...) and
        initialisation draw on the CPU and copy, so weights are identical on both devices.
        """
        if self._cupy_rng is None:
            self._cupy_rng = cupy_module().random.RandomState(int(self.numpy_rng.integers(2**63 - 1)))
        return self._cupy_rng

    def initial_seed(self) -> int | None:
        return self._seed

    def get_state(self) -> dict:
        """The generator state as a JSON-serialisable dict."""
        return dict(self.numpy_rng.bit_generator.state)

    def set_state(self, state: dict) -> None:
        self.numpy_rng.bit_generator.state = state
        self._cupy_rng = None


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (as ``torch.manual_seed``) and return it.

    >>> a = manual_seed(0).numpy_rng.random(2)
    >>> b = manual_seed(0).numpy_rng.random(2)
    >>> bool((a == b).all())
    True
    """
    return default_generator.manual_seed(seed)


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The numpy generator behind ``generator`` (or the default one).

    >>> int(rng(Generator(7)).integers(100)) == int(np.random.default_rng(7).integers(100))
    True
    >>> rng() is default_generator.numpy_rng
    True
    """
    return (generator if generator is not None else default_generator).numpy_rng


def rng_for(xp_module: Any, generator: Generator | None = None) -> Any:
    """The generator to draw arrays of ``xp_module`` from: numpy's, or a ``cupy.random.RandomState`` on the GPU.

    >>> rng_for(np).random(2).shape
    (2,)
    """
    g = generator if generator is not None else default_generator
    return g.numpy_rng if xp_module is np else g.cupy_rng()
