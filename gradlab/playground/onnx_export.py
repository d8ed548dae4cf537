"""The playground's network as an ONNX file: raw points in, the page's prediction out.

:class:`PlaygroundPredictor` wraps a session's network with everything the page applies around it (the CSV's
centring and scaling, the feature columns, the output head of the exported snippet) so that one graph takes the raw
``(n, 2)`` float32 points; :func:`onnx_bytes` traces it with :func:`gradlab.onnx.export` (the ``onnx`` package is
imported only then: ``pip install 'gradlab[onnx]'``).

>>> from gradlab.playground.session import Session
>>> s = Session({"layers": [3], "features": ["x1", "x2", "sinx1"]})
>>> PlaygroundPredictor(s)(gradlab.zeros(4, 2)).shape
gradlab.Size([4])
"""
from __future__ import annotations

from typing import Any

import numpy as np

import gradlab
import gradlab.nn.functional as F
from gradlab import nn

from .config import FEATURES
from .export import input_scaling

__all__ = ["PlaygroundPredictor", "onnx_bytes", "ONNX_FILE", "ONNX_HINT"]

ONNX_FILE = "playground_model.onnx"
ONNX_HINT = "the ONNX export needs the onnx package: pip install 'gradlab[onnx]'"

_FEATURES: dict[str, Any] = {  # the page's feature columns (data._FEATURE_FUNCS) as gradlab ops on (n, 1) columns
    "x1": lambda a, b: a, "x2": lambda a, b: b, "x1sq": lambda a, b: a * a, "x2sq": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b, "sinx1": lambda a, b: a.sin(), "sinx2": lambda a, b: b.sin(),
}
assert set(_FEATURES) == set(FEATURES)


class PlaygroundPredictor(nn.Module):
    """``(n, 2)`` raw points -> what the snippet's ``predict`` returns: the probability of class 1 ``(n,)``
    (binary), the class probabilities ``(n, k)`` (multi-class) or the target in the CSV's units ``(n,)``
    (regression). The centring and scaling run in float64, as in the snippet, then the network in float32.

    >>> from gradlab.playground.session import Session
    >>> PlaygroundPredictor(Session({"dataset": "spiral", "classes": 3}))(gradlab.zeros(2, 2)).shape
    gradlab.Size([2, 3])
    """

    def __init__(self, session: Any) -> None:
        super().__init__()
        center, scale, target = input_scaling(session)
        self.center = None if center == [0.0, 0.0] and scale == [1.0, 1.0] else np.asarray(center, np.float64)
        self.scale = np.asarray(scale, np.float64)
        self.target_scale = float(target)
        self.features = list(session.settings["features"])
        self.kind = session.kind
        self.net = session.model

    def forward(self, points: Any) -> Any:
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"PlaygroundPredictor: expected points of shape (n, 2), got {tuple(points.shape)}")
        x = points
        if self.center is not None:
            x = ((x.double() - gradlab.tensor(self.center)) * gradlab.tensor(self.scale)).float()
        a, b = x[:, 0:1], x[:, 1:2]
        out = self.net(gradlab.cat([_FEATURES[f](a, b) for f in self.features], dim=1))
        if self.kind == "regression":
            return out[:, 0] * self.target_scale
        if self.kind == "multi":
            return F.softmax(out, dim=1)
        return out.sigmoid()[:, 0]


def onnx_bytes(session: Any) -> bytes:
    """The session's :class:`PlaygroundPredictor` as a serialized ONNX model (input ``points``, float32 ``(batch,
    2)``; output ``prediction``). ImportError naming ``gradlab[onnx]`` when the onnx package is missing.

    >>> from gradlab.playground.session import Session
    >>> import onnx
    >>> [i.name for i in onnx.load_from_string(onnx_bytes(Session())).graph.input]
    ['points']
    """
    try:
        import onnx  # noqa: F401 - only to say what to install; gradlab.onnx imports it when exporting
    except ImportError as e:
        raise ImportError(f"{ONNX_HINT} ({e})") from None
    import gradlab.onnx as gonnx

    example = gradlab.tensor(np.array([[0.0, 0.0], [1.0, -1.0], [2.0, 0.5]], np.float32))
    proto = gonnx.export(PlaygroundPredictor(session), example, input_names="points", output_names="prediction")
    return bytes(proto.SerializeToString())
