"""``autograd.grad`` and ``autograd.backward`` against torch's (first order)."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab


def _graph(lib, a, w):
    x = lib.tensor(a, requires_grad=True)
    p = lib.tensor(w, requires_grad=True)
    h = (x @ p).tanh()
    return x, p, h, (h * h).sum() + x.sum()


def test_grad_matches_torch_and_leaves_dot_grad_alone(torch) -> None:
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    gx, gp, gh, gout = _graph(gradlab, a, w)
    tx, tp, th, tout = _graph(torch, a, w)
    got = gradlab.autograd.grad(gout, [gx, gh], retain_graph=True)
    want = torch.autograd.grad(tout, [tx, th], retain_graph=True)
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)
    assert gx.grad is None and gp.grad is None
    (g_only,) = gradlab.autograd.grad(gout, gp)
    np.testing.assert_allclose(g_only.numpy(), torch.autograd.grad(tout, tp)[0].numpy(), rtol=1e-12)


def test_grad_keeps_existing_grads_and_weights_by_grad_outputs(torch) -> None:
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    x.grad = gradlab.tensor([10.0, 10.0])
    y = x * x
    (g,) = gradlab.autograd.grad(y, x, grad_outputs=gradlab.tensor([1.0, 0.5]))
    assert g.tolist() == [2.0, 2.0] and x.grad.tolist() == [10.0, 10.0]
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    (tg,) = torch.autograd.grad([tx * 2, tx * tx], tx, grad_outputs=[torch.ones(2), torch.ones(2)])
    (gg,) = gradlab.autograd.grad([x * 2, x * x], x, grad_outputs=[gradlab.ones(2), gradlab.ones(2)])
    assert gg.tolist() == tg.tolist()


def test_unused_inputs_and_unsupported_options() -> None:
    x = gradlab.tensor([1.0], requires_grad=True)
    z = gradlab.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        gradlab.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = gradlab.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gx.tolist() == [2.0] and gz is None
    _, gz = gradlab.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0]
    with pytest.raises(NotImplementedError, match="first-order"):
        gradlab.autograd.grad((x * 2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        gradlab.autograd.grad((x * 2).sum(), gradlab.ones(1))


def test_backward_function_accumulates_as_torch(torch) -> None:
    x, tx = gradlab.tensor([1.0, 3.0], requires_grad=True), torch.tensor([1.0, 3.0], requires_grad=True)
    gradlab.autograd.backward([(x * x).sum(), x * 2], [None, gradlab.ones(2)])
    torch.autograd.backward([(tx * tx).sum(), tx * 2], [None, torch.ones(2)])
    assert x.grad.tolist() == tx.grad.tolist()
