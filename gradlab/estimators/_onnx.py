"""``OnnxExportMixin``: ``to_onnx(path)`` for the MLP estimators (the fitted network plus its output activation as
one ONNX graph; needs the optional ``onnx`` package, ``pip install 'gradlab[onnx]'``)."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from gradlab import nn
from gradlab.functions import cat
from gradlab.nn import functional as F

__all__ = ["OnnxExportMixin"]


class _WithOutput(nn.Module):
    """The estimator's network followed by what ``_forward_pass_fast``/``predict_proba`` apply to its logits."""

    def __init__(self, body: nn.Module, out_activation: str, binary: bool) -> None:
        super().__init__()
        self.body = body
        self.out_activation = out_activation
        self.binary = binary

    def forward(self, x: Any) -> Any:
        z = self.body(x)
        if self.out_activation == "softmax":
            return F.softmax(z, dim=1)
        if self.out_activation == "logistic":
            p = F.sigmoid(z)
            return cat([1.0 - p, p], 1) if self.binary else p
        if self.out_activation == "exp":
            return z.exp()
        return z


class OnnxExportMixin:
    """Adds ``to_onnx`` to the MLP estimators.

    >>> from gradlab.estimators import MLPClassifier
    >>> "OnnxExportMixin" in [c.__name__ for c in MLPClassifier.__mro__]
    True
    """

    def to_onnx(self, path: str | os.PathLike | None = None, opset: int = 17) -> Any:
        """Write the fitted estimator as an ONNX model to ``path`` and return the ``onnx.ModelProto``.

        Input ``X`` (batch, n_features_in_) in the estimator's dtype. Output: the classifier's ``probabilities``
        (``predict_proba``'s columns, in the order of ``classes_``; multilabel: one probability per label), the
        regressor's ``predictions`` (batch, n_outputs_).

        >>> import numpy as np
        >>> from gradlab.estimators import MLPRegressor
        >>> X = np.random.default_rng(0).normal(size=(20, 3))
        >>> reg = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50).fit(X, X.sum(1))
        >>> [o.name for o in reg.to_onnx().graph.output]
        ['predictions']
        """
        from sklearn.utils.validation import check_is_fitted

        from gradlab.onnx import export

        check_is_fitted(self)
        est: Any = self
        net = est._network()
        is_classifier = hasattr(est, "classes_")
        binary = is_classifier and est.n_outputs_ == 1 and est.out_activation_ == "logistic"
        model = _WithOutput(net.model, est.out_activation_, binary)
        example = np.zeros((2, est.coefs_[0].shape[0]), dtype=est.coefs_[0].dtype)
        name = "probabilities" if is_classifier else "predictions"
        return export(model, example, path, input_names=["X"], output_names=[name], opset=opset)
