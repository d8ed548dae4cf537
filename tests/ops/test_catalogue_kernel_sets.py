"""The catalogue's convolution, pooling and batch-norm entries on both kernel sets (NumPy and numba).

The entries are picked from ``tests/ops/catalogue.py`` by op name, so new conv/pool/batch-norm entries join
automatically; the checks themselves are the catalogue's (``tests/ops/test_catalogue.py``), run with the kernel
set forced.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.ops import test_catalogue as _cat
from tests.ops.catalogue import CATALOGUE, OpCase

pytestmark = pytest.mark.kernel_sets

KERNEL_OPS = ("conv", "pool", "batch_norm")
SELECTED = [c for c in CATALOGUE if any(k in c.op for k in KERNEL_OPS)]


def test_the_selection_is_not_empty() -> None:
    assert SELECTED, "no conv/pool/batch_norm entries in tests/ops/catalogue.py"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in SELECTED])
def test_gradcheck(case: OpCase) -> None:
    _cat.test_gradcheck(case)


@pytest.mark.parametrize("case, dtype", [pytest.param(c, dt, id=f"{c.name}-{dt}") for c in SELECTED for dt in c.dtypes])
def test_matches_torch(case: OpCase, dtype: str, torch: Any) -> None:
    _cat.test_matches_torch(case, dtype, torch)
