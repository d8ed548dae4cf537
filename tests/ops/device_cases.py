"""Layer-level ops (convolution, pooling, losses, normalisation, recurrent layers...) for the device tests.

Each case is ``(name, fn, float_shapes, int_specs)``: ``fn(lib, *floats, *ints)`` with ``lib`` the ``gradlab``
module, ``floats`` tensors that require grad and ``ints`` int64 tensors drawn in ``[0, high)`` for each
``(shape, high)`` of ``int_specs`` (targets, indices). The op catalogue covers the elementwise, shape and reduction
ops; these complete it for the device comparisons (``test_device_dispatch.py`` on a fake GPU, ``tests/gpu``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import gradlab

Case = tuple[str, Callable[..., Any], tuple, tuple]


def _F(lib: Any) -> Any:
    return lib.nn.functional


def _lstm(lib: Any, x: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any, mode: str) -> Any:
    from gradlab.ops.recurrent import rnn_layer

    out, h_n, c_n = rnn_layer(mode, x, None, None, w_ih, w_hh, b_ih, b_hh)
    return out if c_n is None else out * 1.0 + (c_n * 0.5).sum()


def _rnn_module(kind: str, **kw: Any) -> Callable[..., Any]:
    def fn(lib: Any, x: Any) -> Any:
        gradlab.manual_seed(0)
        m = getattr(lib.nn, kind)(4, 5, batch_first=True, **kw).to(dtype=x.dtype, device=x.device)
        out, _ = m(x)
        return out

    return fn


CASES: list[Case] = [
    ("conv2d", lambda lib, x, w, b: _F(lib).conv2d(x, w, b), ((2, 3, 7, 7), (4, 3, 3, 3), (4,)), ()),
    ("conv2d_stride_pad", lambda lib, x, w, b: _F(lib).conv2d(x, w, b, stride=2, padding=1),
     ((2, 3, 8, 8), (4, 3, 3, 3), (4,)), ()),
    ("conv2d_dilation_groups", lambda lib, x, w: _F(lib).conv2d(x, w, dilation=2, groups=2, padding=2),
     ((2, 4, 7, 7), (6, 2, 3, 3)), ()),
    ("conv2d_1x1", lambda lib, x, w: _F(lib).conv2d(x, w), ((2, 3, 5, 5), (4, 3, 1, 1)), ()),
    ("conv_transpose2d", lambda lib, x, w, b: _F(lib).conv_transpose2d(x, w, b, stride=2, padding=1),
     ((2, 3, 4, 4), (3, 2, 3, 3), (2,)), ()),
    ("conv1d", lambda lib, x, w, b: _F(lib).conv1d(x, w, b, padding=1), ((2, 3, 9), (4, 3, 3), (4,)), ()),
    ("max_pool2d", lambda lib, x: _F(lib).max_pool2d(x, 2), ((2, 3, 6, 6),), ()),
    ("max_pool2d_ceil_pad", lambda lib, x: _F(lib).max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
     ((2, 2, 7, 7),), ()),
    ("avg_pool2d", lambda lib, x: _F(lib).avg_pool2d(x, 3, stride=2, padding=1), ((2, 2, 7, 7),), ()),
    ("adaptive_avg_pool2d", lambda lib, x: _F(lib).adaptive_avg_pool2d(x, (3, 2)), ((2, 2, 7, 5),), ()),
    ("interpolate_nearest", lambda lib, x: _F(lib).interpolate(x, size=(5, 7)), ((2, 2, 3, 4),), ()),
    ("interpolate_scale2", lambda lib, x: _F(lib).interpolate(x, scale_factor=2), ((2, 2, 3, 4),), ()),
    ("batch_norm_train", lambda lib, x, w, b: _F(lib).batch_norm(x, None, None, w, b, training=True),
     ((4, 3, 2, 2), (3,), (3,)), ()),
    ("layer_norm", lambda lib, x, w, b: _F(lib).layer_norm(x, (5,), w, b), ((3, 4, 5), (5,), (5,)), ()),
    ("cross_entropy", lambda lib, x, y: _F(lib).cross_entropy(x, y), ((6, 5),), (((6,), 5),)),
    ("cross_entropy_smoothing_weight", lambda lib, x, w, y: _F(lib).cross_entropy(x, y, weight=w.abs() + 0.5,
                                                                                  label_smoothing=0.1),
     ((6, 5), (5,)), (((6,), 5),)),
    ("nll_loss", lambda lib, x, y: _F(lib).nll_loss(_F(lib).log_softmax(x, 1), y, reduction="sum"), ((6, 5),),
     (((6,), 5),)),
    ("mse_loss", lambda lib, x, t: _F(lib).mse_loss(x, t), ((4, 3), (4, 3)), ()),
    ("l1_loss", lambda lib, x, t: _F(lib).l1_loss(x, t, reduction="sum"), ((4, 3), (4, 3)), ()),
    ("smooth_l1_loss", lambda lib, x, t: _F(lib).smooth_l1_loss(x, t, beta=0.5), ((4, 3), (4, 3)), ()),
    ("huber_loss", lambda lib, x, t: _F(lib).huber_loss(x, t, delta=0.7), ((4, 3), (4, 3)), ()),
    ("bce_with_logits", lambda lib, x, t: _F(lib).binary_cross_entropy_with_logits(x, t.sigmoid()),
     ((4, 3), (4, 3)), ()),
    ("embedding", lambda lib, w, i: lib.nn.Embedding.from_pretrained(w, freeze=False)(i), ((7, 3),),
     (((4, 5), 7),)),
    ("gather", lambda lib, x, i: x.gather(1, i), ((4, 5),), (((4, 3), 5),)),
    ("index_select", lambda lib, x, i: x.index_select(0, i.reshape(-1)), ((4, 5),), (((2, 3), 4),)),
    ("lstm_layer", lambda lib, x, a, b, c, d: _lstm(lib, x, a, b, c, d, "LSTM"),
     ((5, 3, 4), (20, 4), (20, 5), (20,), (20,)), ()),
    ("gru_layer", lambda lib, x, a, b, c, d: _lstm(lib, x, a, b, c, d, "GRU"),
     ((5, 3, 4), (15, 4), (15, 5), (15,), (15,)), ()),
    ("rnn_tanh_layer", lambda lib, x, a, b, c, d: _lstm(lib, x, a, b, c, d, "RNN_TANH"),
     ((5, 3, 4), (5, 4), (5, 5), (5,), (5,)), ()),
    ("lstm_module_2layer_bidir", _rnn_module("LSTM", num_layers=2, bidirectional=True), ((3, 5, 4),), ()),
    ("gru_module", _rnn_module("GRU"), ((3, 5, 4),), ()),
]


def make_case_inputs(case: Case, rng: np.random.Generator, dtype: Any = np.float64) -> tuple[list, list]:
    """(float arrays, int arrays) for ``case``."""
    _, _, shapes, ints = case
    floats = [rng.standard_normal(s).astype(dtype) for s in shapes]
    idx = [rng.integers(0, high, size=s) for s, high in ints]
    return floats, idx


def run_case(case: Case, floats: list, ints: list, g: Any, device: str) -> tuple:
    """(output, float inputs' gradients) of ``case`` on ``device`` (no backward when ``g`` is None)."""
    ts = [gradlab.tensor(a.copy(), requires_grad=True, device=device) for a in floats]
    its = [gradlab.tensor(a, device=device) for a in ints]
    out = case[1](gradlab, *ts, *its)
    if g is None:
        return out, None
    out.backward(gradlab.tensor(g, device=device))
    return out, [t.grad for t in ts]
