"""Optional fused kernels (``pip install 'gradlab[fast]'``, on numba), each beside the NumPy twin it must equal.

NumPy stays the default and the reference: every kernel here has a NumPy version that the tests compare it with,
and the kernel set is chosen by :func:`set_backend`, :func:`use` or ``GRADLAB_KERNELS=numpy|numba|auto``. Nothing is
compiled at ``import gradlab``; a kernel compiles on its first call and is cached on disk.

>>> from gradlab import kernels
>>> with kernels.use("numpy"):
...     kernels.backend()
'numpy'
"""
from gradlab.kernels._select import (
    INSTALL_HINT,
    KERNEL_SETS,
    LazyKernel,
    backend,
    njit,
    numba_available,
    set_backend,
    use,
    wants_numba,
)

__all__ = [
    "INSTALL_HINT",
    "KERNEL_SETS",
    "LazyKernel",
    "backend",
    "njit",
    "numba_available",
    "set_backend",
    "use",
    "wants_numba",
]
