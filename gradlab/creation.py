"""Tensor factories (``tensor``, ``zeros``, ``randn``, ...) with PyTorch signatures, ``device=`` included.

``device=None`` means the default device (``gradlab.set_default_device``; the CPU unless changed), and for the
``*_like`` factories the device of the given tensor. Random factories draw on the CPU from gradlab's generator and
copy to the GPU, so a seeded model starts with the same weights on every device.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend, devices
from gradlab.tensor import Tensor, as_array

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "eye", "arange", "linspace", "randn",
    "rand", "randint", "randperm", "normal", "zeros_like", "ones_like", "full_like", "empty_like", "randn_like",
    "rand_like", "randint_like",
]


def _size(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(int(s) for s in size)


def _float_dtype(dtype: Any) -> np.dtype:
    return backend.get_default_dtype() if dtype is None else np.dtype(dtype)


def _filled(fn: str, device: Any, *args: Any, **kwargs: Any) -> Any:
    """``numpy.<fn>(*args, **kwargs)``, or the same made directly on the GPU of ``device``."""
    d = devices.as_device(device)
    if d.type == "cpu":
        return getattr(np, fn)(*args, **kwargs)
    cp = backend.cupy_module()
    with cp.cuda.Device(0 if d.index is None else d.index):
        return getattr(cp, fn)(*args, **kwargs)


def _drawn(arr: np.ndarray, device: Any) -> Any:
    """A host array (drawn from gradlab's generator) on ``device``: random factories draw on the CPU and copy."""
    d = devices.as_device(device)
    return arr if d.type == "cpu" else devices.to_device(arr, d)


def _out(arr: Any, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr, False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become float32, float64 arrays stay float64).

    >>> tensor([1.0, 2.0]).dtype
    dtype('float32')
    """
    if device is None and not isinstance(data, Tensor) and not type(data).__module__.startswith("cupy"):
        device = devices.get_default_device()
    return _out(as_array(data, dtype, device=device), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when no conversion (nor move) is needed.

    >>> as_tensor([1, 2], device="cpu").tolist()
    [1, 2]
    """
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data if device is None else data.to(device)
    return Tensor._make(as_array(data, dtype, copy=False, device=device), False)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``arr``.

    >>> a = np.zeros(3)
    >>> t = from_numpy(a)
    >>> a[0] = 5.0
    >>> t.tolist(), t.dtype  # shares memory, keeps the dtype
    ([5.0, 0.0, 0.0], dtype('float64'))
    """
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    return Tensor._make(as_array(arr, copy=False), False)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros of shape ``size`` (float32 unless ``dtype`` says otherwise).

    >>> zeros(2, 3).shape, zeros((2, 3)).dtype, zeros(2, dtype=np.int64).tolist()
    (gradlab.Size([2, 3]), dtype('float32'), [0, 0])
    """
    return _out(_filled("zeros", device, _size(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones of shape ``size``.

    >>> ones(2, requires_grad=True)
    tensor([1., 1.], requires_grad=True)
    """
    return _out(_filled("ones", device, _size(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """An uninitialised tensor of shape ``size`` (its values are whatever the memory held).

    >>> empty(2, 3).shape, empty(1, dtype=np.float64).dtype
    (gradlab.Size([2, 3]), dtype('float64'))
    """
    return _out(_filled("empty", device, _size(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (int64 for an int, bool for a bool, else float).

    >>> full((2,), 7), full(2, 0.5), full(1, True)
    (tensor([7, 7]), tensor([0.5, 0.5]), tensor([ True]))
    """
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else None
    shape = tuple(size) if not isinstance(size, int) else (size,)
    return _out(_filled("full", device, shape, fill_value, dtype=_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """The ``n x m`` identity matrix (square when ``m`` is None).

    >>> eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    >>> eye(2, 3).shape
    gradlab.Size([2, 3])
    """
    return _out(_filled("eye", device, n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, requires_grad: bool = False,
           device: Any = None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); int64 for integer arguments, else float32.

    >>> arange(4), arange(1, 2, 0.25)
    (tensor([0, 1, 2, 3]), tensor([1.  , 1.25, 1.5 , 1.75]))
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = np.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else None
    return _out(_drawn(np.arange(start, end, step, dtype=_float_dtype(dtype)), device), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False,
             device: Any = None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included.

    >>> linspace(0, 1, 5)
    tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    return _out(_drawn(np.linspace(start, end, steps, dtype=np.float64).astype(_float_dtype(dtype)), device),
                requires_grad)


def randn(
    *size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Standard normal samples from ``generator`` (or the default generator, see ``manual_seed``).

    >>> a = randn(2, 3, generator=backend.Generator(0))
    >>> b = randn(2, 3, generator=backend.Generator(0))
    >>> a.shape, a.dtype, bool((a == b).all())
    (gradlab.Size([2, 3]), dtype('float32'), True)
    """
    d = _float_dtype(dtype)
    return _out(_drawn(backend.rng(generator).standard_normal(_size(size), dtype=d if d != np.float16 else np.float32)
                       .astype(d, copy=False), device), requires_grad)


def rand(
    *size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Uniform samples in [0, 1).

    >>> x = rand(1000, generator=backend.Generator(0))
    >>> bool((x >= 0).all() and (x < 1).all()), x.dtype
    (True, dtype('float32'))
    """
    d = _float_dtype(dtype)
    return _out(_drawn(backend.rng(generator).random(_size(size), dtype=d if d != np.float16 else np.float32)
                       .astype(d, copy=False), device), requires_grad)


def normal(mean: float, std: float, size: Any, generator: Any = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Samples of a normal distribution with ``mean`` and ``std``, of shape ``size``.

    >>> x = normal(10.0, 0.5, (10000,), generator=backend.Generator(0))
    >>> x.shape, round(x.mean().item()), round(x.std().item(), 1)
    (gradlab.Size([10000]), 10, 0.5)
    """
    return _out(_drawn(backend.rng(generator).normal(mean, std, tuple(size)).astype(_float_dtype(dtype)), device),
                False)


def randint(*args: Any, size: Any = None, low: Any = None, high: Any = None, generator: Any = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high), as torch: ``randint(high, size)``, ``randint(low, high, size)``,
    with any of ``low=``, ``high=``, ``size=`` as keywords.

    >>> import gradlab
    >>> x = gradlab.randint(3, size=(4,))
    >>> x.shape, bool(((x >= 0) & (x < 3)).all()), gradlab.randint(5, 7, (2, 2)).dtype
    (gradlab.Size([4]), True, dtype('int64'))
    """
    pos = list(args)
    if size is None and pos and isinstance(pos[-1], (tuple, list)):
        size = pos.pop()
    if len(pos) > 2:
        raise TypeError(f"randint() takes (high, size) or (low, high, size); got {len(args)} positional values")
    if len(pos) == 2:
        if low is not None or high is not None:
            raise TypeError("randint() got low/high both positionally and as keywords")
        low, high = pos
    elif len(pos) == 1:
        if high is None:
            high = pos[0]
        elif low is None:
            low = pos[0]
        else:
            raise TypeError("randint() got low/high both positionally and as keywords")
    if high is None:
        raise TypeError("randint() missing the 'high' argument")
    if size is None:
        raise TypeError("randint() missing the 'size' argument (a tuple of ints)")
    low = 0 if low is None else low
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): size must be a tuple of ints, not {type(size).__name__}")
    if high <= low:
        raise ValueError(f"randint(): expected low < high, got low={low}, high={high}")
    arr = backend.rng(generator).integers(low, high, size=tuple(size)).astype(dtype or np.int64)
    return _out(_drawn(arr, device), requires_grad)


def randperm(n: int, generator: Any = None, dtype: Any = None, device: Any = None) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64).

    >>> sorted(randperm(5, generator=backend.Generator(0)).tolist())
    [0, 1, 2, 3, 4]
    """
    return _out(_drawn(backend.rng(generator).permutation(n).astype(dtype or np.int64), device), False)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Zeros with the shape, dtype and device of ``t`` (unless given).

    >>> zeros_like(tensor([[1, 2]]))
    tensor([[0, 0]])
    """
    return _out(_filled("zeros", _like_device(t, device), t.shape, dtype=dtype or t.dtype), requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Ones with the shape, dtype and device of ``t`` (unless given).

    >>> ones_like(tensor([1.0, 2.0]), dtype=np.int64)
    tensor([1, 1])
    """
    return _out(_filled("ones", _like_device(t, device), t.shape, dtype=dtype or t.dtype), requires_grad)


def empty_like(t: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """An uninitialised tensor with the shape, dtype and device of ``t``.

    >>> empty_like(ones(2, 3, dtype=np.float64)).shape, empty_like(ones(2, dtype=np.float64)).dtype
    (gradlab.Size([2, 3]), dtype('float64'))
    """
    return _out(_filled("empty", _like_device(t, device), t.shape, dtype=dtype or t.dtype), requires_grad)


def full_like(t: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """``fill_value`` everywhere, with the shape, dtype and device of ``t``.

    >>> full_like(tensor([1.0, 2.0]), 3)
    tensor([3., 3.])
    """
    return _out(_filled("full", _like_device(t, device), t.shape, fill_value, dtype=dtype or t.dtype), requires_grad)


def randn_like(t: Any, dtype: Any = None, generator: Any = None, requires_grad: bool = False,
               device: Any = None) -> Tensor:
    """Standard normal samples with the shape and dtype of ``t``.

    >>> randn_like(zeros(4, dtype=np.float64), generator=backend.Generator(0)).dtype
    dtype('float64')
    """
    return randn(*t.shape, dtype=dtype or t.dtype, generator=generator, requires_grad=requires_grad,
                 device=_like_device(t, device))


def rand_like(t: Any, dtype: Any = None, generator: Any = None, requires_grad: bool = False,
              device: Any = None) -> Tensor:
    """Uniform samples in [0, 1) with the shape and dtype of ``t``.

    >>> rand_like(zeros(2, 2), generator=backend.Generator(0)).shape
    gradlab.Size([2, 2])
    """
    return rand(*t.shape, dtype=dtype or t.dtype, generator=generator, requires_grad=requires_grad,
                device=_like_device(t, device))


def randint_like(t: Any, low: int, high: Any = None, dtype: Any = None, generator: Any = None,
                 device: Any = None) -> Tensor:
    """Integers in [low, high) with the shape of ``t`` (``randint_like(t, high)`` as PyTorch).

    >>> x = randint_like(zeros(50, dtype=np.int64), 2, generator=backend.Generator(0))
    >>> sorted(set(x.tolist())), x.dtype
    ([0, 1], dtype('int64'))
    """
    if high is None:
        low, high = 0, low
    return randint(low, high, t.shape, generator=generator, dtype=dtype or t.dtype, device=_like_device(t, device))


def _like_device(t: Any, device: Any) -> Any:
    """``device``, else the device of ``t`` (a Tensor), else the default device."""
    if device is not None:
        return device
    return t.device if isinstance(t, Tensor) else None
