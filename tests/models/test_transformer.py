"""``CharTransformer``: shapes, causality, weight tying, torch parity of the state dict and of the forward and
backward passes, float64 gradcheck, the context window and sampling."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.data.text import Vocab
from gradlab.models import CharTransformer, build_model, list_models, sample
from gradlab.models.transformer import sinusoidal_positions
from gradlab.nn import functional as F
from tests.helpers import assert_close

V = 7


def _ids(n, t, seed=0, vocab=V):
    return gradlab.tensor(np.random.default_rng(seed).integers(0, vocab, (n, t)))


def _tiny(**kw):
    args = {"vocab_size": V, "d_model": 8, "nhead": 2, "num_layers": 2, "dim_feedforward": 16, "context": 6}
    return CharTransformer(**{**args, **kw})


def test_registered_and_shapes():
    assert "transformer" in list_models()
    m = build_model("transformer", vocab_size=V, d_model=8, nhead=2, num_layers=1, context=5)
    assert isinstance(m, CharTransformer) and len(m.encoder.layers) == 1
    assert m.encoder.layers[0].linear1.out_features == 32  # 4 x d_model by default
    assert m(_ids(3, 5)).shape == (3, 5, V) and m(_ids(3, 1)).shape == (3, 1, V)
    with pytest.raises(ValueError, match="longer than the context"):
        m(_ids(1, 6))
    with pytest.raises(ValueError, match=r"expects character ids \(N, T\)"):
        m(gradlab.zeros(5, dtype=gradlab.int64))


@pytest.mark.parametrize(("kw", "fragment"), [
    ({"d_model": 10, "nhead": 4}, "d_model (10) must be divisible by nhead (4)"),
    ({"positional": "rotary"}, "positional must be one of"),
    ({"context": 0}, "context must be an integer >= 1"),
    ({"num_layers": 0}, "num_layers must be an integer >= 1"),
])
def test_bad_options_name_the_problem(kw, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        _tiny(**kw)


@pytest.mark.parametrize("positional", ["learned", "sinusoidal"])
@pytest.mark.parametrize("norm_first", [True, False])
def test_causal_a_later_character_leaves_earlier_logits_unchanged(positional, norm_first):
    gradlab.manual_seed(0)
    m = _tiny(positional=positional, norm_first=norm_first).eval()
    ids = _ids(2, 6).numpy()
    base = m(gradlab.tensor(ids)).detach().numpy()
    for k in range(6):
        changed = ids.copy()
        changed[:, k] = (changed[:, k] + 1) % V
        out = m(gradlab.tensor(changed)).detach().numpy()
        assert_close(out[:, :k], base[:, :k], rtol=1e-6, atol=1e-6)
        assert np.abs(out[:, k:] - base[:, k:]).max() > 1e-4  # the changed position and later ones do see it


def test_weight_tying_shares_one_parameter():
    m = _tiny(tie_weights=True)
    assert m.head.weight is m.tok.weight
    names = [n for n, _ in m.named_parameters()]
    assert "head.weight" not in names and len(list(m.parameters())) == len(names)
    keys = list(m.state_dict())
    assert keys[-2:] == ["head.weight", "head.bias"]  # the tied weight keeps its place, as in torch
    loss = F.cross_entropy(m(_ids(2, 6)).reshape(-1, V), _ids(2, 6, seed=1).reshape(-1))
    loss.backward()
    untied = _tiny()
    untied.load_state_dict(m.state_dict())
    F.cross_entropy(untied(_ids(2, 6)).reshape(-1, V), _ids(2, 6, seed=1).reshape(-1)).backward()
    both = untied.tok.weight.grad.detach().numpy() + untied.head.weight.grad.detach().numpy()
    assert_close(m.tok.weight.grad, both, atol=1e-6)  # the tied weight gets the gradients of both uses


def test_sinusoidal_positions_are_a_fixed_non_persistent_buffer():
    m = _tiny(positional="sinusoidal")
    assert not any(k.startswith("pos") or k == "pe" for k in m.state_dict())
    pe = sinusoidal_positions(50, 8)
    assert_close(m.pe, pe[:6])
    p, i = 7, 2  # PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(...)
    assert_close(pe[p, 2 * i], np.sin(p / 10000 ** (2 * i / 8)), atol=1e-6)
    assert_close(pe[p, 2 * i + 1], np.cos(p / 10000 ** (2 * i / 8)), atol=1e-6)
    assert sinusoidal_positions(3, 5).shape == (3, 5)  # odd widths too


def _torch_twin(torch, m, d, h, ff, layers, norm_first, tie):
    tnn = torch.nn

    class Twin(tnn.Module):
        def __init__(self):
            super().__init__()
            self.tok = tnn.Embedding(V, d)
            self.pos = tnn.Embedding(m.context, d)
            layer = tnn.TransformerEncoderLayer(d, h, ff, 0.0, activation="gelu", batch_first=True,
                                                norm_first=norm_first)
            self.encoder = tnn.TransformerEncoder(layer, layers, norm=tnn.LayerNorm(d), enable_nested_tensor=False)
            self.head = tnn.Linear(d, V)
            if tie:
                self.head.weight = self.tok.weight

        def forward(self, ids):
            t = ids.shape[1]
            x = self.tok(ids) + self.pos(torch.arange(t))
            mask = tnn.Transformer.generate_square_subsequent_mask(t)
            return self.head(self.encoder(x, mask=mask, is_causal=True))

    return Twin()


@pytest.mark.parametrize(("norm_first", "tie"), [(True, False), (False, True)])
def test_matches_torch_with_the_same_weights(torch, norm_first, tie):
    gradlab.manual_seed(0)
    m = _tiny(norm_first=norm_first, tie_weights=tie)
    twin = _torch_twin(torch, m, 8, 2, 16, 2, norm_first, tie)
    assert list(m.state_dict()) == list(twin.state_dict())  # same keys, same order
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    ids = _ids(3, 6, seed=2)
    target = _ids(3, 6, seed=3)
    logits = m(ids)
    t_logits = twin(torch.from_numpy(ids.numpy()))
    assert_close(logits, t_logits, rtol=1e-4, atol=1e-5)
    F.cross_entropy(logits.reshape(-1, V), target.reshape(-1)).backward()
    torch.nn.functional.cross_entropy(t_logits.reshape(-1, V), torch.from_numpy(target.numpy()).reshape(-1)).backward()
    t_params = dict(twin.named_parameters())
    for name, p in m.named_parameters():
        assert_close(p.grad, t_params[name].grad, rtol=1e-3, atol=1e-5, msg=name)


@pytest.mark.parametrize(("positional", "tie"), [("learned", True), ("sinusoidal", False)])
def test_gradcheck_float64(positional, tie):
    gradlab.manual_seed(1)
    m = CharTransformer(5, d_model=4, nhead=2, num_layers=1, dim_feedforward=6, context=4, positional=positional,
                        tie_weights=tie).double()
    ids, target = _ids(2, 4, seed=4, vocab=5), _ids(2, 4, seed=5, vocab=5)
    params = list(m.parameters())
    assert all(p.dtype == np.float64 for p in params)

    def loss(*_):
        return F.cross_entropy(m(ids).reshape(-1, 5), target.reshape(-1))

    assert gradlab.gradcheck(loss, params, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_forward_with_state_crops_to_the_context():
    gradlab.manual_seed(0)
    m = _tiny().eval()
    ids = _ids(1, 10)
    logits, window = m.forward_with_state(ids[:, :4])
    assert logits.shape == (1, 4, V) and window.shape == (1, 4)
    for t in range(4, 10):
        logits, window = m.forward_with_state(ids[:, t : t + 1], window)
        assert window.shape == (1, min(t + 1, 6))
    assert_close(window, ids[:, 4:])
    assert_close(logits, m(ids[:, 4:]))


def test_sampling_is_shared_and_reproducible():
    gradlab.manual_seed(0)
    vocab = Vocab("abcdefg")
    m = _tiny()
    a = sample(m, vocab, "abcdefgab", 20, 1.0, generator=gradlab.Generator(3))  # a prompt longer than the context
    assert a == sample(m, vocab, "abcdefgab", 20, 1.0, generator=gradlab.Generator(3))
    assert a.startswith("abcdefgab") and len(a) == 29 and set(a) <= set("abcdefg")
    assert sample(m, vocab, "ab", 8, 0.0) == sample(m, vocab, "ab", 8, 1.0, generator=gradlab.Generator(1), top_k=1)
    assert m.training  # sampling restores the mode


def test_learns_a_repeating_text():
    gradlab.manual_seed(0)
    text = np.array([0, 1, 2, 3, 4, 5, 6] * 6)
    x, y = gradlab.tensor(text[None, :24].repeat(4, 0)), gradlab.tensor(text[None, 1:25].repeat(4, 0))
    m = CharTransformer(V, d_model=16, nhead=2, num_layers=1, context=24)
    opt = gradlab.optim.Adam(m.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = F.cross_entropy(m(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] > 1.5 and losses[-1] < 0.1, losses[::8]


def test_parameters_order_follows_the_modules():
    m = _tiny()
    names = [n for n, _ in m.named_parameters()]
    assert names[:2] == ["tok.weight", "pos.weight"] and names[-2:] == ["head.weight", "head.bias"]
    assert isinstance(m.encoder, nn.TransformerEncoder) and m.encoder.norm is not None
