"""Record every matrix product one gradlab training step performs, and rebuild its operands for a replay.

    python benchmarks/gemm_record.py --workload mlp            # one JSON line: the GEMMs of one step
    GRADLAB_KERNELS=numba python benchmarks/gemm_record.py --workload lstm --warmup 3

Used by ``gemm_floor.py``. Two hooks, installed before gradlab is imported (so the recording runs in a process of
its own):

* the ``@`` operator: gradlab's modules are compiled from source with every ``a @ b`` rewritten to a call of a
  recording function (an import hook on ``gradlab.*``; NumPy's ``ndarray.__matmul__`` cannot be patched);
* ``numpy.matmul``, ``dot``, ``tensordot`` and ``einsum``: replaced on the numpy module by recording wrappers, which
  catches gradlab's ``xp.matmul(..., out=...)`` and ``np.dot`` calls (gradlab reaches them as module attributes).

Only products whose operands are all NumPy arrays are recorded (a ``Tensor @ Tensor`` in gradlab.nn goes on to the
matmul op, which is recorded there). The numba kernels never call BLAS inside compiled code (no ``np.dot`` or ``@`` in
``gradlab/kernels/_*_loops.py``), so both kernel sets are covered by these hooks.

Each record keeps the exact memory layout of every operand and of ``out=`` (shape, strides, dtype, and the byte
extent they span, so a row slice of a wider buffer or a transposed view is rebuilt as such) and whether NumPy can
hand the product to BLAS without a copy (float32/float64, at most one non-unit stride per 2-D operand).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import importlib.abc
import importlib.machinery
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["layout", "blasable", "install", "recording", "rebuild", "record_step", "main"]

_HOOK = "__gemm_record_matmul__"
_RECORDS: list[dict] | None = None
_ORIGINAL: dict[str, Callable] = {}


def layout(a: np.ndarray) -> dict:
    """Shape, strides, dtype and the byte span of an array (``offset``: bytes from the lowest address it touches).

    >>> layout(np.zeros((3, 4), np.float32).T)
    {'shape': [4, 3], 'strides': [4, 16], 'dtype': 'float32', 'nbytes': 48, 'offset': 0, 'contiguous': 'F'}
    """
    lo = sum((n - 1) * s for n, s in zip(a.shape, a.strides, strict=True) if s < 0 and n > 0)
    hi = sum((n - 1) * s for n, s in zip(a.shape, a.strides, strict=True) if s > 0 and n > 0) + a.itemsize
    contiguous = "C" if a.flags.c_contiguous else "F" if a.flags.f_contiguous else "no"
    return {"shape": list(a.shape), "strides": list(a.strides), "dtype": a.dtype.name, "nbytes": int(hi - lo),
            "offset": int(-lo), "contiguous": contiguous}


def blasable(a: np.ndarray) -> bool:
    """Whether NumPy's matmul can pass this operand to BLAS as is: a BLAS dtype, and for the last two axes one unit
    stride and the other a positive multiple of the item size (a transposed view qualifies).

    >>> blasable(np.zeros((4, 3), np.float32).T), blasable(np.zeros((4, 6), np.float32)[:, ::2])
    (True, False)
    """
    if a.dtype not in (np.float32, np.float64, np.complex64, np.complex128) or a.ndim == 0:
        return False
    if a.ndim == 1:
        return a.strides[0] % a.itemsize == 0 and a.strides[0] != 0
    s0, s1 = a.strides[-2:]
    n0, n1 = a.shape[-2:]
    unit0, unit1 = s0 == a.itemsize or n0 == 1, s1 == a.itemsize or n1 == 1
    return (unit1 and s0 > 0 and s0 % a.itemsize == 0) or (unit0 and s1 > 0 and s1 % a.itemsize == 0)


def _site() -> str:
    frame = sys._getframe(3)
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}"


def _note(fn: str, operands: tuple, out: Any = None, extra: dict | None = None) -> None:
    if _RECORDS is None or not all(isinstance(o, np.ndarray) for o in operands):
        return
    rec = {"fn": fn, "site": _site(), "operands": [layout(o) for o in operands],
           "out": layout(out) if isinstance(out, np.ndarray) else None,
           "blas": all(blasable(o) for o in (*operands, *([out] if isinstance(out, np.ndarray) else [])))}
    if extra:
        rec.update(extra)
    _RECORDS.append(rec)


def _at(a: Any, b: Any) -> Any:
    _note("@", (a, b))
    return a @ b


def _wrap(name: str) -> Callable:
    original = _ORIGINAL[name]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if name == "einsum":
            extra = {"subscripts": args[0]} if isinstance(args[0], str) else None
            _note(name, tuple(args[1:]), kwargs.get("out"), extra)
        elif name == "tensordot":
            _note(name, tuple(args[:2]), None, {"axes": kwargs.get("axes", args[2] if len(args) > 2 else 2)})
        else:
            _note(name, tuple(args[:2]), kwargs.get("out", args[2] if len(args) > 2 else None))
        return original(*args, **kwargs)

    return wrapper


class _MatMulToCall(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.op, ast.MatMult):
            return node
        return ast.copy_location(ast.Call(ast.Name(_HOOK, ast.Load()), [node.left, node.right], []), node)


class _Loader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname: str) -> Any:  # always from source, rewritten (nothing cached)
        path = self.get_filename(fullname)
        tree = _MatMulToCall().visit(ast.parse(self.get_data(path), path))
        return compile(ast.fix_missing_locations(tree), path, "exec", dont_inherit=True)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname.split(".")[0] != "gradlab":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            spec.loader = _Loader(spec.loader.name, spec.loader.path)
        return spec


def install() -> None:
    """Install both hooks (idempotent). Must run before ``gradlab`` is imported."""
    if any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    if "gradlab" in sys.modules:
        raise RuntimeError("gemm_record.install(): gradlab is already imported; its '@' products would go unseen")
    setattr(builtins, _HOOK, _at)
    sys.meta_path.insert(0, _Finder())
    for name in ("matmul", "dot", "tensordot", "einsum"):
        _ORIGINAL[name] = getattr(np, name)
        setattr(np, name, _wrap(name))


class recording:
    """Context manager: the products made inside it, as a list of records (``with recording() as gemms: ...``)."""

    def __enter__(self) -> list[dict]:
        global _RECORDS
        _RECORDS = []
        return _RECORDS

    def __exit__(self, *exc: object) -> None:
        global _RECORDS
        _RECORDS = None


def rebuild(lay: dict, rng: np.random.Generator) -> np.ndarray:
    """A fresh array with exactly the recorded layout (strides and span), filled with small random values.

    >>> a = rebuild(layout(np.zeros((6, 5), np.float32)[1:4, :2].T), np.random.default_rng(0))
    >>> a.shape, a.strides, a.flags.c_contiguous
    ((2, 3), (4, 20), False)
    """
    dtype = np.dtype(lay["dtype"])
    count = -(-lay["nbytes"] // dtype.itemsize)
    buf = (rng.standard_normal(count) * 0.1).astype(dtype) if dtype.kind in "fc" else np.ones(count, dtype)
    return np.lib.stride_tricks.as_strided(buf.view(np.uint8)[lay["offset"]:].view(dtype), lay["shape"],
                                           lay["strides"])


def record_step(workload: str, warmup: int = 2) -> list[dict]:
    """The products of one gradlab step of ``workload`` (after ``warmup`` unrecorded steps: kernels compiled,
    buffers allocated)."""
    install()
    from harness import load_workload

    step = load_workload(workload).setup_gradlab()
    for _ in range(warmup):
        step()
    with recording() as gemms:
        step()
    return gemms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)

    gemms = record_step(args.workload, args.warmup)
    print(json.dumps({"workload": args.workload, "kernels": os.environ.get("GRADLAB_KERNELS", "auto"),
                      "gemms": gemms}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
