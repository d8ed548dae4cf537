"""Learning-rate schedulers against torch.optim.lr_scheduler: the lr (and momentum) sequences step by step."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gradlab
from gradlab import optim
from gradlab.optim import lr_scheduler as gls


def make_optimizers(torch, opt_name="SGD", lrs=(0.1, 0.02), **opt_kwargs):
    """A gradlab and a torch optimizer with one parameter group per lr."""
    gl_groups = [{"params": [gradlab.tensor(np.ones(2), requires_grad=True)], "lr": lr} for lr in lrs]
    th_groups = [{"params": [torch.ones(2, dtype=torch.float64, requires_grad=True)], "lr": lr} for lr in lrs]
    gl_opt = getattr(optim, opt_name)(gl_groups, **opt_kwargs)
    th_opt = getattr(torch.optim, opt_name)(th_groups, **opt_kwargs)
    return gl_opt, th_opt


def group_values(opt, key):
    out = []
    for g in opt.param_groups:
        v = g[key]
        out.append(tuple(float(x) for x in v) if isinstance(v, (tuple, list)) else float(v))
    return out


def assert_same(a, b, what=""):
    np.testing.assert_allclose(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12, atol=1e-15, err_msg=what
    )


def compare(torch, gl_opt, th_opt, gl_sched, th_sched, steps, metrics=None, keys=("lr",)):
    assert_same(gl_sched.get_last_lr(), th_sched.get_last_lr(), "after construction")
    for k in range(steps):
        gl_opt.step()
        th_opt.step()
        if metrics is None:
            gl_sched.step()
            th_sched.step()
        else:
            gl_sched.step(metrics[k])
            th_sched.step(metrics[k])
        assert_same(gl_sched.get_last_lr(), th_sched.get_last_lr(), f"get_last_lr at step {k}")
        for key in keys:
            assert_same(group_values(gl_opt, key), group_values(th_opt, key), f"{key} at step {k}")
        assert gl_sched.last_epoch == th_sched.last_epoch


SCHEDULERS = [
    ("StepLR", {"step_size": 7}),
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [5, 12, 12, 30], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.95}),
    ("CosineAnnealingLR", {"T_max": 20}),
    ("CosineAnnealingLR", {"T_max": 15, "eta_min": 0.001}),  # past T_max it rises again, as torch's does
    ("PolynomialLR", {"total_iters": 30, "power": 2.0}),
    ("PolynomialLR", {}),
    ("LambdaLR", {"lr_lambda": lambda e: 1.0 / (1 + e) ** 0.5}),
    ("LambdaLR", {"lr_lambda": [lambda e: 0.9**e, lambda e: 1.0 + 0.01 * e]}),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=lambda x: x if isinstance(x, str) else None)
def test_schedule_matches_torch(torch, name, kwargs):
    gl_opt, th_opt = make_optimizers(torch, momentum=0.9)
    gl_sched = getattr(gls, name)(gl_opt, **kwargs)
    th_sched = getattr(torch.optim.lr_scheduler, name)(th_opt, **kwargs)
    compare(torch, gl_opt, th_opt, gl_sched, th_sched, steps=60)


@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=lambda x: x if isinstance(x, str) else None)
def test_state_dict_resume_matches_uninterrupted(torch, name, kwargs):
    """Stop after 17 steps, rebuild optimizer + scheduler from their state dicts, carry on: same lrs as an
    uninterrupted torch run."""
    gl_opt, th_opt = make_optimizers(torch)
    gl_sched = getattr(gls, name)(gl_opt, **kwargs)
    th_sched = getattr(torch.optim.lr_scheduler, name)(th_opt, **kwargs)
    compare(torch, gl_opt, th_opt, gl_sched, th_sched, steps=17)
    opt_state, sched_state = gl_opt.state_dict(), gl_sched.state_dict()

    gl_opt2, _ = make_optimizers(torch, lrs=(5.0, 5.0))
    gl_sched2 = getattr(gls, name)(gl_opt2, **kwargs)  # scheduler first (it writes the lrs), then the states
    gl_opt2.load_state_dict(opt_state)
    gl_sched2.load_state_dict(sched_state)
    compare(torch, gl_opt2, th_opt, gl_sched2, th_sched, steps=25)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("StepLR", {"step_size": 4}),
        ("MultiStepLR", {"milestones": [3, 9]}),
        ("ExponentialLR", {"gamma": 0.9}),
        ("CosineAnnealingLR", {"T_max": 10}),
        ("PolynomialLR", {"total_iters": 8}),
    ],
)
def test_explicit_epoch_uses_closed_form(torch, name, kwargs):
    gl_opt, th_opt = make_optimizers(torch)
    gl_sched = getattr(gls, name)(gl_opt, **kwargs)
    th_sched = getattr(torch.optim.lr_scheduler, name)(th_opt, **kwargs)
    for epoch in [3, 7, 2, 12, 5]:
        gl_opt.step()
        th_opt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            gl_sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            th_sched.step(epoch)
        assert_same(gl_sched.get_last_lr(), th_sched.get_last_lr(), f"epoch {epoch}")


PLATEAU = [
    {},
    {"patience": 2},
    {"patience": 1, "cooldown": 2, "factor": 0.5},
    {"mode": "max", "patience": 2, "factor": 0.3},
    {"threshold_mode": "abs", "threshold": 0.05, "patience": 1},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.1, "patience": 0},
    {"patience": 0, "factor": 0.5, "min_lr": 0.01},
    {"patience": 0, "factor": 0.5, "min_lr": [0.05, 0.001]},
    {"patience": 0, "factor": 0.9, "eps": 0.005},
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")
def test_reduce_on_plateau_matches_torch(torch, kwargs):
    rng = np.random.default_rng(3)
    # improving, then plateaus and noise, then improving again
    metrics = list(np.linspace(1.0, 0.5, 10)) + [0.5 + 0.01 * x for x in rng.standard_normal(40)]
    metrics += list(np.linspace(0.5, 0.2, 10)) + [0.2] * 20 + [1.0 - m for m in metrics[:20]]
    gl_opt, th_opt = make_optimizers(torch)
    gl_sched = gls.ReduceLROnPlateau(gl_opt, **kwargs)
    th_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(th_opt, **kwargs)
    compare(torch, gl_opt, th_opt, gl_sched, th_sched, steps=len(metrics), metrics=metrics)
    assert gl_sched.num_bad_epochs == th_sched.num_bad_epochs
    assert gl_sched.best == th_sched.best


def test_reduce_on_plateau_state_dict_round_trip(torch):
    metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    gl_opt, th_opt = make_optimizers(torch)
    gl_sched = gls.ReduceLROnPlateau(gl_opt, patience=1, cooldown=1, mode="min")
    th_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(th_opt, patience=1, cooldown=1, mode="min")
    compare(torch, gl_opt, th_opt, gl_sched, th_sched, steps=5, metrics=metrics)
    o, s = gl_opt.state_dict(), gl_sched.state_dict()
    gl_opt2, _ = make_optimizers(torch)
    gl_sched2 = gls.ReduceLROnPlateau(gl_opt2, mode="max")  # everything comes from the state dict
    gl_opt2.load_state_dict(o)
    gl_sched2.load_state_dict(s)
    assert gl_sched2.mode == "min"
    compare(torch, gl_opt2, th_opt, gl_sched2, th_sched, steps=len(metrics) - 5, metrics=metrics[5:])


def test_reduce_on_plateau_errors():
    opt = optim.SGD([gradlab.tensor(np.ones(1), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        gls.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="unknown"):
        gls.ReduceLROnPlateau(opt, mode="median")
    with pytest.raises(ValueError, match="unknown"):
        gls.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="min_lrs"):
        gls.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    with pytest.raises(TypeError, match="not an Optimizer"):
        gls.ReduceLROnPlateau(object())


ONECYCLE = [
    ("SGD", {"momentum": 0.9}, {"max_lr": 1.0, "total_steps": 50}),
    ("SGD", {"momentum": 0.9}, {"max_lr": [0.5, 2.0], "epochs": 5, "steps_per_epoch": 10, "pct_start": 0.25}),
    ("SGD", {"momentum": 0.9}, {"max_lr": 1.0, "total_steps": 50, "anneal_strategy": "linear"}),
    ("SGD", {"momentum": 0.9}, {"max_lr": 1.0, "total_steps": 50, "three_phase": True}),
    (
        "SGD",
        {"momentum": 0.9},
        {
            "max_lr": 1.0,
            "total_steps": 47,
            "three_phase": True,
            "anneal_strategy": "linear",
            "base_momentum": [0.8, 0.7],
            "max_momentum": 0.99,
            "div_factor": 10.0,
            "final_div_factor": 100.0,
        },
    ),
    ("SGD", {}, {"max_lr": 1.0, "total_steps": 50, "cycle_momentum": False}),
    ("Adam", {}, {"max_lr": 0.01, "total_steps": 50}),
    ("AdamW", {"betas": (0.9, 0.98)}, {"max_lr": 0.01, "total_steps": 40, "three_phase": True}),
]


@pytest.mark.parametrize("opt_name,opt_kwargs,kwargs", ONECYCLE)
def test_one_cycle_matches_torch(torch, opt_name, opt_kwargs, kwargs):
    gl_opt, th_opt = make_optimizers(torch, opt_name, **opt_kwargs)
    gl_sched = gls.OneCycleLR(gl_opt, **kwargs)
    th_sched = torch.optim.lr_scheduler.OneCycleLR(th_opt, **kwargs)
    total = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    keys = ["lr", "initial_lr", "max_lr", "min_lr"]
    if kwargs.get("cycle_momentum", True):
        keys += ["betas" if "betas" in gl_opt.defaults else "momentum", "max_momentum", "base_momentum"]
    compare(torch, gl_opt, th_opt, gl_sched, th_sched, steps=total - 1, keys=keys)
    gl_opt.step()
    with pytest.raises(ValueError, match="Tried to step"):
        gl_sched.step()
        gl_sched.step()


def test_one_cycle_resume(torch):
    gl_opt, th_opt = make_optimizers(torch, "Adam")
    gl_sched = gls.OneCycleLR(gl_opt, max_lr=0.01, total_steps=40)
    th_sched = torch.optim.lr_scheduler.OneCycleLR(th_opt, max_lr=0.01, total_steps=40)
    compare(torch, gl_opt, th_opt, gl_sched, th_sched, steps=13, keys=["lr", "betas"])
    o, s = gl_opt.state_dict(), gl_sched.state_dict()
    gl_opt2, _ = make_optimizers(torch, "Adam")
    gl_opt2.load_state_dict(o)  # resuming with last_epoch >= 0 needs 'initial_lr' from the optimizer's state
    gl_sched2 = gls.OneCycleLR(gl_opt2, max_lr=0.01, total_steps=40, last_epoch=s["last_epoch"])
    gl_sched2.load_state_dict(s)
    gl_opt2.load_state_dict(o)  # the constructor's first step moved the lr; restore it
    compare(torch, gl_opt2, th_opt, gl_sched2, th_sched, steps=26, keys=["lr", "betas"])


def test_one_cycle_errors():
    opt = optim.SGD([gradlab.tensor(np.ones(1), requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="total_steps OR"):
        gls.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="positive integer total_steps"):
        gls.OneCycleLR(opt, max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="pct_start"):
        gls.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        gls.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        gls.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=10)
    no_momentum = optim.Adagrad([gradlab.tensor(np.ones(1), requires_grad=True)])
    with pytest.raises(ValueError, match="momentum or beta1"):
        gls.OneCycleLR(no_momentum, max_lr=1.0, total_steps=10)


def test_inverse_scaling_matches_formula_and_sklearn():
    opt = optim.SGD([gradlab.tensor(np.ones(1), requires_grad=True)], lr=0.3)
    sched = gls.InverseScalingLR(opt, power_t=0.25)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(30):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert_same(lrs, [0.3 / (t + 1) ** 0.25 for t in range(31)])
    # scikit-learn's MLP 'invscaling' is stepped with the number of samples seen: step(t) does that, no warning
    try:
        from sklearn.neural_network._stochastic_optimizers import SGDOptimizer
    except ImportError:  # pragma: no cover - private module moved
        pytest.skip("sklearn's SGDOptimizer is not where it used to be")
    sk = SGDOptimizer([np.ones(1)], learning_rate_init=0.3, lr_schedule="invscaling", power_t=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in [32, 64, 96, 1000]:
            sk.iteration_ends(t)
            sched.step(t)
            assert math.isclose(sched.get_last_lr()[0], sk.learning_rate, rel_tol=1e-12)


def test_scheduler_state_dict_is_plain_data():
    opt = optim.SGD([gradlab.tensor(np.ones(1), requires_grad=True)], lr=0.1, momentum=0.9)
    sched = gls.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    sd = sched.state_dict()
    assert "optimizer" not in sd
    assert sd["last_epoch"] == 0 and sd["total_steps"] == 10 and sd["_step_count"] == 1

    def check(x):
        if isinstance(x, dict):
            for k, v in x.items():
                assert isinstance(k, (str, int))
                check(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                check(v)
        else:
            assert x is None or isinstance(x, (bool, int, float, str)), type(x)

    check(sd)


def test_lambda_state_dict_keeps_callable_objects():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    opt = optim.SGD([gradlab.tensor(np.ones(1), requires_grad=True)], lr=1.0)
    sched = gls.LambdaLR(opt, [Warmup(4)])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"n": 4}]
    sd["lr_lambdas"] = [{"n": 2}]
    sched.load_state_dict(sd)
    assert sched.lr_lambdas[0].n == 2
    plain = gls.LambdaLR(opt, lambda e: 1.0)
    assert plain.state_dict()["lr_lambdas"] == [None]
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas"):
        gls.LambdaLR(opt, [lambda e: 1.0, lambda e: 2.0])


def test_warnings_and_errors():
    opt = optim.SGD([gradlab.tensor(np.ones(1), requires_grad=True)], lr=1.0)
    sched = gls.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    with pytest.raises(TypeError, match="not an Optimizer"):
        gls.StepLR(object(), step_size=2)
    fresh = optim.SGD([gradlab.tensor(np.ones(1), requires_grad=True)], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        gls.ExponentialLR(fresh, gamma=0.5, last_epoch=3)


def test_no_warning_in_normal_use():
    opt = optim.Adam([gradlab.tensor(np.ones(1), requires_grad=True)], lr=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = gls.CosineAnnealingLR(opt, T_max=5)
        for _ in range(3):
            opt.step()
            sched.step()
