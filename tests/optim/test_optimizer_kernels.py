"""The optimizers on both kernel sets: 0-d parameters in every optimizer, parameters above the numba thresholds, and
checkpoints resumed on the other kernel set (gradlab.kernels.optim)."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import kernels, optim
from gradlab.kernels import optim as ko
from tests.helpers import assert_close

ZERO_D_CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),  # SGD momentum on a 0-d parameter was a bug once
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adadelta", {"lr": 0.5}),
    ("Adamax", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01}),
]


def case_id(case) -> str:
    name, kw = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")


def _grad(value: float, k: int) -> float:
    return float(np.tanh(value) + 0.5 * np.sin(3.0 * value + k))


@pytest.mark.kernel_sets
@pytest.mark.parametrize("case", ZERO_D_CASES, ids=case_id)
def test_zero_dim_parameters_follow_torch(torch, case):
    name, kwargs = case
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # NAdam keeps a scalar in torch's default dtype
    try:
        gp = gradlab.tensor(np.array(0.7), requires_grad=True)
        tp = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
        gopt = getattr(optim, name)([gp], **kwargs)
        topt = getattr(torch.optim, name)([tp], **kwargs, foreach=False)
        for k in range(12):
            gp.grad = gradlab.tensor(np.array(_grad(gp.item(), k)))
            tp.grad = torch.tensor(_grad(tp.item(), k), dtype=torch.float64)
            gopt.step()
            topt.step()
            assert gp.shape == ()
            assert_close(gp, tp, rtol=1e-6, atol=1e-10, msg=f"{name} step {k}:")
        for key, value in gopt.state[gp].items():
            if isinstance(value, np.ndarray):
                assert value.shape == (), key
                assert_close(value, topt.state[tp][key], rtol=1e-6, atol=1e-10, msg=key)
    finally:
        torch.set_default_dtype(old)


def test_zero_dim_parameter_in_lbfgs_follows_torch(torch):
    gp = gradlab.tensor(np.array(0.7), requires_grad=True)
    tp = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    gopt, topt = optim.LBFGS([gp], lr=0.5, max_iter=5), torch.optim.LBFGS([tp], lr=0.5, max_iter=5)

    def closure(opt, p, lib):
        def run():
            opt.zero_grad()
            loss = ((p - 0.2) ** 2).sum() + lib.cos(p).sum()
            loss.backward()
            return loss
        return run

    for _ in range(3):
        gopt.step(closure(gopt, gp, gradlab))
        topt.step(closure(topt, tp, torch))
        assert gp.shape == ()
        assert_close(gp, tp, rtol=1e-6, atol=1e-10)


OPTIMIZERS = [
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
]


def _train(name, kwargs, steps, kernel_set, shapes=((200, 100), (100,)), opt_state=None, start=None, offset=0):
    """``steps`` steps of ``name`` on float32 parameters with synthetic gradients, on one kernel set."""
    rng = np.random.default_rng(0)
    arrays = start if start is not None else [rng.standard_normal(s).astype(np.float32) for s in shapes]
    params = [gradlab.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = getattr(optim, name)(params, **kwargs)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    with kernels.use(kernel_set):
        for k in range(steps):
            for p in params:
                g = np.random.default_rng(100 + offset + k).standard_normal(p.shape)
                p.grad = gradlab.tensor((np.tanh(p.detach().numpy()) + 0.3 * g).astype(np.float32))
            opt.step()
    return params, opt


@pytest.mark.parametrize("case", OPTIMIZERS, ids=case_id)
def test_auto_above_the_thresholds_equals_numpy(case, monkeypatch):
    """Under ``auto`` a parameter at least the threshold runs compiled (where numba is installed); the trajectory
    is the NumPy one, bitwise."""
    name, kwargs = case
    for threshold in ("ADAM_THRESHOLD", "SGD_THRESHOLD", "RMSPROP_THRESHOLD"):
        monkeypatch.setattr(ko, threshold, 20000)  # (200, 100) is above, (100,) below
    want, _ = _train(name, kwargs, 5, "numpy")
    got, _ = _train(name, kwargs, 5, "auto")
    for g, w in zip(got, want):
        assert g.detach().numpy().tobytes() == w.detach().numpy().tobytes()


@pytest.mark.kernel_sets
@pytest.mark.parametrize("case", OPTIMIZERS, ids=case_id)
def test_resume_on_the_same_kernel_set_is_bit_identical(case, kernel_set):
    name, kwargs = case
    whole, _ = _train(name, kwargs, 8, kernel_set)
    first, opt = _train(name, kwargs, 4, kernel_set)
    rest, _ = _train(name, kwargs, 4, kernel_set, opt_state=opt.state_dict(),
                     start=[p.detach().numpy() for p in first], offset=4)
    for r, w in zip(rest, whole):
        assert r.detach().numpy().tobytes() == w.detach().numpy().tobytes()


@pytest.mark.parametrize("case", OPTIMIZERS, ids=case_id)
def test_resume_on_the_other_kernel_set_agrees_to_float32_rounding(case):
    """Saved on one kernel set, resumed on the other: equal to float32 rounding (the documented promise)."""
    pytest.importorskip("numba")
    name, kwargs = case
    for saved_on, resumed_on in (("numba", "numpy"), ("numpy", "numba")):
        whole, _ = _train(name, kwargs, 8, saved_on)
        first, opt = _train(name, kwargs, 4, saved_on)
        rest, _ = _train(name, kwargs, 4, resumed_on, opt_state=opt.state_dict(),
                         start=[p.detach().numpy() for p in first], offset=4)
        for r, w in zip(rest, whole):
            np.testing.assert_allclose(r.detach().numpy(), w.detach().numpy(), rtol=1e-6, atol=1e-7)


GENERAL_PATH_CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),  # d is the gradient itself: dampened in scratch
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.2, "weight_decay": 0.1, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
]


@pytest.mark.parametrize("case", GENERAL_PATH_CASES, ids=case_id)
def test_gpu_arrays_take_the_numpy_twin_bitwise(case):
    """GPU arrays skip the fused kernels but run their NumPy twin (through NumPy ufuncs): parameters and state are
    bitwise those of the host's ``numpy`` kernel set, and stay on the device."""
    from tests.fake_cupy import FakeGpuArray, fake_gpu

    name, kwargs = case
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s).astype(np.float32) for s in ((6, 5), (4,), ())]
    want, want_opt = _train(name, kwargs, 4, "numpy", start=start)
    with fake_gpu():
        params = [gradlab.tensor(a.copy(), requires_grad=True, device="cuda") for a in start]
        opt = getattr(optim, name)(params, **kwargs)
        for k in range(4):
            for p in params:
                g = np.random.default_rng(100 + k).standard_normal(p.shape)
                host = np.tanh(p.detach().cpu().numpy()) + 0.3 * g
                p.grad = gradlab.tensor(host.astype(np.float32), device="cuda")
            opt.step()
        for p, w in zip(params, want):
            assert str(p.device) == "cuda:0"
            assert p.detach().cpu().numpy().tobytes() == w.detach().numpy().tobytes()
            for key, value in opt.state[p].items():
                if key != "step":
                    assert isinstance(value, FakeGpuArray), key
                    expected = want_opt.state[w][key]
                    assert np.asarray(value).view(np.ndarray).tobytes() == expected.tobytes(), key
