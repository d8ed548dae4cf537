"""Optimizers against torch.optim: same start, same synthetic gradients, trajectories compared step by step."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import gradlab
from gradlab import optim
from tests.helpers import assert_close, to_numpy

SHAPES = [(5, 3), (3,), (2, 2, 2)]
STEPS = 50


def grad_fn(p: np.ndarray, k: int) -> np.ndarray:
    """A bounded, parameter-dependent synthetic gradient for step ``k`` (same in both libraries)."""
    noise = np.random.default_rng(1000 + k).standard_normal(p.shape)
    return (np.tanh(p) + 0.5 * np.sin(3.0 * p + k) + 0.1 * p + 0.3 * noise).astype(p.dtype)


def initial_arrays(dtype=np.float64) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def make_groups(params: list, groups: list[dict] | None):
    """Split ``params`` into groups: ``groups[i]`` holds ``'idx'`` (parameter indices) plus options."""
    if groups is None:
        return params
    return [{**{k: v for k, v in g.items() if k != "idx"}, "params": [params[i] for i in g["idx"]]} for g in groups]


def set_grads(gl_params, th_params, torch, k: int, none_every: int | None) -> None:
    for i, (gp, tp) in enumerate(zip(gl_params, th_params)):
        if none_every and i == len(gl_params) - 1 and k % none_every == 0:
            gp.grad = None  # a parameter with no gradient this step is skipped (no state update at all)
            tp.grad = None
            continue
        gp.grad = gradlab.tensor(grad_fn(gp.detach().numpy(), k))
        tp.grad = torch.from_numpy(grad_fn(tp.detach().numpy(), k))


def make_pair(torch, name, kwargs, groups=None, dtype=np.float64):
    init = initial_arrays(dtype)
    gl_params = [gradlab.tensor(a.copy(), requires_grad=True) for a in init]
    th_params = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    gl_opt = getattr(optim, name)(make_groups(gl_params, groups), **kwargs)
    th_opt = getattr(torch.optim, name)(make_groups(th_params, groups), **kwargs, foreach=False)
    return gl_params, th_params, gl_opt, th_opt


def run_and_compare(torch, gl_params, th_params, gl_opt, th_opt, steps, start=0, none_every=3, rtol=1e-6, atol=1e-10):
    for k in range(start, start + steps):
        set_grads(gl_params, th_params, torch, k, none_every)
        gl_opt.step()
        th_opt.step()
        for i, (gp, tp) in enumerate(zip(gl_params, th_params)):
            assert_close(gp, tp, rtol=rtol, atol=atol, msg=f"param {i} after step {k}:")


CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05, "maximize": True}),
    ("SGD", {"lr": 0.05, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.01, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True}),  # lerp weight >= 0.5 takes torch's other branch
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9)}),  # lerp weight >= 0.5
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
]


def case_id(case) -> str:
    name, kw = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")


@pytest.mark.kernel_sets  # numpy and numba kernels (gradlab.kernels.optim)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trajectory_matches_torch(torch, case):
    name, kwargs = case
    pair = make_pair(torch, name, kwargs)
    run_and_compare(torch, *pair, steps=STEPS)


@pytest.mark.kernel_sets  # numpy and numba kernels (gradlab.kernels.optim)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_matches_torch(torch, case):
    """Per-parameter state has torch's keys and values (the step count as a Python int)."""
    name, kwargs = case
    gl_params, th_params, gl_opt, th_opt = make_pair(torch, name, kwargs)
    run_and_compare(torch, gl_params, th_params, gl_opt, th_opt, steps=7)
    for gp, tp in zip(gl_params, th_params):
        gs, ts = gl_opt.state[gp], th_opt.state[tp]
        assert set(gs) == set(ts)
        for key, tv in ts.items():
            if key == "step":
                assert isinstance(gs[key], int) and gs[key] == int(tv.item())
            else:
                assert isinstance(gs[key], np.ndarray)
                assert gs[key].dtype == gp.dtype
                assert_close(gs[key], tv, rtol=1e-6, atol=1e-10, msg=key)


@pytest.mark.kernel_sets  # numpy and numba kernels (gradlab.kernels.optim)
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9}),
        ("RMSprop", {"centered": True}),
        ("Adagrad", {"lr": 0.1}),
        ("Adam", {"lr": 0.01, "amsgrad": True}),
        ("AdamW", {"lr": 0.01}),
    ],
)
def test_param_groups_with_different_options(torch, name, kwargs):
    groups = [{"idx": [0], "lr": 0.003}, {"idx": [1, 2], "weight_decay": 0.2, "maximize": True}]
    pair = make_pair(torch, name, kwargs, groups=groups)
    gl_opt = pair[2]
    assert [g["lr"] for g in gl_opt.param_groups] == [0.003, kwargs.get("lr", gl_opt.defaults["lr"])]
    run_and_compare(torch, *pair, steps=30)


@pytest.mark.kernel_sets  # numpy and numba kernels (gradlab.kernels.optim)
@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 0.05, "momentum": 0.9}), ("Adam", {"lr": 0.01})])
def test_float32_matches_torch(torch, name, kwargs):
    gl_params, th_params, gl_opt, th_opt = make_pair(torch, name, kwargs, dtype=np.float32)
    run_and_compare(torch, gl_params, th_params, gl_opt, th_opt, steps=20, rtol=2e-5, atol=1e-6)
    for p in gl_params:
        assert p.dtype == np.float32
        for v in gl_opt.state[p].values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32


@pytest.mark.kernel_sets  # numpy and numba kernels (gradlab.kernels.optim)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dict_round_trip_continues_identically(torch, case):
    """Save after 20 steps, load into a fresh optimizer over copies of the parameters: the next 20 steps of the
    restored run equal the uninterrupted run exactly, and both still follow torch."""
    name, kwargs = case
    gl_params, th_params, gl_opt, th_opt = make_pair(torch, name, kwargs)
    run_and_compare(torch, gl_params, th_params, gl_opt, th_opt, steps=20)

    sd = gl_opt.state_dict()
    sd_before = copy.deepcopy(sd)
    restored_params = [gradlab.tensor(p.detach().numpy().copy(), requires_grad=True) for p in gl_params]
    restored = getattr(optim, name)(restored_params)  # default hyper-parameters: the state dict brings them
    restored.load_state_dict(sd)

    for k in range(20, 40):
        set_grads(gl_params, th_params, torch, k, none_every=3)
        for rp, gp in zip(restored_params, gl_params):
            rp.grad = None if gp.grad is None else gradlab.tensor(gp.grad.detach().numpy().copy())
        gl_opt.step()
        th_opt.step()
        restored.step()
        for gp, rp, tp in zip(gl_params, restored_params, th_params):
            np.testing.assert_array_equal(rp.data, gp.data)
            assert_close(gp, tp, rtol=1e-6, atol=1e-10)

    # the state dict taken earlier is a snapshot: later steps (of either optimizer) did not change it
    for idx, st in sd_before["state"].items():
        for key, v in st.items():
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(sd["state"][idx][key], v)


def test_state_dict_layout_is_torchs(torch):
    gl_params, th_params, gl_opt, th_opt = make_pair(
        torch, "Adam", {"lr": 0.01}, groups=[{"idx": [2]}, {"idx": [0, 1], "lr": 0.1}]
    )
    run_and_compare(torch, gl_params, th_params, gl_opt, th_opt, steps=2, none_every=None)
    gsd, tsd = gl_opt.state_dict(), th_opt.state_dict()
    assert sorted(gsd) == ["param_groups", "state"]
    assert sorted(gsd["state"]) == sorted(tsd["state"]) == [0, 1, 2]
    assert [g["params"] for g in gsd["param_groups"]] == [g["params"] for g in tsd["param_groups"]] == [[0], [1, 2]]
    for gg, tg in zip(gsd["param_groups"], tsd["param_groups"]):
        for key in gg:
            assert gg[key] == tg[key], key
    # state 0 belongs to the first group's parameter (SHAPES[2])
    assert gsd["state"][0]["exp_avg"].shape == SHAPES[2]


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9}),
        ("RMSprop", {"centered": True, "momentum": 0.3}),
        ("Adagrad", {"lr": 0.1}),
        ("Adam", {"lr": 0.01, "amsgrad": True}),
    ],
)
def test_loads_a_torch_state_dict(torch, name, kwargs):
    """A torch state dict (tensors turned into arrays) loads into the gradlab optimizer, which then keeps
    following torch."""
    gl_params, th_params, gl_opt, th_opt = make_pair(torch, name, kwargs)
    init = initial_arrays()
    # torch runs 10 steps alone; gradlab starts from torch's parameters and state
    for k in range(10):
        set_grads(gl_params, th_params, torch, k, none_every=3)
        th_opt.step()
    for gp, tp in zip(gl_params, th_params):
        gp.data[...] = tp.detach().numpy()
    assert not np.allclose(gl_params[0].data, init[0])
    tsd = th_opt.state_dict()
    converted = {
        "state": {
            i: {k: (v.numpy() if hasattr(v, "numpy") else v) for k, v in s.items()} for i, s in tsd["state"].items()
        },
        "param_groups": tsd["param_groups"],
    }
    gl_opt.load_state_dict(converted)
    for s in gl_opt.state.values():
        if "step" in s:
            assert isinstance(s["step"], int)
    run_and_compare(torch, gl_params, th_params, gl_opt, th_opt, steps=10, start=10)


def test_load_state_dict_validates():
    p = [gradlab.tensor(np.zeros(3), requires_grad=True), gradlab.tensor(np.zeros(2), requires_grad=True)]
    opt = optim.Adam(p, lr=0.1)
    for q in p:
        q.grad = gradlab.tensor(np.ones(q.shape))
    opt.step()
    sd = opt.state_dict()

    two_groups = optim.Adam([{"params": [p[0]]}, {"params": [p[1]]}])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two_groups.load_state_dict(sd)

    one_param = optim.Adam([p[0]])
    with pytest.raises(ValueError, match="doesn't match the size"):
        one_param.load_state_dict(sd)

    swapped = optim.Adam([p[1], p[0]])
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        swapped.load_state_dict(sd)

    with pytest.raises(ValueError, match="missing"):
        opt.load_state_dict({"state": {}})
    with pytest.raises(TypeError):
        opt.load_state_dict([1, 2])


def test_load_state_dict_tolerates_lists_and_string_keys():
    """What a JSON round trip does to a state dict: tuples become lists, int keys strings."""
    p = gradlab.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.5, 0.6))
    p.grad = gradlab.tensor(np.ones(3))
    opt.step()
    sd = opt.state_dict()
    jsonish = {
        "state": {
            str(i): {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for i, s in sd["state"].items()
        },
        "param_groups": [{**g, "betas": list(g["betas"])} for g in sd["param_groups"]],
    }
    q = gradlab.tensor(np.ones(3), requires_grad=True)
    opt2 = optim.Adam([q])
    opt2.load_state_dict(jsonish)
    assert opt2.param_groups[0]["betas"] == (0.5, 0.6)
    assert isinstance(opt2.param_groups[0]["betas"], tuple)
    assert opt2.param_groups[0]["lr"] == 0.1
    st = opt2.state[q]
    assert st["step"] == 1 and isinstance(st["exp_avg"], np.ndarray)
    np.testing.assert_array_equal(st["exp_avg"], opt.state[p]["exp_avg"])


def test_load_state_dict_casts_to_param_dtype_and_copies():
    p = gradlab.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    buf = np.full(3, 0.5, dtype=np.float64)
    opt.load_state_dict({"state": {0: {"momentum_buffer": buf}}, "param_groups": [opt.state_dict()["param_groups"][0]]})
    mb = opt.state[p]["momentum_buffer"]
    assert mb.dtype == np.float32 and mb is not buf
    p.grad = gradlab.tensor(np.zeros(3, dtype=np.float32))
    opt.step()
    np.testing.assert_array_equal(buf, 0.5)  # the loaded dict is not modified by later steps


def test_updates_are_in_place_and_leave_grads_alone():
    for name, kw in CASES:
        p = gradlab.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        arr = p._data
        opt = getattr(optim, name)([p], **kw)
        for k in range(3):
            g = grad_fn(p._data, k)
            p.grad = gradlab.tensor(g.copy())
            opt.step()
            np.testing.assert_array_equal(p.grad.data, g)
        assert p._data is arr, name
        assert not np.allclose(arr, np.linspace(-1, 1, 6).reshape(2, 3)), name


def test_skips_params_without_grad():
    p, q = gradlab.tensor(np.ones(2), requires_grad=True), gradlab.tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([p, q], lr=0.1)
    p.grad = gradlab.tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(q.data, 1.0)
    assert q not in opt.state and len(opt.state[p]) == 3


def test_zero_grad():
    p = gradlab.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = gradlab.tensor(np.ones(3))
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and not p.grad.data.any()
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad()  # nothing to do


def test_closure_runs_with_grad_enabled_and_returns_loss(torch):
    w = gradlab.tensor(np.array([1.0, -2.0]), requires_grad=True)
    tw = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.5)

    def closure():
        opt.zero_grad()
        loss = ((w - 3.0) ** 2).sum()
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = ((tw - 3.0) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(5):
        with gradlab.no_grad():
            loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert_close(loss, tloss)
        assert_close(w, tw)


def test_constructor_errors():
    p = gradlab.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({p}, lr=0.1)  # a set
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    nonleaf = p * 2.0
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([nonleaf], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


@pytest.mark.parametrize(
    "factory,match",
    [
        (lambda ps: optim.SGD(ps, lr=-1), "learning rate"),
        (lambda ps: optim.SGD(ps, momentum=-0.1), "momentum"),
        (lambda ps: optim.SGD(ps, nesterov=True), "Nesterov"),
        (lambda ps: optim.SGD(ps, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
        (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), "beta parameter at index 0"),
        (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), "beta parameter at index 1"),
        (lambda ps: optim.Adam(ps, eps=-1), "epsilon"),
        (lambda ps: optim.AdamW(ps, weight_decay=-1), "weight_decay"),
        (lambda ps: optim.RMSprop(ps, alpha=-1), "alpha"),
        (lambda ps: optim.Adagrad(ps, lr_decay=-1), "lr_decay"),
        (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1), "initial_accumulator_value"),
    ],
)
def test_hyperparameter_validation(factory, match):
    with pytest.raises(ValueError, match=match):
        factory([gradlab.tensor(np.ones(2), requires_grad=True)])


def test_add_param_group_and_lr_change(torch):
    init = initial_arrays()
    gl = [gradlab.tensor(a.copy(), requires_grad=True) for a in init]
    th = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    for name, kw in [("Adagrad", {"lr": 0.1}), ("Adam", {"lr": 0.01}), ("SGD", {"lr": 0.1, "momentum": 0.9})]:
        gl = [gradlab.tensor(a.copy(), requires_grad=True) for a in init]
        th = [torch.tensor(a.copy(), requires_grad=True) for a in init]
        gopt = getattr(optim, name)(gl[:2], **kw)
        topt = getattr(torch.optim, name)(th[:2], **kw, foreach=False)
        gopt.add_param_group({"params": gl[2], "lr": 0.02})
        topt.add_param_group({"params": th[2], "lr": 0.02})
        if name == "Adagrad":  # torch's Adagrad only creates state in its constructor
            topt.state[th[2]] = {"step": torch.tensor(0.0), "sum": torch.zeros_like(th[2])}
        for k in range(10):
            if k == 5:
                for g in gopt.param_groups + topt.param_groups:
                    g["lr"] *= 0.5
            set_grads(gl, th, torch, k, none_every=None)
            gopt.step()
            topt.step()
            for gp, tp in zip(gl, th):
                assert_close(gp, tp, rtol=1e-6, atol=1e-10, msg=name)


def test_step_hooks_and_repr():
    p = gradlab.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, kw: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, kw: calls.append("post"))
    p.grad = gradlab.tensor(np.ones(2))
    opt.step()
    h1.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.1" in text


def test_state_is_keyed_by_parameter():
    p = gradlab.tensor(np.ones(2), requires_grad=True)
    q = gradlab.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1, momentum=0.9)
    p.grad = gradlab.tensor(np.ones(2))
    opt.step()
    assert p in opt.state and q not in opt.state
    assert opt.state.get(q) is None and q not in opt.state  # get does not create
    assert list(opt.state.keys()) == [p]
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], 1.0)


def test_subclass_step_calling_super_runs_hooks_once():
    class MySGD(optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    p = gradlab.tensor(np.ones(2), requires_grad=True)
    opt = MySGD([p], lr=0.1)
    calls = []
    opt.register_step_post_hook(lambda o, a, kw: calls.append(1))
    p.grad = gradlab.tensor(np.ones(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert calls == [1]
    assert_close(to_numpy(p), np.full(2, 0.9))


def test_deepcopy_of_optimizer_keeps_state_attached(torch):
    """copy.deepcopy(optimizer) copies the parameters too; the copy's state must follow its own parameters."""
    gl_params, th_params, gl_opt, th_opt = make_pair(torch, "Adam", {"lr": 0.01})
    run_and_compare(torch, gl_params, th_params, gl_opt, th_opt, steps=5, none_every=None)
    clone = copy.deepcopy(gl_opt)
    cloned_params = clone.param_groups[0]["params"]
    assert all(c is not p for c, p in zip(cloned_params, gl_params))
    for c, p in zip(cloned_params, gl_params):
        assert c in clone.state and clone.state[c]["step"] == 5
        np.testing.assert_array_equal(clone.state[c]["exp_avg"], gl_opt.state[p]["exp_avg"])
        assert clone.state[c]["exp_avg"] is not gl_opt.state[p]["exp_avg"]
