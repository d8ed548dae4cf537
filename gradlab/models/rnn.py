"""Recurrent models: ``SequenceClassifier`` (registered as ``'lstm'`` and ``'gru'``; sequential MNIST reads each
28x28 image as 28 rows of 28 pixels) and ``CharLSTM`` (``'charlstm'``: a character-level language model), with
``sample`` to generate text from a trained ``CharLSTM``.

>>> import gradlab
>>> m = SequenceClassifier(input_size=28, hidden_size=16)
>>> m(gradlab.zeros(3, 1, 28, 28)).shape
gradlab.Size([3, 10])
>>> lm = CharLSTM(vocab_size=20, embedding_dim=8, hidden_size=16, num_layers=2)
>>> lm(gradlab.zeros(2, 5, dtype=gradlab.int64)).shape
gradlab.Size([2, 5, 20])
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.models.registry import register_model

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
    gradlab.Size([4, 10])
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
    gradlab.Size([1, 3, 30])
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


def sample(model: CharLSTM, vocab: Any, prompt: str = "", length: int = 300, temperature: float = 1.0,
           generator: Any = None, top_k: int | None = None) -> str:
    """Generate ``length`` characters after ``prompt`` from a trained ``CharLSTM``.

    ``vocab`` maps characters to ids (``encode``/``decode``, see :class:`gradlab.data.text.Vocab`). Each next
    character is drawn from ``softmax(logits / temperature)`` (``temperature = 0``: always the most likely one;
    ``top_k``: only among the ``k`` most likely) with ``generator`` (a ``gradlab.Generator``; the default
    generator when None), so a seeded generator gives the same text every time. Returns the prompt followed by the
    generated characters. An empty prompt starts from a random character of the vocabulary.
    :func:`sample_stream` gives the same text piece by piece, as it is generated.

    >>> from gradlab.data.text import Vocab
    >>> v = Vocab("ab"); m = CharLSTM(2, embedding_dim=4, hidden_size=4, num_layers=1)
    >>> len(sample(m, v, "ab", 5, generator=gradlab.Generator(0)))
    7
    """
    return "".join(sample_stream(model, vocab, prompt, length, temperature, generator, top_k))


def sample_stream(model: CharLSTM, vocab: Any, prompt: str = "", length: int = 300, temperature: float = 1.0,
                  generator: Any = None, top_k: int | None = None) -> Iterator[str]:
    """:func:`sample`, yielding the prompt and then each character as soon as it is drawn (same text, same
    random draws). The arguments are checked before the first piece.

    >>> from gradlab.data.text import Vocab
    >>> v = Vocab("ab"); m = CharLSTM(2, embedding_dim=4, hidden_size=4, num_layers=1)
    >>> pieces = list(sample_stream(m, v, "ab", 3, generator=gradlab.Generator(0)))
    >>> pieces[0], len(pieces)
    ('ab', 4)
    """
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    ids = vocab.encode(prompt) if prompt else None
    return _stream(model, vocab, prompt, ids, length, temperature, generator, top_k)


def _stream(model: CharLSTM, vocab: Any, prompt: str, ids: Any, length: int, temperature: float, generator: Any,
            top_k: int | None) -> Iterator[str]:
    rng = gradlab.backend.rng(generator)
    if ids is None:
        if length == 0:
            return
        first = int(rng.integers(len(vocab)))
        ids = np.array([first], dtype=np.int64)
        yield vocab.decode([first])
        done = 1
    else:
        yield prompt
        done = 0
    if done >= length:
        return
    was_training = model.training
    model.eval()
    try:
        with gradlab.no_grad():
            logits, state = model.forward_with_state(gradlab.from_numpy(ids.reshape(1, -1)))
            while done < length:
                nxt = _draw(logits._data[0, -1].astype(np.float64), temperature, top_k, rng)
                done += 1
                yield vocab.decode([nxt])
                if done < length:
                    logits, state = model.forward_with_state(gradlab.tensor([[nxt]]), state)
    finally:
        model.train(was_training)


def _draw(logits: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator) -> int:
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    if top_k is not None and top_k < z.size:
        cut = np.partition(z, -top_k)[-top_k]
        z = np.where(z >= cut, z, -np.inf)
    z = z - z.max()
    p = np.exp(z)
    p /= p.sum()
    return int(rng.choice(p.size, p=p))
