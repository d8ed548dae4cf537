"""benchmarks/gemm_record.py and gemm_floor.py: the recorder finds the MLP step's GEMMs; layouts replay exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.append(str(BENCH))  # after everything else: shadows nothing

from gemm_floor import flops, replay_step, signature  # noqa: E402
from gemm_record import blasable, layout, rebuild  # noqa: E402


def _record(workload: str, kernels: str) -> list[dict]:
    env = dict(os.environ, GRADLAB_KERNELS=kernels, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(BENCH / "gemm_record.py"), "--workload", workload],
                          capture_output=True, text=True, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])["gemms"]


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_mlp_step_gemms(kernels):
    # 784-512-512-10, batch 128: 3 forward products, then per layer the input gradient (not for the first layer: the
    # data needs no gradient) and the weight gradient: 3 + 2 + 3 = 8
    gemms = _record("mlp", kernels)
    mkn = sorted((g["operands"][0]["shape"][0], g["operands"][0]["shape"][1], g["operands"][1]["shape"][1])
                 for g in gemms)
    forward = [(128, 784, 512), (128, 512, 512), (128, 512, 10)]
    grad_input = [(128, 10, 512), (128, 512, 512)]
    grad_weight = [(10, 128, 512), (512, 128, 512), (512, 128, 784)]
    assert mkn == sorted(forward + grad_input + grad_weight)
    assert all(o["dtype"] == "float32" for g in gemms for o in g["operands"])
    assert all(g["blas"] for g in gemms)
    # the forward multiplies by weight.T: a transposed (Fortran-ordered) view, not a copy
    assert [g["operands"][1]["contiguous"] for g in gemms[:3]] == ["F", "F", "F"]
    assert sum(flops(g) for g in gemms) == sum(2 * m * k * n for m, k, n in mkn)


def test_both_kernel_sets_record_the_same_lstm_gemms():
    numpy_set, numba_set = _record("lstm", "numpy"), _record("lstm", "numba")
    assert len(numpy_set) == 101  # 50 forward steps, 50 backward steps, one weight-gradient GEMM
    assert [signature(g) for g in numpy_set] == [signature(g) for g in numba_set]
    assert sum(g["out"] is not None for g in numpy_set) == 100


def test_rebuild_keeps_strides_of_views():
    base = np.arange(60, dtype=np.float32).reshape(6, 10)
    rng = np.random.default_rng(0)
    for view in (base, base.T, base[1:4, 2:7], base[:, ::-1], base[::2].T):
        again = rebuild(layout(view), rng)
        assert again.shape == view.shape and again.strides == view.strides and again.dtype == view.dtype
    assert not blasable(base[:, ::2]) and blasable(base[1:4, 2:7].T)


def test_replay_matches_numpy_product_on_the_rebuilt_operands():
    a, b = np.ones((4, 3), np.float32), np.ones((5, 3), np.float32)
    out = np.zeros((4, 8), np.float32)[:, :5]
    rec = {"fn": "matmul", "operands": [layout(a), layout(b.T)], "out": layout(out)}
    (res,) = replay_step([rec])()
    assert res.shape == (4, 5) and res.strides == out.strides
