"""Recurrent layers with PyTorch's names, parameter layout and semantics: ``RNN``, ``LSTM``, ``GRU`` and their cells.

Parameters are named and shaped as in torch (``weight_ih_l0`` (G*H, I), ``weight_hh_l0`` (G*H, H), ``bias_ih_l0``,
``bias_hh_l0``, a ``_reverse`` suffix for the backward direction; gates i, f, g, o for the LSTM and r, z, n for the
GRU), so a torch ``state_dict`` converted to numpy loads unchanged. Each layer and direction runs as one fused op
over the whole sequence (see ``gradlab.ops.recurrent``).

>>> import gradlab
>>> from gradlab import nn
>>> lstm = nn.LSTM(input_size=3, hidden_size=5, num_layers=2, batch_first=True)
>>> out, (h_n, c_n) = lstm(gradlab.randn(4, 7, 3))
>>> out.shape, h_n.shape, c_n.shape
(gradlab.Size([4, 7, 5]), gradlab.Size([2, 4, 5]), gradlab.Size([2, 4, 5]))
>>> [name for name, _ in lstm.named_parameters()][:4]
['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.functions import cat, stack
from gradlab.nn import init
from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter
from gradlab.ops.recurrent import rnn_layer
from gradlab.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _as_tensor(x: Any) -> Any:
    return x if isinstance(x, Tensor) or x is None else Tensor(x)


def _dropout(x: Any, p: float) -> Any:
    from gradlab.nn import functional as F

    return F.dropout(x, p, training=True)


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (like ``torch.nn.RNNBase``).

    ``mode`` is ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``.

    >>> from gradlab import nn
    >>> isinstance(nn.LSTM(3, 4), nn.RNNBase), nn.GRU(3, 4, num_layers=2).mode
    (True, 'GRU')
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        if proj_size:
            raise NotImplementedError("proj_size (LSTM projections) is not supported by gradlab")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else hidden_size * num_directions
                suffix = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                shapes: list[tuple[int, ...]] = [(gate_size, layer_input), (gate_size, hidden_size)]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    shapes += [(gate_size,), (gate_size,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(np.empty(shape, dtype=dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op, for code written for torch (gradlab's weights need no flattening)."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self) -> list[Parameter]:
        return [getattr(self, name) for name in self._flat_weights_names]

    def _layer_weights(self, layer: int, direction: int) -> tuple[Any, Any, Any, Any]:
        names = self._all_weights[layer * (2 if self.bidirectional else 1) + direction]
        w = [getattr(self, n) for n in names]
        return (w[0], w[1], w[2], w[3]) if self.bias else (w[0], w[1], None, None)

    def _check_input(self, input: Any, batch_sizes: Any = None) -> None:
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )

    def _check_hidden(self, hx: Any, expected: tuple, what: str = "hidden") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(hx.shape)}")

    def _run(self, input: Any, h0: Any, c0: Any) -> tuple[Any, Any, Any]:
        """Time-major input (T, N, I), states (L*D, N, H) or None -> (output, h_n, c_n or None)."""
        num_directions = 2 if self.bidirectional else 1
        x = input
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(num_directions):
                k = layer * num_directions + d
                w_ih, w_hh, b_ih, b_hh = self._layer_weights(layer, d)
                out, h, c = rnn_layer(
                    self.mode, x, None if h0 is None else h0[k], None if c0 is None else c0[k],
                    w_ih, w_hh, b_ih, b_hh, reverse=d == 1,
                )
                outs.append(out)
                hs.append(h)
                cs.append(c)
            x = outs[0] if num_directions == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout)
        h_n = hs[0].unsqueeze(0) if len(hs) == 1 else stack(hs, 0)
        c_n = None
        if self.mode == "LSTM":
            c_n = cs[0].unsqueeze(0) if len(cs) == 1 else stack(cs, 0)
        return x, h_n, c_n

    def _forward(self, input: Any, hx: Any) -> tuple[Any, Any, Any]:
        input = _as_tensor(input)
        self._check_input(input)
        is_lstm = self.mode == "LSTM"
        h0, c0 = (hx if hx is not None else (None, None)) if is_lstm else (hx, None)
        h0, c0 = _as_tensor(h0), _as_tensor(c0)
        batched = input.ndim == 3
        num_directions = 2 if self.bidirectional else 1
        if not batched:
            input = input.unsqueeze(1)
            for name, h in (("hx", h0), ("cx", c0)):
                if h is not None and h.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, {name} should also be 2-D but got {h.ndim}-D tensor")
            h0 = None if h0 is None else h0.unsqueeze(1)
            c0 = None if c0 is None else c0.unsqueeze(1)
        else:
            if self.batch_first:
                input = input.transpose(0, 1)
            for name, h in (("hx", h0), ("cx", c0)):
                if h is not None and h.ndim != 3:
                    raise RuntimeError(f"For batched 3-D input, {name} should also be 3-D but got {h.ndim}-D tensor")
        expected = (self.num_layers * num_directions, input.shape[1], self.hidden_size)
        if h0 is not None:
            self._check_hidden(h0, expected)
        if c0 is not None:
            self._check_hidden(c0, expected, "cell")
        if is_lstm and (h0 is None) != (c0 is None):
            raise RuntimeError("LSTM: pass both h_0 and c_0, or neither")
        out, h_n, c_n = self._run(input, h0, c0)
        if not batched:
            out = out.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, h_n, c_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), like ``torch.nn.RNN``.

    ``forward(input, hx=None) -> (output, h_n)``: input (L, N, H_in) ((N, L, H_in) with batch_first, or
    unbatched (L, H_in)); hx (num_layers * num_directions, N, H); output (L, N, num_directions * H).

    >>> import gradlab
    >>> from gradlab import nn
    >>> out, h_n = nn.RNN(4, 6, nonlinearity="relu", bidirectional=True)(gradlab.randn(5, 2, 4))
    >>> out.shape, h_n.shape
    (gradlab.Size([5, 2, 12]), gradlab.Size([2, 2, 6]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        out, h_n, _ = self._forward(input, hx)
        return out, h_n

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"


class LSTM(RNNBase):
    """Long short-term memory, like ``torch.nn.LSTM`` (gates i, f, g, o; no ``proj_size``).

    ``forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> out, (h_n, c_n) = nn.LSTM(4, 6, num_layers=2, batch_first=True)(gradlab.randn(2, 5, 4))
    >>> out.shape, h_n.shape, c_n.shape
    (gradlab.Size([2, 5, 6]), gradlab.Size([2, 2, 6]), gradlab.Size([2, 2, 6]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, tuple[Any, Any]]:
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        out, h_n, c_n = self._forward(input, hx)
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, like ``torch.nn.GRU`` (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).

    ``forward(input, hx=None) -> (output, h_n)``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> out, h_n = nn.GRU(4, 6)(gradlab.randn(5, 2, 4))
    >>> out.shape, h_n.shape
    (gradlab.Size([5, 2, 6]), gradlab.Size([1, 2, 6]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        out, h_n, _ = self._forward(input, hx)
        return out, h_n


# ---- cells -----------------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """One time step: parameters ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh``.

    >>> from gradlab import nn
    >>> cell = nn.GRUCell(3, 4)
    >>> isinstance(cell, nn.RNNCellBase), cell.weight_ih.shape, cell.weight_hh.shape
    (True, gradlab.Size([12, 3]), gradlab.Size([12, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.weight_ih = Parameter(np.empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((num_chunks * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(np.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = getattr(self, "nonlinearity", "tanh")
        return s if nl == "tanh" else s + f", nonlinearity={nl!r}"

    def _step(self, mode: str, input: Any, h: Any, c: Any) -> tuple[Any, Any]:
        input, h, c = _as_tensor(input), _as_tensor(h), _as_tensor(c)
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}"
            )
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
            h = None if h is None else h.unsqueeze(0)
            c = None if c is None else c.unsqueeze(0)
        for s in (h, c):
            if s is not None and tuple(s.shape) != (input.shape[0], self.hidden_size):
                raise RuntimeError(
                    f"hidden state of shape {tuple(s.shape)} does not match the input: expected "
                    f"{(input.shape[0], self.hidden_size)}"
                )
        _, h1, c1 = rnn_layer(mode, input.unsqueeze(0), h, c, self.weight_ih, self.weight_hh, self.bias_ih,
                              self.bias_hh)
        if not batched:
            h1 = h1.squeeze(0)
            c1 = None if c1 is None else c1.squeeze(0)
        return h1, c1


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), like ``torch.nn.RNNCell``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.RNNCell(3, 4)(gradlab.randn(2, 3)).shape
    gradlab.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Any, hx: Any = None) -> Any:
        return self._step("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", input, hx, None)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step, like ``torch.nn.LSTMCell``: ``forward(input, (h, c)=None) -> (h', c')``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> h, c = nn.LSTMCell(3, 4)(gradlab.randn(2, 3))
    >>> h.shape, c.shape
    (gradlab.Size([2, 4]), gradlab.Size([2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError("LSTMCell: hx must be a tuple (h, c)")
        h, c = hx if hx is not None else (None, None)
        return self._step("LSTM", input, h, c)


class GRUCell(RNNCellBase):
    """One GRU step, like ``torch.nn.GRUCell``: ``forward(input, hx=None) -> h'``.

    >>> import gradlab
    >>> from gradlab import nn
    >>> nn.GRUCell(3, 4)(gradlab.randn(2, 3)).shape
    gradlab.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> Any:
        return self._step("GRU", input, hx, None)[0]
