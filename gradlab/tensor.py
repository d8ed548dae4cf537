"""``Tensor``: an n-dimensional array that records the operations applied to it, for reverse-mode autograd."""
from __future__ import annotations

import builtins
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gradlab import backend, devices
from gradlab.autograd.grad_mode import _enabled
from gradlab.autograd.tensor_convert import TensorConvert
from gradlab.autograd.tensor_extra import TensorExtra
from gradlab.autograd.tensor_fill import TensorFill
from gradlab.autograd.tensor_more import TensorMore
from gradlab.autograd.tensor_rounding import TensorRounding
from gradlab.autograd.tensor_scatter import TensorScatter
from gradlab.size import Size
from gradlab.tensor_math import TensorMath

__all__ = ["Tensor", "as_array", "RemovableHandle"]


def _host(arr: Any) -> np.ndarray:
    """``arr`` as a NumPy array: a GPU array is copied back to the host."""
    cp = backend._cp
    return arr.get() if cp is not None and isinstance(arr, cp.ndarray) else arr


def as_array(data: Any, dtype: Any = None, copy: bool = True, device: Any = None) -> Any:
    """Convert ``data`` to an array with gradlab's dtype rules (Python floats -> default float dtype).

    A CuPy array stays on its GPU; ``device`` (None: where ``data`` is) copies the result there.

    >>> as_array([1.5, 2.0]).dtype, as_array([1, 2]).dtype, as_array(np.zeros(2)).dtype
    (dtype('float32'), dtype('int64'), dtype('float64'))
    """
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray) or isinstance(data, np.generic):
        arr = np.asarray(data)
    elif type(data).__module__.startswith("cupy"):
        arr = data
        backend.cupy_module()  # cupy arrays from outside: make gradlab's ops see them as GPU arrays
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            data = [_host(d._data) if isinstance(d, Tensor) else d for d in data]
        try:
            arr = np.asarray(data)
        except ValueError as e:
            raise ValueError(f"cannot build a tensor from {type(data).__name__}: {e}") from None
        if arr.dtype == np.float64 and dtype is None:
            arr = arr.astype(backend.get_default_dtype())
        elif arr.dtype.kind in "iu" and dtype is None and arr.dtype != np.uint8:
            arr = arr.astype(np.int64)
        copy = False
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in backend.SUPPORTED_DTYPES:
            raise TypeError(f"unsupported dtype {dtype}; supported: {sorted(str(d) for d in backend.SUPPORTED_DTYPES)}")
        if arr.dtype != dtype:
            arr = arr.astype(dtype)
            copy = False
    if arr.dtype not in backend.SUPPORTED_DTYPES:
        raise TypeError(
            f"unsupported dtype {arr.dtype} (from {type(data).__name__}); gradlab tensors hold float16/32/64, "
            f"int8/16/32/64, uint8 or bool"
        )
    if device is not None:
        moved = devices.to_device(arr, device)
        if moved is not arr:
            arr, copy = moved, False
    return arr.copy() if copy else arr


def _is_int(a: Any) -> builtins.bool:
    return isinstance(a, (builtins.int, np.integer)) and not isinstance(a, (builtins.bool, np.bool_))


class RemovableHandle:
    """Returned by ``register_hook``: ``handle.remove()`` unregisters the hook.

    >>> x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> handle = x.register_hook(lambda g: g * 10)
    >>> (x * x).sum().backward()
    >>> handle.remove()
    >>> x.grad.tolist()
    [20.0, 40.0]
    """

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor(TensorConvert, TensorMore, TensorScatter, TensorRounding, TensorMath, TensorExtra, TensorFill):
    """An array with reverse-mode automatic differentiation (PyTorch semantics).

    >>> import gradlab
    >>> x = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad.tolist()
    [2.0, 4.0, 6.0]
    """

    #: ``_data`` is the raw array (a ``numpy.ndarray``, or a CuPy array on a GPU) that every op reads and writes.
    #: It is gradlab's internal slot: the public ``data`` property wraps it in a detached Tensor as torch does, and
    #: ``numpy()`` returns the array itself.
    __slots__ = ("_data", "grad", "requires_grad", "grad_fn", "_vc", "_hooks", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators: `array * tensor` is a Tensor
    __hash__ = object.__hash__

    def __init__(self, *args: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> None:
        """``Tensor(data)`` wraps data (a copy); a Python list or tuple becomes the default float dtype as in torch
        (arrays keep their dtype). The legacy torch form ``Tensor(2, 3)`` (ints, or one ``Size``) is a zero-filled
        tensor of that shape in the default float dtype; ``Tensor()`` is empty."""
        if not args or isinstance(args[0], Size) or all(_is_int(a) for a in args):
            shape = tuple(args[0]) if args and isinstance(args[0], Size) else (args or (0,))
            data = np.zeros(tuple(builtins.int(a) for a in shape), dtype=dtype or backend.get_default_dtype())
        else:
            if len(args) > 4:
                raise TypeError(f"Tensor() takes data and at most dtype, requires_grad, device; got {len(args)} values")
            data = args[0]
            dtype = args[1] if len(args) > 1 else dtype
            requires_grad = args[2] if len(args) > 2 else requires_grad
            device = args[3] if len(args) > 3 else device
            if dtype is None and isinstance(data, (list, tuple)):  # torch.Tensor([1, 2]) is a float tensor
                dtype = backend.get_default_dtype()
        self._data = as_array(data, dtype, device=device)
        self.grad: Tensor | None = None
        self.grad_fn: Any = None
        self._vc = [0]
        self._hooks: list | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an array without checks or copies (internal fast path)."""
        t = object.__new__(cls)
        # a numpy scalar (what a full reduction returns) becomes a 0-d array, so in-place ops can write into it
        t._data = np.asarray(data) if isinstance(data, np.generic) else data
        t.grad = None
        t.grad_fn = None
        t.requires_grad = requires_grad
        t._vc = [0]
        t._hooks = None
        return t

    # ---- properties -------------------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """This tensor's values as a new Tensor that shares its storage but is detached from the graph (as torch).

        In-place changes through it (``p.data.add_(g, alpha=-lr)``, ``p.data += t``, ``p.data.copy_(...)``) write into
        this tensor's memory without being recorded by autograd. Assigning ``t.data = other`` (a Tensor or an array)
        swaps the storage: ``t`` then shares ``other``'s memory. The NumPy array itself is ``t.detach().numpy()``.

        >>> import gradlab
        >>> w = gradlab.tensor([1.0, 2.0], requires_grad=True)
        >>> w.data.add_(gradlab.tensor([1.0, 1.0]), alpha=-0.5).tolist(), w.requires_grad
        ([0.5, 1.5], True)
        >>> w.data = gradlab.zeros(3)
        >>> w.tolist()
        [0.0, 0.0, 0.0]
        """
        return Tensor._make(self._data, False)

    @data.setter
    def data(self, value: Any) -> None:
        arr = value._data if isinstance(value, Tensor) else as_array(value, copy=False)
        if self.requires_grad and arr.dtype.kind != "f":
            raise RuntimeError(
                f"cannot assign data of dtype {arr.dtype} to a tensor that requires grad (it needs a floating dtype)"
            )
        self._data = arr

    @property
    def shape(self) -> Size:
        """The shape, a ``gradlab.Size`` (a tuple)."""
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def device(self) -> devices.device:
        """Where the data lives: ``device(type='cpu')`` or ``device(type='cuda', index=N)`` (a CuPy array)."""
        return devices.device_of(self._data)

    @property
    def is_cuda(self) -> builtins.bool:
        """True when the tensor lives on a GPU."""
        cp = backend._cp
        return cp is not None and isinstance(self._data, cp.ndarray)

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None) -> Any:
        """The shape as a ``gradlab.Size``, or the length of dimension ``dim``."""
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # ---- conversion ---------------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array: shares memory on the CPU, a copy for a tensor on a GPU."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return _host(self._data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = np.asarray(_host(self._data))  # a 0-d result may be held as a numpy scalar
        return arr if dtype is None else arr.astype(dtype)

    def item(self) -> Any:
        if self._data.size != 1:
            raise ValueError(f"a Tensor with {self._data.size} elements cannot be converted to a Python scalar")
        return self._data.item()

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its Python number (``f"{loss:.2f}"``); others only with an empty spec (as torch)."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def tolist(self) -> Any:
        return self._data.tolist()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is ambiguous")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data)

    def __repr__(self) -> str:
        body = np.array2string(_host(self._data), separator=", ", prefix="tensor(", precision=4)
        extra = f", device='{self.device}'" if self.is_cuda else ""
        if self._data.dtype not in (backend.get_default_dtype(), np.dtype(np.int64), np.dtype(np.bool_)):
            extra += f", dtype={self._data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- autograd API ------------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (this one is {self._data.dtype})"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        from gradlab.autograd.engine import backward

        backward(self, gradient, retain_graph)

    def detach(self) -> Tensor:
        t = Tensor._make(self._data, False)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def register_hook(self, hook: Callable[[Tensor], Any]) -> RemovableHandle:
        """Call ``hook(grad)`` when the gradient of this tensor is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = []
            hooks = self.grad_fn.hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep the gradient of a non-leaf tensor in ``.grad`` after backward."""
        if self.grad_fn is None:
            return
        ref = weakref.ref(self)

        def keep(g: Tensor) -> None:
            t = ref()
            if t is not None:
                if t.grad is None:
                    t.grad = Tensor._make(g._data.copy(), False)
                else:
                    t.grad._data = t.grad._data + g._data

        self.register_hook(keep)

    # ---- in-place updates (bump the version counter) -----------------------------------------------------
    def _check_inplace(self) -> None:
        if _enabled[0] and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation; wrap it in "
                "gradlab.no_grad() or use .data"
            )

    def _set_inplace(self, result: Tensor) -> Tensor:
        """Write ``result`` into this tensor's memory and take over its history."""
        self._check_inplace()
        if result._data.shape != self._data.shape:
            raise RuntimeError(
                f"output with shape {self._data.shape} doesn't match the broadcast shape {result._data.shape}"
            )
        self._data[...] = result._data
        self._vc[0] += 1
        if result.grad_fn is not None:
            self.grad_fn = result.grad_fn
            self.requires_grad = True
        return self

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        return self._set_inplace(self + (other * alpha if alpha != 1 else other))

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        return self._set_inplace(self - (other * alpha if alpha != 1 else other))

    def mul_(self, other: Any) -> Tensor:
        return self._set_inplace(self * other)

    def div_(self, other: Any, *, rounding_mode: Any = None) -> Tensor:
        return self._set_inplace(self.div(other, rounding_mode=rounding_mode))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        return self._set_inplace(self.clamp(min, max))

    def copy_(self, src: Any) -> Tensor:
        src_t = src if isinstance(src, Tensor) else Tensor(src)
        src_t = src_t.to(self.device, self.dtype)
        return self._set_inplace(src_t.expand(*self.shape) if src_t.shape != self.shape else src_t)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        self._check_inplace()
        self._data[...] = value
        self._vc[0] += 1
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        self._check_inplace()
        self._data[...] = devices.to_device(backend.rng(generator).normal(mean, std, self._data.shape), self.device)
        self._vc[0] += 1
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        self._check_inplace()
        self._data[...] = devices.to_device(backend.rng(generator).uniform(a, b, self._data.shape), self.device)
        self._vc[0] += 1
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace()
        if isinstance(value, Tensor) and (value.requires_grad or self.requires_grad) and _enabled[0]:
            from gradlab.ops.shape import index_put

            self._set_inplace(index_put(self, index, value))
            return
        idx = index._data if isinstance(index, Tensor) else index
        if isinstance(idx, tuple):
            idx = tuple(i._data if isinstance(i, Tensor) else i for i in idx)
        val = value._data if isinstance(value, Tensor) else value
        if self.is_cuda:  # host index arrays and values go to the GPU
            from gradlab.ops.shape import _index_on

            xp = backend._cp
            idx = _index_on(xp, idx)
            val = xp.asarray(val) if isinstance(val, (np.ndarray, list)) else val
        self._data[idx] = val
        self._vc[0] += 1

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)


def _register() -> None:
    from gradlab.autograd import function

    function.Tensor = Tensor


_register()
