"""Adadelta, Adamax, NAdam, RAdam and LBFGS against torch.optim: trajectories over 50 float64 steps, state, state
dicts."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gradlab
from gradlab import optim
from tests.helpers import assert_close
from tests.optim.test_optimizers import STEPS, make_pair, run_and_compare, set_grads

CASES = [
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 0.5, "maximize": True, "weight_decay": 0.05}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.01, "betas": (0.3, 0.9), "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "betas": (0.3, 0.9), "maximize": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}),  # beta2=0.9: rectified from step 6 on
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.8), "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.85), "maximize": True}),
]


def case_id(case) -> str:
    name, kw = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")


@pytest.fixture
def torch64(torch):
    """torch with float64 as its default dtype, so that NAdam's scalar ``mu_product`` is kept in float64 as
    gradlab keeps it (torch keeps it in the default dtype)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(old)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trajectory_matches_torch(torch64, case):
    name, kwargs = case
    pair = make_pair(torch64, name, kwargs)
    run_and_compare(torch64, *pair, steps=STEPS)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_matches_torch(torch64, case):
    name, kwargs = case
    gl_params, th_params, gl_opt, th_opt = make_pair(torch64, name, kwargs)
    run_and_compare(torch64, gl_params, th_params, gl_opt, th_opt, steps=7)
    for gp, tp in zip(gl_params, th_params):
        gs, ts = gl_opt.state[gp], th_opt.state[tp]
        assert set(gs) == set(ts)
        for key, tv in ts.items():
            if key == "step":
                assert isinstance(gs[key], int) and gs[key] == int(tv.item())
            elif key == "mu_product":
                assert gs[key] == pytest.approx(tv.item(), rel=1e-12)
            else:
                assert gs[key].dtype == gp.dtype
                assert_close(gs[key], tv, rtol=1e-6, atol=1e-10, msg=key)


def test_nadam_float32_matches_torch(torch):
    gl_params, th_params, gl_opt, th_opt = make_pair(torch, "NAdam", {"lr": 0.01}, dtype=np.float32)
    run_and_compare(torch, gl_params, th_params, gl_opt, th_opt, steps=20, rtol=2e-5, atol=1e-6)
    assert all(p.dtype == np.float32 for p in gl_params)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dict_round_trip_continues_identically(torch64, case):
    name, kwargs = case
    gl_params, th_params, gl_opt, th_opt = make_pair(torch64, name, kwargs)
    run_and_compare(torch64, gl_params, th_params, gl_opt, th_opt, steps=20)
    sd = gl_opt.state_dict()
    restored_params = [gradlab.tensor(p.detach().numpy().copy(), requires_grad=True) for p in gl_params]
    restored = getattr(optim, name)(restored_params)
    restored.load_state_dict(copy.deepcopy(sd))
    assert restored.param_groups[0]["lr"] == gl_opt.param_groups[0]["lr"]
    for k in range(20, 30):
        set_grads(gl_params, th_params, torch64, k, none_every=3)
        for rp, gp in zip(restored_params, gl_params):
            rp.grad = None if gp.grad is None else gradlab.tensor(gp.grad.detach().numpy().copy())
        gl_opt.step()
        th_opt.step()
        restored.step()
        for gp, rp, tp in zip(gl_params, restored_params, th_params):
            np.testing.assert_array_equal(rp.data, gp.data)
            assert_close(gp, tp, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam"])
def test_param_groups_with_different_options(torch64, name):
    groups = [{"idx": [0], "lr": 0.003}, {"idx": [1, 2], "weight_decay": 0.2, "maximize": True}]
    pair = make_pair(torch64, name, {"lr": 0.02}, groups=groups)
    run_and_compare(torch64, *pair, steps=30)


@pytest.mark.parametrize(
    "factory,match",
    [
        (lambda p: optim.Adadelta(p, rho=1.5), "rho"),
        (lambda p: optim.Adadelta(p, lr=-1), "learning rate"),
        (lambda p: optim.Adamax(p, betas=(1.0, 0.9)), "beta"),
        (lambda p: optim.NAdam(p, momentum_decay=-1), "momentum_decay"),
        (lambda p: optim.RAdam(p, weight_decay=-1), "weight_decay"),
        (lambda p: optim.LBFGS(p, line_search_fn="armijo"), "line_search_fn"),
        (lambda p: optim.LBFGS([{"params": p[:1]}, {"params": p[1:]}]), "parameter groups"),
    ],
)
def test_hyperparameter_validation(factory, match):
    params = [gradlab.tensor(np.zeros(3), requires_grad=True), gradlab.tensor(np.zeros(2), requires_grad=True)]
    with pytest.raises(ValueError, match=match):
        factory(params)


# ---------------------------------------------------------------------------------------------------- LBFGS
def _rosenbrock_problem(lib, weights):
    """A small least-squares + Rosenbrock objective over two parameters; returns (params, loss_fn)."""
    w = lib.tensor(weights[0].copy(), requires_grad=True)
    b = lib.tensor(weights[1].copy(), requires_grad=True)
    x = lib.tensor(np.linspace(-1, 1, 24).reshape(8, 3))
    y = lib.tensor(np.cos(np.arange(8.0)))

    def loss_fn():
        pred = (x @ w).tanh() + b[0]
        rosen = (1 - b[0]) ** 2 + 10 * (b[1] - b[0] ** 2) ** 2
        return ((pred - y) ** 2).mean() + rosen

    return [w, b], loss_fn


@pytest.mark.parametrize(
    "kwargs",
    [
        {"line_search_fn": "strong_wolfe"},
        {"line_search_fn": "strong_wolfe", "history_size": 3, "max_iter": 7},
        {"lr": 0.05},
        {"lr": 0.1, "history_size": 2, "max_iter": 5, "max_eval": 6},
    ],
)
def test_lbfgs_matches_torch(torch64, kwargs):
    torch = torch64
    weights = [np.array([0.3, -0.2, 0.5]), np.array([-1.2, 1.0])]
    gl_params, gl_loss = _rosenbrock_problem(gradlab, weights)
    th_params, th_loss = _rosenbrock_problem(torch, weights)
    gl_opt, th_opt = optim.LBFGS(gl_params, **kwargs), torch.optim.LBFGS(th_params, **kwargs)

    def closure(opt, params, loss_fn):
        def run():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        return run

    first = gl_loss()
    for _ in range(10):
        gl_l = gl_opt.step(closure(gl_opt, gl_params, gl_loss))
        th_l = th_opt.step(closure(th_opt, th_params, th_loss))
        assert float(gl_l) == pytest.approx(float(th_l.detach()), rel=1e-9, abs=1e-12)
        for gp, tp in zip(gl_params, th_params):
            assert_close(gp, tp, rtol=1e-7, atol=1e-10)
    gs, ts = gl_opt.state[gl_params[0]], th_opt.state[th_params[0]]
    assert gs["func_evals"] == ts["func_evals"] and gs["n_iter"] == ts["n_iter"]
    assert len(gs["old_dirs"]) == len(ts["old_dirs"])
    assert float(gl_loss()) < 0.5 * float(first)


def test_lbfgs_state_dict_round_trip():
    weights = [np.array([0.3, -0.2, 0.5]), np.array([-1.2, 1.0])]
    params, loss_fn = _rosenbrock_problem(gradlab, weights)
    opt = optim.LBFGS(params, max_iter=4, line_search_fn="strong_wolfe")

    def closure(opt, loss_fn):
        def run():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        return run

    opt.step(closure(opt, loss_fn))
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0]
    restored_params, restored_loss = _rosenbrock_problem(gradlab, [p.detach().numpy().copy() for p in params])
    restored = optim.LBFGS(restored_params)
    restored.load_state_dict(copy.deepcopy(sd))
    assert restored.param_groups[0]["line_search_fn"] == "strong_wolfe"
    for _ in range(3):
        opt.step(closure(opt, loss_fn))
        restored.step(closure(restored, restored_loss))
        for p, r in zip(params, restored_params):
            np.testing.assert_array_equal(p.data, r.data)


def test_lbfgs_needs_a_closure_and_stops_at_an_optimum():
    x = gradlab.tensor([0.0, 0.0], requires_grad=True)
    opt = optim.LBFGS([x])
    with pytest.raises(ValueError, match="closure"):
        opt.step()
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        return loss

    opt.step(closure)  # the gradient is already zero: one evaluation, no move
    assert len(calls) == 1 and x.tolist() == [0.0, 0.0]


def _to_numpy_state(value):
    if hasattr(value, "detach"):
        return value.detach().numpy().copy()
    if isinstance(value, list):
        return [_to_numpy_state(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_numpy_state(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name,kwargs", [("LBFGS", {"line_search_fn": "strong_wolfe", "max_iter": 4}),
                                         ("NAdam", {"lr": 0.01}), ("RAdam", {"lr": 0.01}), ("Adadelta", {}),
                                         ("Adamax", {"lr": 0.01})])  # fmt: skip
def test_loads_a_torch_state_dict_and_keeps_following(torch64, name, kwargs):
    torch = torch64
    weights = [np.array([0.3, -0.2, 0.5]), np.array([-1.2, 1.0])]
    gl_params, gl_loss = _rosenbrock_problem(gradlab, weights)
    th_params, th_loss = _rosenbrock_problem(torch, weights)
    th_opt = getattr(torch.optim, name)(th_params, **kwargs)

    def closure(opt, loss_fn):
        def run():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        return run

    for _ in range(3):
        th_opt.step(closure(th_opt, th_loss))
    for gp, tp in zip(gl_params, th_params):
        gp.data[...] = tp.detach().numpy()
    gl_opt = getattr(optim, name)(gl_params, **kwargs)
    gl_opt.load_state_dict(_to_numpy_state(th_opt.state_dict()))
    for _ in range(3):
        gl_opt.step(closure(gl_opt, gl_loss))
        th_opt.step(closure(th_opt, th_loss))
        for gp, tp in zip(gl_params, th_params):
            assert_close(gp, tp, rtol=1e-7, atol=1e-10)
