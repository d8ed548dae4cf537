"""Which kernel set runs: NumPy (the default and the reference) or the optional numba kernels (``gradlab[fast]``).

The choice, strongest first: :func:`set_backend` / :func:`use` in Python, then the ``GRADLAB_KERNELS`` environment
variable (``numpy``, ``numba`` or ``auto``), then ``auto``. ``auto`` runs a numba kernel only when numba imports and
the problem is at least the kernel's measured size, so an iris-sized fit never pays JIT start-up; ``numba`` forces the
kernels at every size (the tests use it so that both kernel sets see the same inputs); ``numpy`` never uses them.

Nothing here imports numba at ``import gradlab``: :func:`njit` wraps a Python function and compiles it on its first
call, with ``cache=True`` and ``error_model="numpy"`` (numba's default "python" error model checks every division
and stops the loops from vectorising).
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "KERNEL_SETS",
    "INSTALL_HINT",
    "numba_available",
    "backend",
    "set_backend",
    "use",
    "wants_numba",
    "njit",
    "LazyKernel",
]

KERNEL_SETS = ("auto", "numpy", "numba")
INSTALL_HINT = "the numba kernels need numba: pip install 'gradlab[fast]' (or pip install numba)"

_forced: str | None = None  # set by set_backend / use; None defers to the environment
_numba_found: bool | None = None


def numba_available() -> bool:
    """Whether numba can be imported (looked up once, without importing it).

    >>> isinstance(numba_available(), bool)
    True
    """
    global _numba_found
    if _numba_found is None:
        _numba_found = importlib.util.find_spec("numba") is not None
    return _numba_found


def _check(name: str, source: str) -> str:
    choice = str(name).strip().lower()
    if choice not in KERNEL_SETS:
        raise ValueError(f"{source} must be one of {', '.join(KERNEL_SETS)}, got {name!r}")
    return choice


def _choice() -> str:
    if _forced is not None:
        return _forced
    env = os.environ.get("GRADLAB_KERNELS", "")
    return _check(env, "GRADLAB_KERNELS") if env else "auto"


def backend() -> str:
    """The kernel set that large problems use now: ``"numba"`` or ``"numpy"``.

    >>> with use("numpy"):
    ...     backend()
    'numpy'
    """
    choice = _choice()
    if choice == "numba":
        if not numba_available():
            raise ImportError(INSTALL_HINT)
        return "numba"
    if choice == "numpy":
        return "numpy"
    return "numba" if numba_available() else "numpy"


def set_backend(name: str) -> None:
    """Choose the kernel set for this process: ``"numpy"``, ``"numba"`` (raises if numba is missing) or ``"auto"``.

    >>> set_backend("numpy"); backend()
    'numpy'
    >>> set_backend("auto")
    """
    global _forced
    choice = _check(name, "the kernel set")
    if choice == "numba" and not numba_available():
        raise ImportError(INSTALL_HINT)
    _forced = None if choice == "auto" and "GRADLAB_KERNELS" not in os.environ else choice


@contextlib.contextmanager
def use(name: str) -> Iterator[None]:
    """Run a block with one kernel set, then restore the previous choice.

    >>> with use("numpy"):
    ...     wants_numba(10**9)
    False
    """
    global _forced
    previous = _forced
    choice = _check(name, "the kernel set")
    if choice == "numba" and not numba_available():
        raise ImportError(INSTALL_HINT)
    _forced = choice
    try:
        yield
    finally:
        _forced = previous


def wants_numba(size: int, threshold: int = 0) -> bool:
    """Whether a kernel over ``size`` elements should run compiled: always when forced to ``numba``, never when forced
    to ``numpy``, and under ``auto`` only if numba is installed and ``size >= threshold``.

    >>> with use("numpy"):
    ...     wants_numba(10**6, threshold=1000)
    False
    """
    choice = _choice()
    if choice == "numpy":
        return False
    if choice == "numba":
        if not numba_available():
            raise ImportError(INSTALL_HINT)
        return True
    return size >= threshold and numba_available()


class LazyKernel:
    """A Python function that numba compiles on its first call (``cache=True``, ``error_model="numpy"``).

    The Python function stays reachable as ``.py_func``: it is what runs, slowly, if you call it directly.

    >>> k = LazyKernel(lambda a, b: a + b)
    >>> k.py_func(1, 2)
    3
    """

    def __init__(self, py_func: Callable[..., Any], **options: Any) -> None:
        self.py_func = py_func
        self.options = {"cache": True, "error_model": "numpy", "nogil": True, **options}
        self._compiled: Any = None
        self.__name__ = getattr(py_func, "__name__", "kernel")
        self.__doc__ = py_func.__doc__

    def compiled(self) -> Any:
        """The numba dispatcher (compiling on first use); raises ImportError naming ``gradlab[fast]`` without numba."""
        if self._compiled is None:
            try:
                import numba
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ImportError(INSTALL_HINT) from exc
            self._compiled = numba.njit(**self.options)(self.py_func)
        return self._compiled

    def __call__(self, *args: Any) -> Any:
        return self.compiled()(*args)


def njit(**options: Any) -> Callable[[Callable[..., Any]], LazyKernel]:
    """Decorator: compile lazily with numba (``cache=True``, ``error_model="numpy"`` plus ``options``).

    >>> @njit()
    ... def twice(x):
    ...     return 2 * x
    >>> twice.py_func(4)
    8
    """

    def wrap(py_func: Callable[..., Any]) -> LazyKernel:
        return LazyKernel(py_func, **options)

    return wrap
