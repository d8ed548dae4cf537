"""``Embedding``: a lookup table of learnable vectors indexed by integers, like ``torch.nn.Embedding``.

>>> import gradlab
>>> from gradlab import nn
>>> emb = nn.Embedding(10, 3, padding_idx=0)
>>> emb(gradlab.tensor([[0, 2], [4, 0]])).shape
gradlab.Size([2, 2, 3])
>>> emb.weight[0].tolist()
[0.0, 0.0, 0.0]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.autograd.grad_mode import no_grad
from gradlab.nn import init
from gradlab.nn.module import Module
from gradlab.nn.parameter import Parameter
from gradlab.ops.embedding import Embedding as _EmbeddingOp
from gradlab.tensor import Tensor

__all__ = ["Embedding", "embedding"]


def _normalize_padding_idx(padding_idx: int | None, num_embeddings: int) -> int | None:
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"padding_idx must be within num_embeddings ({num_embeddings}), got {padding_idx}")
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def _renorm_(weight: Any, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale, in place and unrecorded, the rows used by ``indices`` whose norm exceeds ``max_norm`` (as torch)."""
    rows = np.unique(indices)
    w = weight._data
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] *= scale[:, None]
        weight._vc[0] += 1


def embedding(input: Any, weight: Any, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Any:
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input``: output
    ``input.shape + (embedding_dim,)``. Like ``torch.nn.functional.embedding``; ``sparse`` gradients are not
    supported.

    >>> import gradlab
    >>> w = gradlab.arange(6.0).reshape(3, 2)
    >>> embedding(gradlab.tensor([[2, 0]]), w).tolist()
    [[[4.0, 5.0], [0.0, 1.0]]]
    """
    if sparse:
        raise NotImplementedError("sparse embedding gradients are not supported by gradlab")
    indices = input._data if isinstance(input, Tensor) else np.asarray(input)
    if padding_idx is not None:
        padding_idx = _normalize_padding_idx(padding_idx, weight.shape[0])
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, indices, max_norm, norm_type)
    return _EmbeddingOp.apply(weight, indices, padding_idx, scale_grad_by_freq)


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``; weight initialised N(0, 1), the
    ``padding_idx`` row zeroed and kept out of the gradient. ``max_norm`` renormalises looked-up rows in place.

    >>> import gradlab
    >>> emb = Embedding(10, 3, padding_idx=0)
    >>> emb(gradlab.tensor([[1, 2, 0]])).shape, emb.weight[0].tolist()
    (gradlab.Size([1, 3, 3]), [0.0, 0.0, 0.0])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Any = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if sparse:
            raise NotImplementedError("sparse embedding gradients are not supported by gradlab")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _normalize_padding_idx(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = False
        if _weight is None:
            dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError("Shape of weight does not match num_embeddings and embedding_dim")
            w = _weight if isinstance(_weight, Tensor) else Tensor(np.asarray(_weight))
            self.weight = Parameter(w.detach() if w.requires_grad else w, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight._data[self.padding_idx] = 0
                self.weight._vc[0] += 1

    def forward(self, input: Any) -> Any:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding ``embeddings`` (2-D; the weight shares its memory); ``freeze`` turns its gradient
        off. The ``padding_idx`` row is kept as given (not zeroed), as torch.
        """
        if embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
