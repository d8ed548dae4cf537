"""End to end: an MLP trained with gradlab's optimizer + scheduler follows torch's; a checkpoint resumes it exactly."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import io as glio
from gradlab import nn, optim
from gradlab.optim import lr_scheduler
from tests.helpers import assert_close


@pytest.fixture(autouse=True)
def _one_torch_thread(torch):
    """torch's OpenMP threads and numpy's OpenBLAS threads fight over the cores when both run in one process."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def build(torch, seed=0):
    gl = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).double()
    th = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)).double()
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for gp, tp in zip(gl.parameters(), th.parameters()):
            arr = rng.standard_normal(gp.shape) * 0.5
            gp.data[...] = arr
            tp.copy_(torch.from_numpy(arr))
    return gl, th


def batches(n):
    rng = np.random.default_rng(42)
    for _ in range(n):
        yield rng.standard_normal((8, 6)), rng.integers(0, 3, size=8)


def train_step(torch, gl, th, gopt, topt, gsched, tsched, x, y):
    gopt.zero_grad()
    loss = nn.CrossEntropyLoss()(gl(gradlab.tensor(x)), gradlab.tensor(y))
    loss.backward()
    gopt.step()
    gsched.step()
    topt.zero_grad()
    tloss = torch.nn.CrossEntropyLoss()(th(torch.from_numpy(x)), torch.from_numpy(y))
    tloss.backward()
    topt.step()
    tsched.step()
    return loss, tloss


@pytest.mark.kernel_sets
@pytest.mark.parametrize(
    "opt_name,opt_kwargs",
    [
        ("Adam", {"lr": 0.01, "weight_decay": 1e-3}),
        ("AdamW", {"lr": 0.01}),
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ],
)
def test_mlp_training_follows_torch_and_resumes_from_checkpoint(torch, tmp_path, opt_name, opt_kwargs):
    gl, th = build(torch)
    gopt = getattr(optim, opt_name)(gl.parameters(), **opt_kwargs)
    topt = getattr(torch.optim, opt_name)(th.parameters(), **opt_kwargs)
    gsched = lr_scheduler.OneCycleLR(gopt, max_lr=0.05, total_steps=40)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.05, total_steps=40)
    data = list(batches(39))

    for k, (x, y) in enumerate(data[:20]):
        loss, tloss = train_step(torch, gl, th, gopt, topt, gsched, tsched, x, y)
        assert_close(loss, tloss, rtol=1e-9, atol=1e-12, msg=f"loss at step {k}")

    glio.save_checkpoint(
        tmp_path / "ck",
        model_state=gl.state_dict(),
        optimizer_state=gopt.state_dict(),
        scheduler_state=gsched.state_dict(),
        epoch=20,
        rng_state=gradlab.backend.default_generator.get_state(),
    )

    for x, y in data[20:]:
        train_step(torch, gl, th, gopt, topt, gsched, tsched, x, y)
    for gp, tp in zip(gl.parameters(), th.parameters()):
        assert_close(gp, tp, rtol=1e-8, atol=1e-10)

    # resume in a fresh model/optimizer/scheduler from the checkpoint: the same final weights, bit for bit
    ck = glio.load_checkpoint(tmp_path / "ck")
    gl2, _ = build(torch, seed=7)
    gl2.load_state_dict(ck["model_state"])
    gopt2 = getattr(optim, opt_name)(gl2.parameters(), **opt_kwargs)
    gsched2 = lr_scheduler.OneCycleLR(gopt2, max_lr=0.05, total_steps=40)
    gopt2.load_state_dict(ck["optimizer_state"])
    gsched2.load_state_dict(ck["scheduler_state"])
    assert ck["epoch"] == 20
    for x, y in data[20:]:
        gopt2.zero_grad()
        nn.CrossEntropyLoss()(gl2(gradlab.tensor(x)), gradlab.tensor(y)).backward()
        gopt2.step()
        gsched2.step()
    for p2, p in zip(gl2.parameters(), gl.parameters()):
        np.testing.assert_array_equal(p2.data, p.data)


def test_model_state_dict_save_load(torch, tmp_path):
    gl, _ = build(torch)
    glio.save(gl.state_dict(), tmp_path / "mlp.safetensors")
    gl2, _ = build(torch, seed=3)
    gl2.load_state_dict(glio.load(tmp_path / "mlp.safetensors"))
    for p2, p in zip(gl2.parameters(), gl.parameters()):
        np.testing.assert_array_equal(p2.data, p.data)
        assert p2.dtype == np.float64
