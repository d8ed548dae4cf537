"""The fused optimizer steps: the numba loops equal their NumPy twins bitwise (every option, float32 and float64, 0-d
and odd sizes), the threshold decides which runs, the workspace is reused, and bad input is refused by name."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from gradlab import kernels
from gradlab.kernels import _optim_loops as loops
from gradlab.kernels import optim as ko

SHAPES = [(), (1,), (7,), (3, 5), (1029,)]
DTYPES = [np.float32, np.float64]
STEPS = 4

SGD_CASES = [
    {"lr": 0.05},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "maximize": True},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "maximize": True},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05, "maximize": True},
]
ADAM_CASES = [
    {},
    {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "weight_decay": 0.1, "maximize": True},
    {"lr": 0.01, "weight_decay": 0.1, "decoupled": True},
    {"lr": 0.01, "weight_decay": 0.1, "decoupled": True, "maximize": True},
    {"lr": 0.01, "beta1": 0.3, "beta2": 0.9},  # lerp weight >= 0.5 takes torch's other branch
]
RMSPROP_CASES = [
    {},
    {"alpha": 0.9, "weight_decay": 0.1},
    {"momentum": 0.9},
    {"centered": True},
    {"centered": True, "momentum": 0.5, "weight_decay": 0.01, "maximize": True},
    {"alpha": 0.3, "centered": True},  # lerp weight >= 0.5
]
ADAM_DEFAULTS = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
RMSPROP_DEFAULTS = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8}


def _arrays(shape, dtype, count, seed=0):
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.standard_normal(shape), dtype=dtype) for _ in range(count)]


def run_sgd(shape, dtype, kwargs):
    (p,) = _arrays(shape, dtype, 1)
    buf = np.empty_like(p) if kwargs.get("momentum", 0) else None
    for k in range(STEPS):
        (g,) = _arrays(shape, dtype, 1, seed=k + 1)
        ko.sgd_update(p, g, buf, first_step=k == 0, **kwargs)
    return [p] if buf is None else [p, buf]


def run_adam(shape, dtype, kwargs):
    (p,) = _arrays(shape, dtype, 1)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for k in range(STEPS):
        (g,) = _arrays(shape, dtype, 1, seed=k + 1)
        ko.adam_update(p, g, m, v, step=k + 1, **{**ADAM_DEFAULTS, **kwargs})
    return [p, m, v]


def run_rmsprop(shape, dtype, kwargs):
    (p,) = _arrays(shape, dtype, 1)
    v = np.zeros_like(p)
    buf = np.zeros_like(p) if kwargs.get("momentum", 0) else None
    gbar = np.zeros_like(p) if kwargs.get("centered") else None
    for k in range(STEPS):
        (g,) = _arrays(shape, dtype, 1, seed=k + 1)
        ko.rmsprop_update(p, g, v, buf=buf, grad_avg=gbar, **{**RMSPROP_DEFAULTS, **kwargs})
    return [a for a in (p, v, buf, gbar) if a is not None]


RUNS = (
    [("sgd", run_sgd, kw) for kw in SGD_CASES]
    + [("adam", run_adam, kw) for kw in ADAM_CASES]
    + [("rmsprop", run_rmsprop, kw) for kw in RMSPROP_CASES]
)


def run_id(run) -> str:
    name, _, kw = run
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")


def assert_bitwise(got, want):
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes(), f"array {i} differs: largest gap {np.max(np.abs(a - b))}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("run", RUNS, ids=run_id)
def test_numba_loop_equals_numpy_twin_bitwise(run, shape, dtype):
    pytest.importorskip("numba")
    _, fn, kwargs = run
    with kernels.use("numpy"):
        want = fn(shape, dtype, kwargs)
    with kernels.use("numba"):
        got = fn(shape, dtype, kwargs)
    assert_bitwise(got, want)


@pytest.mark.parametrize("run", RUNS, ids=run_id)
def test_uncompiled_loops_equal_numpy_twin(run, monkeypatch):
    """The loops' Python source (what numba compiles) already follows the twin's arithmetic; runs without numba."""
    _, fn, kwargs = run
    with kernels.use("numpy"):
        want = fn((5,), np.float32, kwargs)
    monkeypatch.setattr(ko, "wants_numba", lambda size, threshold=0: True)
    for name in ("sgd_loop", "adam_loop", "rmsprop_loop"):
        monkeypatch.setattr(loops, name, getattr(loops, name).py_func)
    got = fn((5,), np.float32, kwargs)
    assert_bitwise(got, want)


class Recorder:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def __call__(self, *args):
        self.calls += 1
        return self.inner.py_func(*args)


@pytest.mark.parametrize("which,threshold_name", [("adam", "ADAM_THRESHOLD"), ("sgd", "SGD_THRESHOLD"),
                                                  ("rmsprop", "RMSPROP_THRESHOLD")])
def test_threshold_decides_under_auto(which, threshold_name, monkeypatch):
    rec = Recorder(getattr(loops, f"{which}_loop"))
    monkeypatch.setattr(loops, f"{which}_loop", rec)
    monkeypatch.setattr(ko, threshold_name, 8)
    fn = {"adam": run_adam, "sgd": run_sgd, "rmsprop": run_rmsprop}[which]
    kw = {"lr": 0.1, "momentum": 0.9} if which == "sgd" else {}
    with kernels.use("auto"):
        fn((7,), np.float32, kw)
        assert rec.calls == 0  # below the threshold: NumPy
        fn((8,), np.float32, kw)
        assert rec.calls == (STEPS if kernels.numba_available() else 0)
    rec.calls = 0
    with kernels.use("numpy"):
        fn((10**4,), np.float32, kw)
    assert rec.calls == 0
    if kernels.numba_available():
        with kernels.use("numba"):  # forced: every size, 0-d included
            fn((), np.float32, kw)
        assert rec.calls == STEPS


def test_arrays_the_loop_cannot_take_go_to_the_twin(monkeypatch):
    """A float64 gradient for a float32 parameter, or a strided one, runs the NumPy twin even when numba is forced."""
    pytest.importorskip("numba")
    rec = Recorder(loops.adam_loop)
    monkeypatch.setattr(loops, "adam_loop", rec)
    p, g = _arrays((6, 4), np.float32, 2)
    for grad in (g.astype(np.float64), np.asfortranarray(g), np.repeat(g, 2, axis=1)[:, ::2]):
        results = []
        for name in ("numpy", "numba"):
            q, m, v = p.copy(), np.zeros_like(p), np.zeros_like(p)
            with kernels.use(name):
                ko.adam_update(q, grad, m, v, step=1, **ADAM_DEFAULTS)
            results.append([q, m, v])
        assert_bitwise(results[1], results[0])
    assert rec.calls == 0


@pytest.mark.parametrize("run", RUNS, ids=run_id)
def test_workspace_gives_the_same_result_and_allocates_nothing(run, monkeypatch):
    name, _, kwargs = run
    shape, dtype = (300, 101), np.float32
    p0, g = _arrays(shape, dtype, 2)
    ws = np.empty(ko.WORKSPACE_SLOTS * p0.size + 3, dtype)  # larger than needed is fine

    def one_step(workspace):
        p = p0.copy()
        s = [np.full_like(p, 0.5) for _ in range(3)]
        if name == "sgd":
            ko.sgd_update(p, g, s[0], workspace=workspace, **kwargs)
        elif name == "adam":
            ko.adam_update(p, g, s[0], s[1], step=3, workspace=workspace, **{**ADAM_DEFAULTS, **kwargs})
        else:
            ko.rmsprop_update(p, g, s[0], buf=s[1], grad_avg=s[2], workspace=workspace,
                              **{**RMSPROP_DEFAULTS, **kwargs})
        return [p, *s]

    with kernels.use("numpy"):
        want = one_step(None)
        one_step(ws)  # the workspace's first use; then a step with it allocates nothing the size of a parameter
        p = p0.copy()
        s = [np.full_like(p, 0.5) for _ in range(3)]
        tracemalloc.start()
        try:
            if name == "sgd":
                ko.sgd_update(p, g, s[0], workspace=ws, **kwargs)
            elif name == "adam":
                ko.adam_update(p, g, s[0], s[1], step=3, workspace=ws, **{**ADAM_DEFAULTS, **kwargs})
            else:
                ko.rmsprop_update(p, g, s[0], buf=s[1], grad_avg=s[2], workspace=ws, **{**RMSPROP_DEFAULTS, **kwargs})
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < p.nbytes // 10
        assert_bitwise([p, *s], want)
        assert_bitwise(one_step(ws), want)


def test_bad_workspace_is_refused():
    p, g = _arrays((10,), np.float32, 2)
    m, v = np.zeros_like(p), np.zeros_like(p)
    with kernels.use("numpy"):
        for bad in (np.empty(19, np.float32), np.empty(20, np.float64), np.empty((2, 10), np.float32)):
            with pytest.raises(ValueError, match="workspace"):
                ko.adam_update(p, g, m, v, step=1, workspace=bad, **ADAM_DEFAULTS)


@pytest.mark.parametrize("kernel_set", ["numpy", "numba"])
def test_bad_input_is_refused_by_name(kernel_set):
    if kernel_set == "numba":
        pytest.importorskip("numba")
    p, g = _arrays((4, 3), np.float32, 2)
    s = np.zeros_like(p)
    with kernels.use(kernel_set):
        with pytest.raises(ValueError, match="grad has shape"):
            ko.adam_update(p, g[:1], s, s.copy(), step=1, **ADAM_DEFAULTS)
        with pytest.raises(ValueError, match="exp_avg_sq has shape"):
            ko.adam_update(p, g, s, s[0], step=1, **ADAM_DEFAULTS)
        with pytest.raises(ValueError, match="step counts from 1"):
            ko.adam_update(p, g, s, s.copy(), step=0, **ADAM_DEFAULTS)
        with pytest.raises(ValueError, match="momentum buffer"):
            ko.sgd_update(p, g, None, lr=0.1, momentum=0.9)
        with pytest.raises(ValueError, match="momentum_buffer has shape"):
            ko.sgd_update(p, g, s.T, lr=0.1, momentum=0.9)
        with pytest.raises(ValueError, match="momentum buffer"):
            ko.rmsprop_update(p, g, s, lr=0.1, alpha=0.9, eps=1e-8, momentum=0.5)
        with pytest.raises(ValueError, match="grad_avg"):
            ko.rmsprop_update(p, g, s, lr=0.1, alpha=0.9, eps=1e-8, centered=True)
        with pytest.raises(TypeError, match="NumPy array"):
            ko.sgd_update([1.0, 2.0], [1.0, 1.0], None, lr=0.1)


def test_plain_sgd_needs_no_buffer_and_takes_a_list_gradient():
    p = np.ones(3, np.float32)
    ko.sgd_update(p, [1.0, 2.0, 3.0], None, lr=0.5)
    np.testing.assert_array_equal(p, np.array([0.5, 0.0, -0.5], np.float32))
