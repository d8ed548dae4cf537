"""Export a playground network: its weights as a safetensors file, and a Python snippet rebuilding it with gradlab.

>>> from gradlab.playground.session import Session
>>> s = Session({"layers": [3]})
>>> print(snippet(s).splitlines()[0])
# A network trained in the gradlab playground: circle data set, classification (2 classes).
>>> len(safetensors_bytes(s)) > 100
True
"""
from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from gradlab import io

from .config import ACTIVATIONS
from .data import FEATURE_CODE

__all__ = ["safetensors_bytes", "snippet", "input_scaling", "WEIGHTS_FILE", "SNIPPET_FILE"]

WEIGHTS_FILE = "playground_model.safetensors"
SNIPPET_FILE = "playground_model.py"


def input_scaling(session: Any) -> tuple[list[float], list[float], float]:
    """``(center, scale, target_scale)``: the network sees ``(points - center) * scale`` and regression targets were
    divided by ``target_scale``; identity for the generated data sets, the CSV's own for uploaded data.

    >>> from gradlab.playground.session import Session
    >>> input_scaling(Session())
    ([0.0, 0.0], [1.0, 1.0], 1.0)
    """
    csv = session.csv if session.settings["dataset"] == "csv" else None
    if csv is None:
        return [0.0, 0.0], [1.0, 1.0], 1.0
    return list(csv.center), list(csv.scale), float(csv.target_scale)


def safetensors_bytes(session: Any) -> bytes:
    """The network's ``state_dict`` in safetensors format (written by :func:`gradlab.io.save`), with the settings
    in the file's metadata.

    >>> import json, struct
    >>> from gradlab.playground.session import Session
    >>> blob = safetensors_bytes(Session({"layers": [3]}))
    >>> (n,) = struct.unpack("<Q", blob[:8])
    >>> sorted(k for k in json.loads(blob[8:8 + n]) if k != "__metadata__")[:2]
    ['0.bias', '0.weight']
    """
    center, scale, target = input_scaling(session)
    meta = {"gradlab.playground.settings": json.dumps(session.settings), "epoch": str(session.epoch),
            "gradlab.playground.input_center": json.dumps(center), "gradlab.playground.input_scale": json.dumps(scale),
            "gradlab.playground.target_scale": repr(target)}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, WEIGHTS_FILE)
        io.save(session.model.state_dict(), path, metadata=meta)
        with open(path, "rb") as f:
            return f.read()


def snippet(session: Any, weights_file: str = WEIGHTS_FILE) -> str:
    """Python source that rebuilds the network, loads ``weights_file`` and defines ``features`` and ``predict``.

    >>> from gradlab.playground.session import Session
    >>> code = snippet(Session({"layers": [3]}))
    >>> compile(code, "snippet.py", "exec") is not None, "def predict" in code
    (True, True)
    """
    s, sizes = session.settings, session.layer_sizes
    act = ACTIVATIONS[s["activation"]]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(f"    nn.Linear({a}, {b}),")
        if i < len(sizes) - 2:
            layers.append(f"    nn.{act}(),")
    k = session.n_classes
    problem = s["problem"] + (f" ({k} classes)" if k else "")
    feats = ", ".join(FEATURE_CODE[f] for f in s["features"])
    if s["problem"] == "regression":
        out_doc, out_code = "the predicted target of each point", "out[:, 0] * TARGET_SCALE"
    elif k > 2:
        out_doc, out_code = f"the probabilities of the {k} classes, shape (n, {k})", "gradlab.nn.functional.softmax(" \
            "out, dim=1)"
    else:
        out_doc, out_code = "the probability of class 1 for each point", "gradlab.sigmoid(out)[:, 0]"
    data = "an uploaded CSV" if s["dataset"] == "csv" else s["dataset"]
    center, scale, target = input_scaling(session)
    if s["dataset"] == "csv":
        where = ("Points are in the units of your CSV file: features() centres and scales them as the playground "
                 "did.")
    else:
        where = "Points lie in [-6, 6] x [-6, 6], as in the playground."
    return f'''# A network trained in the gradlab playground: {data} data set, {problem}.
# Settings: {json.dumps({k_: s[k_] for k_ in ("features", "layers", "activation", "optimizer", "lr")})}
# Epochs trained: {session.epoch}. {where}
import numpy as np

import gradlab
import gradlab.nn.functional
from gradlab import io, nn

WEIGHTS = {weights_file!r}
# the network was trained on (points - CENTER) * SCALE; regression targets were divided by TARGET_SCALE
CENTER = np.array({center!r})
SCALE = np.array({scale!r})
TARGET_SCALE = {target!r}

model = nn.Sequential(
{chr(10).join(layers)}
)
model.load_state_dict(io.load(WEIGHTS))
model.eval()


def features(points):
    """(n, 2) points (x1, x2) -> the network's inputs: {", ".join(s["features"])}."""
    points = ((np.asarray(points, dtype=np.float64).reshape(-1, 2) - CENTER) * SCALE).astype(np.float32)
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([{feats}], axis=1).astype(np.float32)


def predict(points):
    """{out_doc[0].upper() + out_doc[1:]}."""
    with gradlab.no_grad():
        out = model(gradlab.from_numpy(features(points)))
        return ({out_code}).numpy()


if __name__ == "__main__":
    print(predict(CENTER + np.array([[0.0, 0.0], [3.0, 3.0], [-3.0, 3.0]]) / SCALE))
'''
