"""Saving and loading fitted gradlab estimators without pickle.

One safetensors file (written atomically by :func:`gradlab.io.save`) holds every array (``coefs_``,
``intercepts_``, batch-norm parameters, optimizer state, ...); its header metadata holds, as JSON, the class name,
the constructor parameters and every other fitted attribute (``classes_`` and ``feature_names_in_`` included,
with their dtype). Loading never unpickles anything.

>>> import os, tempfile, numpy as np
>>> from gradlab.estimators import MLPClassifier, load
>>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]]); y = np.array(["a", "b", "b", "a"])
>>> clf = MLPClassifier((4,), solver="lbfgs", random_state=0).fit(X, y)
>>> path = os.path.join(tempfile.mkdtemp(), "clf.safetensors")
>>> clf.save(path)
>>> clf2 = load(path)
>>> bool((clf2.predict(X) == clf.predict(X)).all()), clf2.classes_.tolist()
(True, ['a', 'b'])
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from gradlab import io as gio

__all__ = ["save_estimator", "load_estimator"]

_META_KEY = "gradlab.estimator"
_FORMAT = "gradlab-estimator"
_VERSION = 1

# private attributes worth keeping (training can continue after loading: partial_fit, warm_start)
_PRIVATE = ("_no_improvement_count", "_learning_rate", "_best_coefs", "_best_intercepts", "_best_bn", "_stopped")


def _estimator_classes() -> dict[str, type]:
    from .classifier import MLPClassifier
    from .regressor import MLPRegressor

    return {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}


def _encode_labels(a: np.ndarray) -> dict:
    """Label arrays (``classes_``, ``feature_names_in_``) whose dtype safetensors cannot hold (str, object)."""
    items = [v.item() if isinstance(v, np.generic) else v for v in a.tolist()]
    for v in items:
        if not isinstance(v, (str, int, float, bool)) and v is not None:
            raise TypeError(f"cannot save a label of type {type(v).__name__} ({v!r}) without pickle")
    return {"__labels__": items, "dtype": a.dtype.str if a.dtype.kind != "O" else "O"}


def _prepare(value: Any) -> Any:
    """Replace arrays of non-numeric dtype by JSON-able label records (recursively in lists/tuples/dicts)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufc":
            return np.ascontiguousarray(value)
        return _encode_labels(value)
    if isinstance(value, list):
        return [_prepare(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_prepare(v) for v in value)
    if isinstance(value, dict):
        return {k: _prepare(v) for k, v in value.items()}
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__labels__", "dtype"}:
            dt = value["dtype"]
            if dt == "O":
                out = np.empty(len(value["__labels__"]), dtype=object)
                out[:] = value["__labels__"]
                return out
            return np.asarray(value["__labels__"], dtype=np.dtype(dt))
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_restore(v) for v in value)
    return value


def save_estimator(est: Any, path: str | os.PathLike) -> None:
    """Write a fitted MLP estimator to ``path`` (a safetensors file with JSON metadata), atomically."""
    check_is_fitted(est)
    classes = _estimator_classes()
    name = type(est).__name__
    if name not in classes:
        raise TypeError(f"save_estimator handles {sorted(classes)}, not {name}")
    params = est.get_params(deep=False)
    if isinstance(params.get("random_state"), np.random.RandomState):
        params["random_state"] = None  # a RandomState instance cannot be stored without pickle
    if isinstance(params.get("hidden_layer_sizes"), np.ndarray):
        params["hidden_layer_sizes"] = tuple(int(v) for v in params["hidden_layer_sizes"])
    attrs: dict[str, Any] = {}
    for key, value in vars(est).items():
        if key.endswith("_") and not key.startswith("_"):
            attrs[key] = value
    private = {k: getattr(est, k) for k in _PRIVATE if hasattr(est, k)}
    lb = getattr(est, "_label_binarizer", None)
    if lb is not None:
        private["_label_binarizer"] = {
            "y_type_": lb.y_type_, "sparse_input_": bool(lb.sparse_input_), "neg_label": lb.neg_label,
            "pos_label": lb.pos_label, "sparse_output": lb.sparse_output,
        }
    net = est.__dict__.get("_net")
    optim_state = net.optimizer.state_dict() if net is not None and net.optimizer is not None else None
    if optim_state is None:
        optim_state = est.__dict__.get("_optim_state")
    doc = {
        "class": name,
        "params": _prepare(params),
        "attributes": _prepare(attrs),
        "private": _prepare(private),
        "optimizer_state": optim_state,
    }
    tree, arrays = gio.flatten_state(doc)
    meta = {_META_KEY: json.dumps({"format": _FORMAT, "version": _VERSION, "content": tree}, allow_nan=False)}
    gio.save(arrays, path, metadata=meta)


def load_estimator(path: str | os.PathLike) -> Any:
    """Read an estimator written by :func:`save_estimator`."""
    arrays, metadata = gio._load_arrays(path)
    raw = metadata.get(_META_KEY)
    if raw is None:
        raise ValueError(f"{os.fspath(path)} is not a saved gradlab estimator (no {_META_KEY!r} metadata)")
    head = json.loads(raw)
    if head.get("format") != _FORMAT:
        raise ValueError(f"{os.fspath(path)} is not a saved gradlab estimator")
    if head.get("version", 0) > _VERSION:
        raise ValueError(f"{os.fspath(path)} was written by a newer gradlab (format version {head['version']})")
    doc = gio.unflatten_state(head["content"], arrays, tensor_factory=np.asarray)
    classes = _estimator_classes()
    if doc["class"] not in classes:
        raise ValueError(f"{os.fspath(path)} holds an unknown estimator class {doc['class']!r}")
    cls = classes[doc["class"]]
    params = _restore(doc["params"])
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    est = cls(**params)
    for key, value in _restore(doc["attributes"]).items():
        setattr(est, key, value)
    private = _restore(doc["private"])
    lb_state = private.pop("_label_binarizer", None)
    for key, value in private.items():
        setattr(est, key, value)
    if lb_state is not None:
        lb = LabelBinarizer(neg_label=lb_state["neg_label"], pos_label=lb_state["pos_label"],
                            sparse_output=lb_state["sparse_output"])
        lb.classes_ = est.classes_
        lb.y_type_ = lb_state["y_type_"]
        lb.sparse_input_ = lb_state["sparse_input_"]
        est._label_binarizer = lb
    if doc.get("optimizer_state") is not None:
        est._optim_state = doc["optimizer_state"]
    if hasattr(est, "coefs_"):
        est._prepare_arrays(est.coefs_[0].dtype)
    return est
