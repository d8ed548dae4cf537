"""Embedding against torch: lookup, gradients (with padding_idx, scale_grad_by_freq), max_norm, from_pretrained."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.nn.embedding import embedding
from tests.helpers import assert_close


def _pair(torch, num=10, dim=4, **kw):
    tm = torch.nn.Embedding(num, dim, **kw).double()
    gm = nn.Embedding(num, dim, dtype=gradlab.float64, **kw)
    gm.load_state_dict({"weight": tm.weight.detach().numpy()})
    return tm, gm


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_matches_torch_values_and_grads(torch, padding_idx, scale_grad_by_freq):
    tm, gm = _pair(torch, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)
    idx = np.array([[0, 3, 3, 9], [1, 0, 3, 2], [9, 9, 9, 5]])
    w = np.random.default_rng(0).standard_normal((3, 4, 4))
    t_out = tm(torch.from_numpy(idx))
    g_out = gm(gradlab.from_numpy(idx))
    assert_close(g_out, t_out)
    (t_out * torch.from_numpy(w)).sum().backward()
    (g_out * gradlab.from_numpy(w)).sum().backward()
    assert_close(gm.weight.grad, tm.weight.grad, rtol=1e-12, atol=1e-12)
    if padding_idx is not None:
        assert np.all(gm.weight.grad.numpy()[padding_idx] == 0)


def test_init_and_padding_row():
    emb = nn.Embedding(50, 8, padding_idx=2)
    w = emb.weight.detach().numpy()
    assert emb.weight.dtype == gradlab.float32 and w.shape == (50, 8)
    assert np.all(w[2] == 0)
    assert 0.7 < np.delete(w, 2, axis=0).std() < 1.3  # N(0, 1)
    assert repr(emb) == "Embedding(50, 8, padding_idx=2)"


def test_max_norm_renormalises_looked_up_rows(torch):
    tm, gm = _pair(torch, max_norm=1.0)
    idx = np.array([1, 4, 4, 7])
    t_out = tm(torch.from_numpy(idx))
    g_out = gm(gradlab.from_numpy(idx))
    assert_close(g_out, t_out, rtol=1e-6, atol=1e-7)
    assert_close(gm.weight, tm.weight, rtol=1e-6, atol=1e-7)  # rows renormalised in place, the others untouched


def test_from_pretrained(torch):
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(gradlab.from_numpy(w))
    assert not emb.weight.requires_grad
    assert emb(gradlab.tensor([3, 0])).tolist() == [[9.0, 10.0, 11.0], [0.0, 1.0, 2.0]]
    trainable = nn.Embedding.from_pretrained(gradlab.from_numpy(w.copy()), freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad and trainable.weight.data[1].tolist() == [3.0, 4.0, 5.0]
    trainable(gradlab.tensor([1, 2])).sum().backward()
    assert trainable.weight.grad.numpy()[1].tolist() == [0.0, 0.0, 0.0]
    assert trainable.weight.grad.numpy()[2].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(gradlab.zeros(3))


def test_functional_and_errors():
    w = gradlab.randn(5, 2, requires_grad=True)
    out = embedding(gradlab.tensor([[4, 4]]), w)
    assert out.shape == (1, 2, 2)
    out.sum().backward()
    assert w.grad.numpy()[4].tolist() == [2.0, 2.0]
    with pytest.raises(IndexError, match="out of range"):
        embedding(gradlab.tensor([5]), w)
    with pytest.raises(TypeError, match="integer"):
        embedding(gradlab.tensor([1.0]), w)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(NotImplementedError):
        nn.Embedding(5, 2, sparse=True)


def test_gradcheck():
    w = gradlab.randn(6, 3, dtype=gradlab.float64, requires_grad=True)
    idx = gradlab.tensor([[0, 5, 5], [2, 1, 0]])
    assert gradlab.gradcheck(lambda w: embedding(idx, w) ** 2, (w,))  # padding_idx zeroes a true gradient: not here
