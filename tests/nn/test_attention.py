"""Attention against torch with the same weights: F.scaled_dot_product_attention, nn.MultiheadAttention and the
transformer layers/stacks (outputs, attention weights, gradients of inputs and of every parameter)."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
import gradlab.nn.functional as F
from gradlab import nn
from tests.helpers import assert_close, to_torch
from tests.nn.common import copy_from_torch, tol


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _run_both(gl_fn, th_fn, arrays, dtype, gl_module=None, th_module=None, extra=()):
    """Call both with the same inputs; compare outputs, then backprop the same upstream gradient and compare input
    and parameter gradients. ``extra``: further outputs (index) compared too (e.g. attention weights)."""
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    gin = [gradlab.tensor(a, requires_grad=True) for a in arrays]
    tin = [to_torch(a, requires_grad=True) for a in arrays]
    gout, tout = gl_fn(*gin), th_fn(*tin)
    gouts = gout if isinstance(gout, tuple) else (gout,)
    touts = tout if isinstance(tout, tuple) else (tout,)
    t = tol(dtype)
    assert_close(gouts[0], touts[0], **t, msg="output")
    for i in extra:
        assert_close(gouts[i], touts[i], **t, msg=f"output {i}")
    up = _x(gouts[0].shape, seed=7).astype(dtype)
    gouts[0].backward(up)
    touts[0].backward(to_torch(up))
    for i, (g, th) in enumerate(zip(gin, tin)):
        assert_close(g.grad, th.grad, **t, msg=f"grad of input {i}")
    if gl_module is not None:
        tparams = dict(th_module.named_parameters())
        gparams = dict(gl_module.named_parameters())
        assert sorted(gparams) == sorted(tparams)
        for name, tp in tparams.items():
            assert_close(gparams[name].grad, tp.grad, **t, msg=f"grad of {name}")


def _pair(torch, name, *args, dtype=np.float64, **kwargs):
    t = getattr(torch.nn, name)(*args, **kwargs)
    g = getattr(nn, name)(*args, **kwargs)
    if dtype == np.float64:
        t.double(), g.double()
    with torch.no_grad():  # non-trivial biases (torch zeroes some at init)
        for p in t.parameters():
            if p.ndim == 1:
                p.uniform_(-0.5, 0.5)
    copy_from_torch(g, t)
    return g, t


# ---------------------------------------------------------------------------------------------------- SDPA
SDPA_CASES = [
    ({}, ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 3))),
    ({"is_causal": True}, ((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4))),
    ({"is_causal": True}, ((2, 4, 4), (2, 6, 4), (2, 6, 2))),  # causal with L < S: top-left aligned
    ({"scale": 0.3, "mask": "bool"}, ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4))),
    ({"mask": "float"}, ((2, 5, 4), (2, 6, 4), (2, 6, 4))),
    ({"mask": "bool_batched"}, ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4))),
    ({"enable_gqa": True}, ((2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 4))),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", SDPA_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c[0].items()) or "plain")
def test_sdpa_matches_torch(torch, case, dtype):
    kwargs, shapes = dict(case[0]), case[1]
    mask_kind = kwargs.pop("mask", None)
    length, source = shapes[0][-2], shapes[1][-2]
    rng = np.random.default_rng(3)
    if mask_kind == "bool":
        m = rng.random((length, source)) > 0.3
        m[:, 0] = True  # no row fully masked
        kwargs["attn_mask"] = m
    elif mask_kind == "bool_batched":
        m = rng.random((2, 1, length, source)) > 0.4
        m[..., 1] = True
        kwargs["attn_mask"] = m
    elif mask_kind == "float":
        kwargs["attn_mask"] = rng.standard_normal((length, source)).astype(dtype)

    def gl(q, k, v):
        kw = dict(kwargs)
        if "attn_mask" in kw:
            kw["attn_mask"] = gradlab.tensor(kw["attn_mask"])
        return F.scaled_dot_product_attention(q, k, v, **kw)

    def th(q, k, v):
        kw = dict(kwargs)
        if "attn_mask" in kw:
            kw["attn_mask"] = torch.from_numpy(np.array(kw["attn_mask"]))
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, **kw)

    _run_both(gl, th, [_x(s, i) for i, s in enumerate(shapes)], dtype)


def test_sdpa_dropout_and_errors():
    gradlab.manual_seed(0)
    q = gradlab.ones(1, 4, 8)
    out = F.scaled_dot_product_attention(q, q, gradlab.tensor(np.eye(4)[None]), dropout_p=0.5)
    vals = set(np.round(np.unique(out.numpy()), 6))
    assert vals <= {0.0, 0.5}  # uniform weights 1/4, kept ones scaled by 2
    with pytest.raises(ValueError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool), is_causal=True)
    with pytest.raises(ValueError, match="last dim"):
        F.scaled_dot_product_attention(q, gradlab.ones(1, 4, 7), q)


# ---------------------------------------------------------------------------------------------------- MHA
MHA_CASES = [
    ({}, {}, "self"),
    ({"batch_first": True}, {}, "self"),
    ({"batch_first": True}, {"need_weights": False}, "cross"),
    ({}, {"average_attn_weights": False}, "cross"),
    ({"bias": False, "batch_first": True}, {}, "kv_same"),
    ({"kdim": 5, "vdim": 3, "batch_first": True}, {}, "cross"),
    ({"add_bias_kv": True}, {"key_padding_mask": "bool", "attn_mask": "bool2d"}, "self"),
    ({"add_zero_attn": True, "batch_first": True}, {"attn_mask": "float3d"}, "cross"),
    ({"batch_first": True}, {"key_padding_mask": "bool", "attn_mask": "causal", "is_causal": True}, "self"),
    ({}, {"key_padding_mask": "float"}, "unbatched"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", MHA_CASES, ids=[f"{i}-{c[2]}" for i, c in enumerate(MHA_CASES)])
def test_multihead_attention_matches_torch(torch, case, dtype):
    ctor, call, kind = case
    e, heads, n, length, source = 8, 2, 3, 4, 6
    g, t = _pair(torch, "MultiheadAttention", e, heads, dtype=dtype, **ctor)
    bf = ctor.get("batch_first", False)
    kdim, vdim = ctor.get("kdim", e), ctor.get("vdim", e)

    def shape(seq, feat):
        if kind == "unbatched":
            return (seq, feat)
        return (n, seq, feat) if bf else (seq, n, feat)

    rng = np.random.default_rng(5)
    src_len = length if kind in ("self", "unbatched") else source
    masks = {}
    if call.get("key_padding_mask") == "bool":
        m = rng.random((n, src_len)) > 0.7
        m[:, 0] = False
        masks["key_padding_mask"] = m
    elif call.get("key_padding_mask") == "float":
        masks["key_padding_mask"] = rng.standard_normal(src_len if kind == "unbatched" else (n, src_len))
    if call.get("attn_mask") == "bool2d":
        m = rng.random((length, src_len)) > 0.7
        m[:, 0] = False
        masks["attn_mask"] = m
    elif call.get("attn_mask") == "float3d":
        masks["attn_mask"] = rng.standard_normal((n * heads, length, src_len))
    elif call.get("attn_mask") == "causal":
        masks["attn_mask"] = np.triu(np.ones((length, length), dtype=bool), 1)
    opts = {k: v for k, v in call.items() if k not in ("key_padding_mask", "attn_mask")}

    def conv(lib_tensor):
        return {k: lib_tensor(v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in masks.items()}

    if kind in ("self", "unbatched"):
        arrays = [_x(shape(length, e))]

        def gl(x):
            return g(x, x, x, **conv(gradlab.tensor), **opts)

        def th(x):
            return t(x, x, x, **conv(lambda a: torch.from_numpy(np.array(a))), **opts)
    elif kind == "kv_same":
        arrays = [_x(shape(length, e)), _x(shape(source, e), 1)]

        def gl(q, kv):
            return g(q, kv, kv, **conv(gradlab.tensor), **opts)

        def th(q, kv):
            return t(q, kv, kv, **conv(lambda a: torch.from_numpy(np.array(a))), **opts)
    else:
        arrays = [_x(shape(length, e)), _x(shape(source, kdim), 1), _x(shape(source, vdim), 2)]

        def gl(q, k, v):
            return g(q, k, v, **conv(gradlab.tensor), **opts)

        def th(q, k, v):
            return t(q, k, v, **conv(lambda a: torch.from_numpy(np.array(a))), **opts)

    need = opts.get("need_weights", True)
    _run_both(gl, th, arrays, dtype, g, t, extra=(1,) if need else ())
    if not need:
        assert gl(*[gradlab.tensor(a.astype(dtype)) for a in arrays])[1] is None


def test_multihead_attention_layout_and_errors(torch):
    t, g = torch.nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2)
    assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()
    ]
    assert g.in_proj_weight.dtype == np.float32
    assert np.all(g.in_proj_bias.detach().numpy() == 0) and np.all(g.out_proj.bias.detach().numpy() == 0)
    t2, g2 = torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5), nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    assert sorted(g2.state_dict()) == sorted(t2.state_dict())
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(8, 3)
    x = gradlab.randn(4, 2, 8)
    with pytest.raises(RuntimeError, match="is_causal"):
        g(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="2D attn_mask"):
        g(x, x, x, attn_mask=np.zeros((3, 4), bool))
    with pytest.raises(ValueError, match="embedding dimension"):
        g(gradlab.randn(4, 2, 6), x, x)


def test_multihead_attention_dropout_only_in_training():
    g = nn.MultiheadAttention(8, 2, dropout=0.9, batch_first=True)
    x = gradlab.randn(2, 5, 8)
    g.eval()
    w1 = g(x, x, x)[1].detach().numpy()
    assert np.allclose(w1.sum(-1), 1.0, atol=1e-5)
    g.train()
    w2 = g(x, x, x)[1].detach().numpy()
    assert (w2 == 0).mean() > 0.5


# ---------------------------------------------------------------------------------------------------- layers
LAYER_CASES = [
    ({}, {}),
    ({"norm_first": True, "activation": "gelu"}, {}),
    ({"batch_first": True, "bias": False}, {"mask": "causal"}),
    ({"batch_first": True, "norm_first": True}, {"padding": True}),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", LAYER_CASES, ids=[str(i) for i in range(len(LAYER_CASES))])
def test_encoder_layer_matches_torch(torch, case, dtype):
    ctor, call = case
    g, t = _pair(torch, "TransformerEncoderLayer", 8, 2, 16, 0.0, dtype=dtype, **ctor)
    bf = ctor.get("batch_first", False)
    shape = (3, 5, 8) if bf else (5, 3, 8)
    kw_g, kw_t = {}, {}
    if call.get("mask") == "causal":
        m = nn.Transformer.generate_square_subsequent_mask(5, dtype=dtype)
        kw_g, kw_t = {"src_mask": m, "is_causal": True}, {"src_mask": to_torch(m), "is_causal": True}
    if call.get("padding"):
        p = np.zeros((3, 5), bool)
        p[1, 3:] = True
        kw_g, kw_t = {"src_key_padding_mask": gradlab.tensor(p)}, {"src_key_padding_mask": torch.from_numpy(p)}
    _run_both(lambda x: g(x, **kw_g), lambda x: t(x, **kw_t), [_x(shape)], dtype, g, t)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ctor", [{}, {"norm_first": True, "batch_first": True, "activation": "gelu"}])
def test_decoder_layer_matches_torch(torch, ctor, dtype):
    g, t = _pair(torch, "TransformerDecoderLayer", 8, 2, 16, 0.0, dtype=dtype, **ctor)
    bf = ctor.get("batch_first", False)
    tgt_shape, mem_shape = ((3, 4, 8), (3, 6, 8)) if bf else ((4, 3, 8), (6, 3, 8))
    m = nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype)
    _run_both(
        lambda x, mem: g(x, mem, tgt_mask=m, tgt_is_causal=True),
        lambda x, mem: t(x, mem, tgt_mask=to_torch(m), tgt_is_causal=True),
        [_x(tgt_shape), _x(mem_shape, 1)],
        dtype,
        g,
        t,
    )


def test_transformer_loads_torch_weights_and_matches(torch):
    kwargs = {"d_model": 8, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 2, "dim_feedforward": 16,
              "dropout": 0.0, "batch_first": True}  # fmt: skip
    g, t = _pair(torch, "Transformer", **kwargs)
    assert list(g.state_dict()) == list(t.state_dict())
    m = nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64)
    pad = np.zeros((2, 5), bool)
    pad[0, 4] = True
    _run_both(
        lambda s, x: g(s, x, tgt_mask=m, src_key_padding_mask=gradlab.tensor(pad),
                       memory_key_padding_mask=gradlab.tensor(pad)),
        lambda s, x: t(s, x, tgt_mask=to_torch(m), src_key_padding_mask=torch.from_numpy(pad),
                       memory_key_padding_mask=torch.from_numpy(pad)),
        [_x((2, 5, 8)), _x((2, 4, 8), 1)],
        np.float64,
        g,
        t,
    )  # fmt: skip
    assert_close(
        nn.Transformer.generate_square_subsequent_mask(3), torch.nn.Transformer.generate_square_subsequent_mask(3)
    )


def test_encoder_stack_matches_torch(torch):
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True).double()
    t = torch.nn.TransformerEncoder(layer_t, 3, norm=torch.nn.LayerNorm(8).double(), enable_nested_tensor=False)
    g = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True), 3, norm=nn.LayerNorm(8))
    g.double()
    copy_from_torch(g, t)
    m = nn.Transformer.generate_square_subsequent_mask(5, dtype=np.float64)
    _run_both(lambda x: g(x, mask=m), lambda x: t(x, mask=to_torch(m)), [_x((2, 5, 8))], np.float64, g, t)
    # the copies are independent
    assert g.layers[0].linear1.weight is not g.layers[1].linear1.weight
