"""Recurrent models: ``SequenceClassifier`` (registered as ``'lstm'`` and ``'gru'``; sequential MNIST reads each
28x28 image as 28 rows of 28 pixels) and ``CharLSTM`` (``'charlstm'``: a character-level language model);
``sample`` and ``sample_stream`` (from :mod:`gradlab.models.sampling`, re-exported here) generate text from it.

>>> import gradlab
>>> m = SequenceClassifier(input_size=28, hidden_size=16)
>>> m(gradlab.zeros(3, 1, 28, 28)).shape
(3, 10)
>>> lm = CharLSTM(vocab_size=20, embedding_dim=8, hidden_size=16, num_layers=2)
>>> lm(gradlab.zeros(2, 5, dtype=gradlab.int64)).shape
(2, 5, 20)
"""
from __future__ import annotations

from typing import Any

import gradlab
from gradlab import nn
from gradlab.models.registry import register_model
from gradlab.models.sampling import sample, sample_stream

__all__ = ["SequenceClassifier", "CharLSTM", "sample", "sample_stream"]

_RNNS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class SequenceClassifier(nn.Module):
    """A recurrent network reading a sequence and classifying it from the last layer's final hidden state:
    ``rnn (batch_first) -> Linear(hidden_size * directions, num_classes)``.

    Inputs ``(N, T, input_size)``; images ``(N, C, H, W)`` are read row by row as ``T = H`` steps of ``C * W``
    features (sequential MNIST: 28 steps of 28 pixels).

    Args:
        num_classes: output size (10).
        input_size: features per step (28).
        hidden_size: hidden units per layer (128).
        num_layers, dropout, bidirectional: as ``nn.LSTM``.
        cell: ``'lstm'`` (default), ``'gru'`` or ``'rnn'``.

    >>> import gradlab
    >>> from gradlab.models import SequenceClassifier
    >>> SequenceClassifier(num_classes=10, input_size=28, hidden_size=16)(gradlab.randn(4, 28, 28)).shape
    (4, 10)
    """

    def __init__(self, num_classes: int = 10, input_size: int = 28, hidden_size: int = 128, num_layers: int = 1,
                 dropout: float = 0.0, bidirectional: bool = False, cell: str = "lstm") -> None:
        super().__init__()
        if cell not in _RNNS:
            raise ValueError(f"cell must be one of {sorted(_RNNS)}, got {cell!r}")
        self.cell = cell
        self.rnn = _RNNS[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout,
                               bidirectional=bidirectional)
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: Any) -> Any:
        if x.ndim == 4:  # images (N, C, H, W) -> (N, H, C * W)
            n, c, h, w = x.shape
            x = x.reshape(n, h, w) if c == 1 else x.permute(0, 2, 1, 3).reshape(n, h, c * w)
        elif x.ndim != 3:
            raise ValueError(f"SequenceClassifier expects (N, T, features) or (N, C, H, W) input, got {x.shape}")
        _, h_n = self.rnn(x)
        if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
            h_n = h_n[0]
        if self.rnn.bidirectional:
            last = gradlab.cat([h_n[-2], h_n[-1]], 1)
        else:
            last = h_n[-1]
        return self.fc(last)


@register_model("lstm")
def _lstm(num_classes: int = 10, input_size: int = 28, hidden_size: int = 128, num_layers: int = 1,
          dropout: float = 0.0, bidirectional: bool = False) -> SequenceClassifier:
    """LSTM classifier (sequential MNIST by default: 28 steps of 28 pixels, hidden 128 -> Linear 10)."""
    return SequenceClassifier(num_classes, input_size, hidden_size, num_layers, dropout, bidirectional, "lstm")


@register_model("gru")
def _gru(num_classes: int = 10, input_size: int = 28, hidden_size: int = 128, num_layers: int = 1,
         dropout: float = 0.0, bidirectional: bool = False) -> SequenceClassifier:
    """GRU classifier (same shape as ``'lstm'``)."""
    return SequenceClassifier(num_classes, input_size, hidden_size, num_layers, dropout, bidirectional, "gru")


@register_model("charlstm")
class CharLSTM(nn.Module):
    """Character-level language model: ``Embedding -> LSTM (batch_first) -> Linear(vocab_size)``.

    ``forward(ids (N, T) int64) -> logits (N, T, vocab_size)`` (zero initial state);
    ``forward_with_state(ids, state) -> (logits, state)`` carries ``(h, c)`` between calls (sampling).

    Args:
        vocab_size: number of distinct characters.
        embedding_dim: size of each character's embedding (64).
        hidden_size: LSTM hidden units per layer (256).
        num_layers: LSTM layers (2).
        dropout: dropout between LSTM layers and before the output layer, in training (0).

    >>> import gradlab
    >>> from gradlab.models import CharLSTM
    >>> CharLSTM(vocab_size=30, hidden_size=32)(gradlab.tensor([[1, 2, 3]])).shape
    (1, 3, 30)
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 64, hidden_size: int = 256, num_layers: int = 2,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward_with_state(self, ids: Any, state: Any = None) -> tuple[Any, Any]:
        out, state = self.lstm(self.embedding(ids), state)
        return self.head(self.drop(out)), state

    def forward(self, ids: Any) -> Any:
        return self.forward_with_state(ids)[0]
