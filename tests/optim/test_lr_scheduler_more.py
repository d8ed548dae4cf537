"""LinearLR, ConstantLR, MultiplicativeLR, SequentialLR, CyclicLR and CosineAnnealingWarmRestarts against torch:
lr (and momentum) sequences over 100 steps, state-dict round trips."""

from __future__ import annotations

import warnings

import pytest

from gradlab.optim import lr_scheduler as gls
from tests.optim.test_lr_scheduler import assert_same, compare, make_optimizers


class Halve:
    """A callable object (its state goes into the state dict, as torch saves it)."""

    def __init__(self) -> None:
        self.factor = 0.97

    def __call__(self, epoch: int) -> float:
        return self.factor if epoch % 3 else 1.0


def _build(lib_sched, opt, name, kwargs):
    if name == "SequentialLR":
        subs = [getattr(lib_sched, n)(opt, **kw) for n, kw in kwargs["schedulers"]]
        return lib_sched.SequentialLR(opt, subs, milestones=kwargs["milestones"])
    if name == "MultiplicativeLR":
        return lib_sched.MultiplicativeLR(opt, kwargs["lr_lambda"]())
    return getattr(lib_sched, name)(opt, **kwargs)


SCHEDULERS = [
    ("LinearLR", {}, "SGD", {}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.5, "total_iters": 30}, "SGD", {}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 100}, "SGD", {}),
    ("ConstantLR", {}, "SGD", {}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 20}, "SGD", {}),
    ("MultiplicativeLR", {"lr_lambda": lambda: lambda e: 0.95}, "SGD", {}),
    ("MultiplicativeLR", {"lr_lambda": Halve}, "SGD", {}),
    ("CosineAnnealingWarmRestarts", {"T_0": 10}, "SGD", {}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}, "SGD", {}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 7}, "SGD", {"momentum": 0.9}),
    (
        "CyclicLR",
        {"base_lr": [0.01, 0.02], "max_lr": 0.2, "step_size_up": 5, "step_size_down": 9, "mode": "triangular2"},
        "SGD",
        {"momentum": 0.9},
    ),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 4, "mode": "exp_range", "gamma": 0.97}, "Adam", {}),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 4, "cycle_momentum": False}, "Adagrad", {}),
    (
        "SequentialLR",
        {
            "schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 10}), ("ExponentialLR", {"gamma": 0.9})],
            "milestones": [10],
        },
        "SGD",
        {},
    ),
    (
        "SequentialLR",
        {
            "schedulers": [
                ("ConstantLR", {"factor": 0.2, "total_iters": 4}),
                ("CosineAnnealingLR", {"T_max": 20}),
                ("StepLR", {"step_size": 5, "gamma": 0.5}),
            ],
            "milestones": [6, 40],
        },
        "SGD",
        {},
    ),
]


@pytest.mark.parametrize("case", SCHEDULERS, ids=[f"{i}-{c[0]}" for i, c in enumerate(SCHEDULERS)])
def test_schedule_matches_torch(torch, case):
    name, kwargs, opt_name, opt_kwargs = case
    gl_opt, th_opt = make_optimizers(torch, opt_name, **opt_kwargs)
    gl_sched = _build(gls, gl_opt, name, kwargs)
    th_sched = _build(torch.optim.lr_scheduler, th_opt, name, kwargs)
    keys = ("lr", "momentum") if "momentum" in opt_kwargs else ("lr", "betas") if opt_name == "Adam" else ("lr",)
    compare(torch, gl_opt, th_opt, gl_sched, th_sched, steps=100, keys=keys)


@pytest.mark.parametrize("case", SCHEDULERS, ids=[f"{i}-{c[0]}" for i, c in enumerate(SCHEDULERS)])
def test_state_dict_resume_matches_uninterrupted(torch, case):
    name, kwargs, opt_name, opt_kwargs = case
    gl_opt, th_opt = make_optimizers(torch, opt_name, **opt_kwargs)
    gl_sched = _build(gls, gl_opt, name, kwargs)
    th_sched = _build(torch.optim.lr_scheduler, th_opt, name, kwargs)
    compare(torch, gl_opt, th_opt, gl_sched, th_sched, steps=23)
    opt_state, sched_state = gl_opt.state_dict(), gl_sched.state_dict()
    assert "optimizer" not in sched_state

    gl_opt2, _ = make_optimizers(torch, opt_name, lrs=(5.0, 5.0), **opt_kwargs)
    gl_sched2 = _build(gls, gl_opt2, name, kwargs)
    gl_opt2.load_state_dict(opt_state)
    gl_sched2.load_state_dict(sched_state)
    assert_same(gl_sched2.get_last_lr(), th_sched.get_last_lr())
    compare(torch, gl_opt2, th_opt, gl_sched2, th_sched, steps=40)


def test_warm_restarts_fractional_epochs_match_torch(torch):
    gl_opt, th_opt = make_optimizers(torch)
    gl_sched = gls.CosineAnnealingWarmRestarts(gl_opt, T_0=4, T_mult=2)
    th_sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(th_opt, T_0=4, T_mult=2)
    for epoch in [0.5, 1.25, 3.9, 4.0, 7.5, 12.1, 30.0, 2.0]:
        gl_opt.step()
        th_opt.step()
        gl_sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            th_sched.step(epoch)
        assert_same(gl_sched.get_last_lr(), th_sched.get_last_lr(), f"epoch {epoch}")
        assert gl_sched.T_i == th_sched.T_i and gl_sched.T_cur == pytest.approx(th_sched.T_cur)


def test_validation(torch):
    gl_opt, _ = make_optimizers(torch)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        gls.LinearLR(gl_opt, start_factor=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        gls.ConstantLR(gl_opt, factor=2.0)
    with pytest.raises(ValueError, match="T_0"):
        gls.CosineAnnealingWarmRestarts(gl_opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult"):
        gls.CosineAnnealingWarmRestarts(gl_opt, T_0=2, T_mult=1.5)
    with pytest.raises(ValueError, match="mode is invalid"):
        gls.CyclicLR(gl_opt, 0.1, 1.0, mode="sawtooth")
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        gls.MultiplicativeLR(gl_opt, [0.5, 0.5])
    with pytest.raises(ValueError, match="number of milestone"):
        gls.SequentialLR(gl_opt, [gls.LinearLR(gl_opt), gls.ConstantLR(gl_opt)], milestones=[])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        gls.SequentialLR(gl_opt, [gls.ReduceLROnPlateau(gl_opt)], milestones=[])
    other, _ = make_optimizers(torch)
    with pytest.raises(ValueError, match="same optimizer"):
        gls.SequentialLR(gl_opt, [gls.LinearLR(other)], milestones=[])
    adagrad, _ = make_optimizers(torch, "Adagrad")
    with pytest.raises(ValueError, match="momentum or beta1"):
        gls.CyclicLR(adagrad, 0.1, 1.0)


def test_chained_scheduler_matches_torch(torch):
    gl_opt, th_opt = make_optimizers(torch)

    def build(lib, opt):
        return lib.ChainedScheduler([lib.ConstantLR(opt, factor=0.3, total_iters=7), lib.ExponentialLR(opt, 0.95)])

    gl_sched, th_sched = build(gls, gl_opt), build(torch.optim.lr_scheduler, th_opt)
    assert_same(gl_sched.get_last_lr(), th_sched.get_last_lr())
    for k in range(30):
        gl_opt.step(), th_opt.step()
        gl_sched.step(), th_sched.step()
        assert_same(gl_sched.get_last_lr(), th_sched.get_last_lr(), f"step {k}")
    state = gl_sched.state_dict()
    gl_opt2, _ = make_optimizers(torch)
    restored = build(gls, gl_opt2)
    gl_opt2.load_state_dict(gl_opt.state_dict())
    restored.load_state_dict(state)
    for k in range(10):
        gl_opt2.step(), th_opt.step()
        restored.step(), th_sched.step()
        assert_same(restored.get_last_lr(), th_sched.get_last_lr(), f"resumed step {k}")
    with pytest.raises(ValueError, match="at least one"):
        gls.ChainedScheduler([])
