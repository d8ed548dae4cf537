"""Text generation from a character-level language model, shared by every such model (``CharLSTM``,
``CharTransformer``): ``sample`` (the whole text) and ``sample_stream`` (piece by piece), with temperature and
top-k.

A model only needs ``forward_with_state(ids (1, T) int64, state) -> (logits (1, T, V), state)``: the LSTM carries
its ``(h, c)``, the transformer the window of characters it has seen (cropped to its context).

>>> import gradlab
>>> from gradlab.data.text import Vocab
>>> from gradlab.models.rnn import CharLSTM
>>> m = CharLSTM(2, embedding_dim=4, hidden_size=4, num_layers=1)
>>> len(sample(m, Vocab("ab"), "ab", 5, generator=gradlab.Generator(0)))
7
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

import gradlab

__all__ = ["sample", "sample_stream"]


def sample(model: Any, vocab: Any, prompt: str = "", length: int = 300, temperature: float = 1.0,
           generator: Any = None, top_k: int | None = None) -> str:
    """Generate ``length`` characters after ``prompt`` from a trained character-level model.

    ``vocab`` maps characters to ids (``encode``/``decode``, see :class:`gradlab.data.text.Vocab`). Each next
    character is drawn from ``softmax(logits / temperature)`` (``temperature = 0``: always the most likely one;
    ``top_k``: only among the ``k`` most likely) with ``generator`` (a ``gradlab.Generator``; the default
    generator when None), so a seeded generator gives the same text every time. Returns the prompt followed by the
    generated characters. An empty prompt starts from a random character of the vocabulary.
    :func:`sample_stream` gives the same text piece by piece, as it is generated.

    >>> from gradlab.data.text import Vocab
    >>> from gradlab.models.rnn import CharLSTM
    >>> v = Vocab("ab"); m = CharLSTM(2, embedding_dim=4, hidden_size=4, num_layers=1)
    >>> len(sample(m, v, "ab", 5, generator=gradlab.Generator(0)))
    7
    """
    return "".join(sample_stream(model, vocab, prompt, length, temperature, generator, top_k))


def sample_stream(model: Any, vocab: Any, prompt: str = "", length: int = 300, temperature: float = 1.0,
                  generator: Any = None, top_k: int | None = None) -> Iterator[str]:
    """:func:`sample`, yielding the prompt and then each character as soon as it is drawn (same text, same
    random draws). The arguments are checked before the first piece.

    >>> from gradlab.data.text import Vocab
    >>> from gradlab.models.rnn import CharLSTM
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


def _stream(model: Any, vocab: Any, prompt: str, ids: Any, length: int, temperature: float, generator: Any,
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
