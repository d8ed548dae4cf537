"""Shape ops: views, indexing (scatter-add backward), concatenation, padding."""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.autograd.function import Context, Function
from gradlab.backend import add_at, get_array_module
from gradlab.ops.scatter import Gather  # re-exported: gather lives with the scatter ops

__all__ = [
    "Reshape", "Permute", "Unsqueeze", "Squeeze", "Expand", "Repeat", "GetItem", "IndexPut", "Cat", "Stack", "Pad",
    "Gather", "normalize_index", "index_put", "cat", "stack", "split", "chunk", "pad",
]


class Reshape(Function):
    """``x`` viewed with a new shape of the same size (a RuntimeError names both shapes otherwise).

    >>> Reshape.apply(np.arange(6.0), (2, 3)).shape
    gradlab.Size([2, 3])
    """
    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple) -> Any:
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"shape {tuple(shape)} is invalid for input of shape {x.shape} ({x.size} elements)"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad.reshape(ctx.in_shape), None


class Permute(Function):
    """``x`` with its dimensions reordered as ``dims``; backward applies the inverse permutation.

    >>> Permute.apply(np.zeros((2, 3, 4)), (2, 0, 1)).shape
    gradlab.Size([4, 2, 3])
    """
    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, dims: tuple) -> Any:
        if len(dims) != x.ndim:
            raise RuntimeError(f"permute: number of dims {len(dims)} doesn't match the tensor's {x.ndim} dims")
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad.transpose(tuple(int(i) for i in np.argsort(ctx.dims))), None


class Unsqueeze(Function):
    """``x`` with a new dimension of size 1 inserted at ``dim``.

    >>> Unsqueeze.apply(np.zeros((2, 3)), 1).shape
    gradlab.Size([2, 1, 3])
    """
    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int) -> Any:
        xp = get_array_module(x)
        d = dim if dim >= 0 else dim + x.ndim + 1
        if not 0 <= d <= x.ndim:
            raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor with {x.ndim} dims")
        ctx.d = d
        return xp.expand_dims(x, d)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        return xp.squeeze(grad, ctx.d), None


class Squeeze(Function):
    """``x`` without its size-1 dimensions (only ``dim`` when given).

    >>> Squeeze.apply(np.zeros((2, 1, 3, 1)), None).shape, Squeeze.apply(np.zeros((2, 1, 3, 1)), 1).shape
    (gradlab.Size([2, 3]), gradlab.Size([2, 3, 1]))
    """
    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, dim: Any = None) -> Any:
        xp = get_array_module(x)
        ctx.in_shape = x.shape
        if dim is None:
            return x.reshape(tuple(s for s in x.shape if s != 1))
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = tuple(d % x.ndim for d in dims if x.ndim and x.shape[d] == 1)
        return xp.squeeze(x, axes) if axes else x

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad.reshape(ctx.in_shape), None


class Expand(Function):
    """``x`` broadcast (as a view) to ``sizes``; ``-1`` keeps a size; backward sums the copies.

    >>> Expand.apply(np.zeros((3, 1)), (2, 3, -1)).shape
    gradlab.Size([2, 3, 1])
    """
    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, sizes: tuple) -> Any:
        xp = get_array_module(x)
        lead = len(sizes) - x.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes {len(sizes)} is less than the tensor's dims {x.ndim}")
        shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        ctx.in_shape = x.shape
        try:
            return xp.broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(f"expand: cannot expand shape {x.shape} to {shape}") from None

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        from gradlab.ops.elementwise import unbroadcast

        return unbroadcast(grad, ctx.in_shape), None


class Repeat(Function):
    """``x`` tiled ``reps`` times along each dimension (as ``torch.Tensor.repeat``).

    >>> Repeat.apply(np.array([1.0, 2.0]), (2, 2)).tolist()
    [[1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0]]
    """
    @staticmethod
    def forward(ctx: Context, x: Any, reps: tuple) -> Any:
        xp = get_array_module(x)
        xs = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
        ctx.meta = (x.shape, xs.shape, reps)
        return xp.tile(xs, reps)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        in_shape, xs_shape, reps = ctx.meta
        split = []
        for r, s in zip(reps, xs_shape):
            split += [r, s]
        g = grad.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2)))
        return g.reshape(in_shape), None


def normalize_index(index: Any) -> Any:
    """Turn Tensors inside an index into arrays (so the index can be stored and reused).

    >>> import gradlab
    >>> normalize_index((gradlab.tensor([0, 2]), slice(None)))
    (array([0, 2]), slice(None, None, None))
    """
    from gradlab.tensor import Tensor

    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _index_on(xp: Any, index: Any) -> Any:
    """``index`` with its arrays (and lists) on the device of ``xp`` (host index arrays are copied to a GPU)."""
    if xp is np:
        return index
    if isinstance(index, tuple):
        return tuple(_index_on(xp, i) for i in index)
    if isinstance(index, (np.ndarray, list)):
        return xp.asarray(index)
    return index


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in items)


class GetItem(Function):
    """``x[index]``; backward scatters (adds, for repeated indices) the gradient into zeros.

    >>> GetItem.apply(np.arange(6.0).reshape(2, 3), (slice(None), 1)).tolist()
    [1.0, 4.0]
    """
    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any) -> Any:
        xp = get_array_module(x)
        index = _index_on(xp, index)
        ctx.meta = (x.shape, x.dtype, index)
        try:
            out = x[index]
        except IndexError as e:
            raise IndexError(f"{e} (indexing a tensor of shape {x.shape})") from None
        return xp.asarray(out)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        shape, dtype, index = ctx.meta
        if isinstance(index, slice) and index.step in (None, 1) and shape:
            # a block of the leading axis: zero only the rest (no full memset before the copy)
            start, stop, _ = index.indices(shape[0])
            stop = max(start, stop)
            out = xp.empty(shape, dtype=grad.dtype)
            out[:start] = 0
            out[stop:] = 0
            out[start:stop] = grad
            return out, None
        out = xp.zeros(shape, dtype=grad.dtype)
        if _is_basic(index):
            out[index] = grad
        else:
            add_at(xp, out, index, grad)
        return out, None


class IndexPut(Function):
    """``x[index] = value`` as a new tensor (used by ``__setitem__`` in the graph).

    >>> IndexPut.apply(np.zeros(3), 1, np.array(5.0)).tolist()
    [0.0, 5.0, 0.0]
    """

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any, value: Any) -> Any:
        index = _index_on(get_array_module(x), index)
        out = x.copy()
        out[index] = value
        ctx.meta = (index, getattr(value, "shape", ()))
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        from gradlab.ops.elementwise import unbroadcast

        index, vshape = ctx.meta
        gx = grad.copy()
        gx[index] = 0
        gv = unbroadcast(xp.asarray(grad[index]), vshape) if ctx.needs_input_grad[2] else None
        return gx, None, gv


def index_put(x: Any, index: Any, value: Any) -> Any:
    """``x`` with ``x[index] = value`` as a new tensor in the graph (``index`` may hold tensors).

    >>> import gradlab
    >>> index_put(gradlab.zeros(3), gradlab.tensor([0, 2]), 1.0)
    tensor([1., 0., 1.])
    """
    return IndexPut.apply(x, normalize_index(index), value)


class Cat(Function):
    """The arrays after ``dim`` joined along ``dim``; the sizes must match in every other dimension.

    >>> Cat.apply(0, np.ones((1, 2)), np.zeros((2, 2))).shape
    gradlab.Size([3, 2])
    """
    @staticmethod
    def forward(ctx: Context, dim: int, *xs: Any) -> Any:
        if not xs:
            raise RuntimeError("cat(): expected a non-empty list of Tensors")
        nd = xs[0].ndim
        d = dim % nd if nd else 0
        for i, x in enumerate(xs):
            if x.ndim != nd or x.shape[:d] + x.shape[d + 1 :] != xs[0].shape[:d] + xs[0].shape[d + 1 :]:
                raise ValueError(
                    f"cat(): sizes of tensors must match except in dimension {dim}: tensor 0 has shape "
                    f"{xs[0].shape} and tensor {i} has shape {x.shape}"
                )
        ctx.meta = (d, [x.shape[d] for x in xs])
        return get_array_module(xs[0]).concatenate(xs, axis=d)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        d, sizes = ctx.meta
        cuts = np.cumsum(sizes)[:-1].tolist()
        return (None, *xp.split(grad, cuts, axis=d))


class Stack(Function):
    """Arrays of equal shape stacked along a new dimension ``dim``.

    >>> Stack.apply(1, np.ones(3), np.zeros(3)).shape
    gradlab.Size([3, 2])
    """
    @staticmethod
    def forward(ctx: Context, dim: int, *xs: Any) -> Any:
        if not xs:
            raise RuntimeError("stack expects a non-empty list of Tensors")
        for i, x in enumerate(xs):
            if x.shape != xs[0].shape:
                raise ValueError(
                    f"stack expects each tensor to be equal size, but got {xs[0].shape} at entry 0 and "
                    f"{x.shape} at entry {i}"
                )
        d = dim if dim >= 0 else dim + xs[0].ndim + 1
        ctx.d = d
        return get_array_module(xs[0]).stack(xs, axis=d)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        return (None, *(xp.take(grad, i, axis=ctx.d) for i in range(grad.shape[ctx.d])))


def _dtype_align(tensors: Any) -> list:
    from gradlab.tensor import Tensor

    tensors = list(tensors)
    first = next((t for t in tensors if isinstance(t, Tensor)), None)
    ts = [t if isinstance(t, Tensor) else Tensor(t, device=first.device if first is not None else None)
          for t in tensors]
    if len({t.dtype for t in ts}) > 1:
        common = ts[0].dtype
        for t in ts[1:]:
            common = np.promote_types(common, t.dtype)
        ts = [t.to(common) for t in ts]
    return ts


def cat(tensors: Any, dim: int = 0) -> Any:
    """Concatenate tensors along an existing dimension.

    >>> import gradlab
    >>> cat([gradlab.ones(2), gradlab.tensor([5], dtype=gradlab.float64)])  # dtypes are promoted
    tensor([1., 1., 5.], dtype=float64)
    """
    return Cat.apply(dim, *_dtype_align(tensors))


def stack(tensors: Any, dim: int = 0) -> Any:
    """Stack tensors of equal shape along a new dimension.

    >>> import gradlab
    >>> stack([gradlab.ones(2), gradlab.zeros(2)], dim=1).shape
    gradlab.Size([2, 2])
    """
    return Stack.apply(dim, *_dtype_align(tensors))


def split(x: Any, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given section sizes.

    >>> import gradlab
    >>> [p.shape for p in split(gradlab.zeros(5, 2), 2)], [p.shape[0] for p in split(gradlab.zeros(5), [1, 4])]
    ([gradlab.Size([2, 2]), gradlab.Size([2, 2]), gradlab.Size([1, 2])], [1, 4])
    """
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (dim {dim}), got {sizes}")
    out = []
    start = 0
    nd = x.ndim
    for s in sizes:
        idx = [slice(None)] * nd
        idx[dim] = slice(start, start + s)
        out.append(x[tuple(idx)])
        start += s
    return tuple(out)


def chunk(x: Any, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of size ceil(n / chunks) (as PyTorch).

    >>> import gradlab
    >>> [p.tolist() for p in chunk(gradlab.arange(5), 2)]
    [[0, 1, 2], [3, 4]]
    """
    n = x.shape[dim]
    size = -(-n // chunks)
    return split(x, max(size, 1), dim)


class Pad(Function):
    """``x`` padded (``constant``, ``reflect``, ``replicate`` or ``circular``) from the last dimension back.

    >>> Pad.apply(np.array([1.0, 2.0]), (1, 2), "replicate").tolist()
    [1.0, 1.0, 2.0, 2.0, 2.0]
    """
    @staticmethod
    def forward(ctx: Context, x: Any, pad: tuple, mode: str = "constant", value: float = 0.0) -> Any:
        xp = get_array_module(x)
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise ValueError(f"pad: padding length {len(pad)} must be even and at most 2 * ndim ({2 * x.ndim})")
        widths = [(0, 0)] * x.ndim
        for i in range(len(pad) // 2):
            widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        ctx.widths = widths
        ctx.shape = x.shape
        if any(a < 0 or b < 0 for a, b in widths):
            raise ValueError("pad: negative padding is not supported")
        if mode == "constant":
            return xp.pad(x, widths, mode="constant", constant_values=value)
        if mode in ("reflect", "replicate", "circular"):
            if mode != "constant":
                ctx.mode = mode
            np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
            return xp.pad(x, widths, mode=np_mode)  # type: ignore[call-overload]
        raise ValueError(f"pad: unknown mode {mode!r}")

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = get_array_module(grad)
        widths, shape = ctx.widths, ctx.shape
        if getattr(ctx, "mode", "constant") == "constant":
            idx = tuple(slice(a, a + s) for (a, _), s in zip(widths, shape))
            return grad[idx], None, None, None
        # non-constant modes: route each output position back to its source with scatter-add
        src = xp.arange(int(np.prod(shape))).reshape(shape)
        np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[ctx.mode]
        where_from = xp.pad(src, widths, mode=np_mode)  # type: ignore[call-overload]
        out = xp.zeros(int(np.prod(shape)), dtype=grad.dtype)
        add_at(xp, out, where_from.ravel(), grad.ravel())
        return out.reshape(shape), None, None, None


def pad(x: Any, pad: Any, mode: str = "constant", value: float = 0.0) -> Any:
    """Pad the last dimensions: ``pad=(left, right, top, bottom, ...)`` from the last dimension backwards.

    >>> import gradlab
    >>> pad(gradlab.ones(1, 2), (1, 0, 0, 1)).tolist()
    [[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    return Pad.apply(x, tuple(int(p) for p in pad), mode, value)
