"""Exporters for the shape ops: reshape/view/flatten, permute/transpose, (un)squeeze, expand, repeat, indexing and
slicing, gather, cat/stack and pad. Sizes that change with the dynamic axes (see ``gradlab.onnx.tracer``) become
``0``/``-1`` in reshapes and open ends in slices, so the exported graph takes any batch size.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.onnx._graph import ExportError
from gradlab.ops import shape as S

__all__ = ["shape_exporters"]

_BIG = np.iinfo(np.int64).max


def _hint(c: Any) -> str:
    return f"{c.path}/{c.name}"


def _reshape(tr: Any, c: Any) -> str:
    x = c.args[0]
    out, alt_out = list(c.out.shape), c.alt_out()
    ins, alt_in = c.in_shape(0), c.alt_in(0)
    target = list(out)
    left = []
    for i, (a, b) in enumerate(zip(out, alt_out)):
        if a == b:
            continue
        if i < len(ins) and ins[i] == a and alt_in[i] == b and all(ins[j] == out[j] for j in range(i)):
            target[i] = 0  # copied from the input's same axis
        else:
            left.append(i)
    if len(left) > 1:
        raise ExportError(
            f"reshape to {tuple(out)} in {c.path}: axes {left} all change with the dynamic axes; ONNX can infer only "
            f"one (-1)"
        )
    for i in left:
        target[i] = -1
    return tr.g.node("Reshape", [tr.name(x), tr.g.ints(target)], hint=_hint(c))


def _permute(tr: Any, c: Any) -> str:
    perm = [int(d) % c.args[0].ndim for d in c.args[1]]
    return tr.g.node("Transpose", [tr.name(c.args[0])], hint=_hint(c), perm=perm)


def _unsqueeze(tr: Any, c: Any) -> str:
    return tr.g.node("Unsqueeze", [tr.name(c.args[0]), tr.g.ints([int(c.args[1])], "axes")], hint=_hint(c))


def _squeeze(tr: Any, c: Any) -> str:
    x = c.args[0]
    dim = c.args[1] if len(c.args) > 1 else None
    ins, alt = c.in_shape(0), c.alt_in(0)
    dims = range(x.ndim) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    axes = sorted({int(d) % x.ndim for d in dims if ins[int(d)] == 1 and alt[int(d)] == 1})
    if not axes:
        return tr.g.node("Identity", [tr.name(x)], hint=_hint(c))
    return tr.g.node("Squeeze", [tr.name(x), tr.g.ints(axes, "axes")], hint=_hint(c))


def _expand(tr: Any, c: Any) -> str:
    x = c.args[0]
    out, dyn = c.out.shape, c.dynamic_out()
    ins = (1,) * (len(out) - x.ndim) + tuple(x.shape)
    shape = []
    for o, i, d in zip(out, ins, dyn):
        if i == o:
            shape.append(1)
        elif d:
            raise ExportError(f"expand in {c.path}: a size-1 axis expanded to a dynamic size ({o}) is not exportable")
        else:
            shape.append(o)
    return tr.g.node("Expand", [tr.name(x), tr.g.ints(shape)], hint=_hint(c))


def _repeat(tr: Any, c: Any) -> str:
    x, reps = c.args[0], [int(r) for r in c.args[1]]
    name = tr.name(x)
    if len(reps) > x.ndim:
        name = tr.g.node("Unsqueeze", [name, tr.g.ints(list(range(len(reps) - x.ndim)), "axes")])
    return tr.g.node("Tile", [name, tr.g.ints(reps, "repeats")], hint=_hint(c))


def _bound(v: int, size: int, alt_v: int, alt_size: int, dynamic: bool, c: Any) -> int:
    """A slice bound or index that stays right when a dynamic axis changes size."""
    if not dynamic or v == alt_v:
        return v
    if v - size == alt_v - alt_size:
        return v - size
    raise ExportError(f"indexing in {c.path}: bound {v} moves with the dynamic axes in a way ONNX cannot express")


def _expand_ellipsis(index: tuple, ndim: int) -> tuple:
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    out: list[Any] = []
    for i in index:
        if i is Ellipsis:
            out.extend([slice(None)] * (ndim - used))
        else:
            out.append(i)
    return tuple(out)


def _listless(items: tuple) -> tuple:
    return tuple(np.asarray(i) if isinstance(i, list) else i for i in items)


def _getitem(tr: Any, c: Any) -> str:
    x, index = c.args[0], c.args[1]
    g = tr.g
    alt_index = c.alt[2][1] if c.alt is not None else index
    items = _listless(index if isinstance(index, tuple) else (index,))
    alt_items = _listless(alt_index if isinstance(alt_index, tuple) else (alt_index,))
    if not all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items):
        return _advanced(tr, c, items)
    items, alt_items = _expand_ellipsis(items, x.ndim), _expand_ellipsis(alt_items, x.ndim)
    ins, alt_in, dyn = c.in_shape(0), c.alt_in(0), c.dynamic_in(0)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis, out_pos = 0, 0
    for item, alt_item in zip(items, alt_items):
        if item is None:
            unsqueeze.append(out_pos)
            out_pos += 1
            continue
        n, an, d = ins[axis], alt_in[axis], dyn[axis]
        if isinstance(item, slice):
            if item != slice(None):
                step = 1 if item.step is None else int(item.step)
                lo_default, hi_default = (0, _BIG) if step > 0 else (-1, -_BIG)
                lo = lo_default if item.start is None else _bound(int(item.start), n, int(alt_item.start), an, d, c)
                if item.stop is None or (int(item.stop) >= n and (not d or int(alt_item.stop) >= an)):
                    hi = hi_default if item.stop is None or step < 0 else _BIG
                else:
                    hi = _bound(int(item.stop), n, int(alt_item.stop), an, d, c)
                starts.append(lo)
                ends.append(hi)
                axes.append(axis)
                steps.append(step)
            out_pos += 1
        else:
            v = _bound(int(item), n, int(alt_item), an, d, c)
            starts.append(v)
            ends.append(v + 1 if v != -1 else _BIG)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    name = tr.name(x)
    if axes:
        name = g.node("Slice", [name, g.ints(starts, "starts"), g.ints(ends, "ends"), g.ints(axes, "axes"),
                                g.ints(steps, "steps")])
    if squeeze:
        name = g.node("Squeeze", [name, g.ints(squeeze, "axes")])
    if unsqueeze:
        name = g.node("Unsqueeze", [name, g.ints(unsqueeze, "axes")])
    return g.node("Identity", [name], hint=_hint(c))


def _advanced(tr: Any, c: Any, items: tuple) -> str:
    """Indexing with one integer array on one axis (the other items full slices): a Gather."""
    arrays = [k for k, i in enumerate(items) if isinstance(i, np.ndarray)]
    rest_ok = all(isinstance(i, np.ndarray) or i == slice(None) for i in items if i is not Ellipsis)
    if len(arrays) != 1 or any(i is Ellipsis for i in items) or not rest_ok or items[arrays[0]].dtype.kind not in "iu":
        raise ExportError(
            f"indexing in {c.path} with {items!r}: only basic indexing (ints, slices, None, ...) and one integer "
            f"array on one axis are exportable"
        )
    idx = tr.g.const(items[arrays[0]].astype(np.int64), "index")
    return tr.g.node("Gather", [tr.name(c.args[0]), idx], hint=_hint(c), axis=arrays[0])


def _gather(tr: Any, c: Any) -> str:
    x, dim, index = c.args
    idx = tr.name(index) if tr.traced(index) else tr.g.const(np.asarray(index, dtype=np.int64), "index")
    return tr.g.node("GatherElements", [tr.name(x), idx], hint=_hint(c), axis=int(dim))


def _cat(tr: Any, c: Any) -> str:
    dim, xs = int(c.args[0]), c.args[1:]
    return tr.g.node("Concat", [tr.name(x) for x in xs], hint=_hint(c), axis=dim)


def _stack(tr: Any, c: Any) -> str:
    dim, xs = int(c.args[0]), c.args[1:]
    g = tr.g
    parts = [g.node("Unsqueeze", [tr.name(x), g.ints([dim], "axes")]) for x in xs]
    return g.node("Concat", parts, hint=_hint(c), axis=dim)


def _pad(tr: Any, c: Any) -> str:
    x, pad = c.args[0], c.args[1]
    mode = c.args[2] if len(c.args) > 2 else c.kwargs.get("mode", "constant")
    value = c.args[3] if len(c.args) > 3 else c.kwargs.get("value", 0.0)
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for i in range(len(pad) // 2):
        begins[x.ndim - 1 - i], ends[x.ndim - 1 - i] = int(pad[2 * i]), int(pad[2 * i + 1])
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(mode)
    if onnx_mode is None:
        raise ExportError(f"pad mode {mode!r} in {c.path} is not exportable (constant, reflect, replicate are)")
    ins = [tr.name(x), tr.g.ints(begins + ends, "pads")]
    if mode == "constant":
        ins.append(tr.g.const(np.asarray(value, dtype=x.dtype), "pad_value"))
    return tr.g.node("Pad", ins, hint=_hint(c), mode=onnx_mode)


def shape_exporters() -> dict[type, Callable]:
    """``{Function subclass: exporter}`` for the shape ops.

    >>> from gradlab.ops.shape import Reshape
    >>> Reshape in shape_exporters()
    True
    """
    return {
        S.Reshape: _reshape, S.Permute: _permute, S.Unsqueeze: _unsqueeze, S.Squeeze: _squeeze, S.Expand: _expand,
        S.Repeat: _repeat, S.GetItem: _getitem, S.Gather: _gather, S.Cat: _cat, S.Stack: _stack, S.Pad: _pad,
    }
