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

import copy
import json
import os
import warnings
from collections.abc import Mapping
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
_DOC_KEYS = {"class", "params", "attributes", "private", "optimizer_state"}
_LB_KEYS = {"y_type_", "sparse_input_", "neg_label", "pos_label", "sparse_output"}

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
    """Write a fitted MLP estimator to ``path`` (a safetensors file with JSON metadata), atomically.

    The estimator's class must be in its ``registry`` (a class attribute mapping class names to the classes
    that :func:`load_estimator` may rebuild; gradlab's ``BaseMLP`` fills it with every subclass).

    >>> import os, tempfile, warnings, numpy as np
    >>> from gradlab.estimators import MLPRegressor, load, save
    >>> warnings.simplefilter("ignore")  # two epochs do not converge
    >>> reg = MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(np.eye(4), np.arange(4.0))
    >>> path = os.path.join(tempfile.mkdtemp(), "reg.safetensors"); save(reg, path)
    >>> type(load(path)).__name__
    'MLPRegressor'
    """
    check_is_fitted(est)
    name = type(est).__name__
    params = est.get_params(deep=False)
    registry = getattr(type(est), "registry", {})
    if registry.get(name) is not est.__class__:
        raise TypeError(f"save_estimator handles gradlab's MLP estimators {sorted(registry)}, not {name}")
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
    fast = est.__dict__.get("_fastnet")
    if fast is not None:  # the fast training path's optimizer, in the nn path's layout
        optim_state = fast.state_dict()
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


def load_estimator(path: str | os.PathLike, classes: Mapping[str, type]) -> Any:
    """Read an estimator written by :func:`save_estimator`; ``classes`` maps the class names it may hold to the
    classes (``BaseMLP.registry``; :func:`gradlab.estimators.load` passes it).

    Everything is checked at load time: a damaged or foreign file (bad JSON, a field of the wrong type, arrays
    whose shapes do not fit together or do not fit the parameters) raises ``ValueError`` naming the file, never
    a ``KeyError``/``TypeError`` now or an ``AttributeError`` later at ``predict``.

    >>> import os, tempfile, gradlab
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.safetensors"); gradlab.save({"w": gradlab.ones(2)}, path)
    >>> load_estimator(path, {})
    Traceback (most recent call last):
    ...
    ValueError: ...weights.safetensors is not a saved gradlab estimator (no 'gradlab.estimator' metadata)
    """
    arrays, metadata = gio.load_arrays(path)
    where = os.fspath(path)
    raw = metadata.get(_META_KEY)
    if raw is None:
        raise ValueError(f"{where} is not a saved gradlab estimator (no {_META_KEY!r} metadata)")
    try:
        head = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError(f"{where} is not a valid saved estimator: its {_META_KEY!r} metadata is not JSON") from None
    if not isinstance(head, dict) or head.get("format") != _FORMAT:
        raise ValueError(f"{where} is not a saved gradlab estimator")
    version = head.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{where} is not a valid saved estimator: field 'version' must be a positive integer")
    if version > _VERSION:
        raise ValueError(f"{where} was written by a newer gradlab (format version {version})")
    try:
        doc = gio.unflatten_state(head.get("content"), arrays, tensor_factory=np.asarray)
    except ValueError as e:
        raise ValueError(f"{where} is not a valid saved estimator: field 'content' {e}") from None
    try:
        est = _build(doc, classes)
        _check_fitted_arrays(est)
        _probe(est)
    except Exception as e:  # whatever a damaged file provokes, reported as one ValueError naming it
        raise ValueError(f"{where} is not a valid saved estimator: {e}") from None
    return est


def _build(doc: Any, classes: Mapping[str, type]) -> Any:
    if not isinstance(doc, dict) or set(doc) != _DOC_KEYS:
        raise ValueError(f"its content must hold exactly the fields {sorted(_DOC_KEYS)}")
    name = doc["class"]
    if not isinstance(name, str) or name not in classes:
        raise ValueError(f"field 'class': unknown estimator class {str(name)[:40]!r}")
    cls = classes[name]
    for field in ("params", "attributes", "private"):
        if not isinstance(doc[field], dict) or not all(isinstance(k, str) for k in doc[field]):
            raise ValueError(f"field {field!r} must be a map of names")
    params = _restore(doc["params"])
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    try:
        est = cls(**params)
    except TypeError as e:
        raise ValueError(f"field 'params': {e}") from None
    est._validate_params()  # sklearn's own parameter check (InvalidParameterError, a ValueError)
    est._hidden_sizes()
    attributes = _restore(doc["attributes"])
    for key, value in attributes.items():
        if not key.endswith("_") or key.startswith("_"):
            raise ValueError(f"field 'attributes': {key[:40]!r} is not a fitted attribute name")
        setattr(est, key, value)
    private = _restore(doc["private"])
    lb_state = private.pop("_label_binarizer", None)
    for key, value in private.items():
        if key not in _PRIVATE:
            raise ValueError(f"field 'private': unexpected entry {key[:40]!r}")
        setattr(est, key, value)
    if lb_state is not None:
        if not isinstance(lb_state, dict) or set(lb_state) != _LB_KEYS:
            raise ValueError(f"field '_label_binarizer' must hold exactly {sorted(_LB_KEYS)}")
        lb = LabelBinarizer(neg_label=lb_state["neg_label"], pos_label=lb_state["pos_label"],
                            sparse_output=lb_state["sparse_output"])
        lb.classes_ = est.classes_
        lb.y_type_ = lb_state["y_type_"]
        lb.sparse_input_ = lb_state["sparse_input_"]
        est._label_binarizer = lb
    optim_state = doc["optimizer_state"]
    if optim_state is not None:
        if not isinstance(optim_state, dict) or set(optim_state) != {"state", "param_groups"}:
            raise ValueError("field 'optimizer_state' must be null or an optimizer state_dict")
        est._optim_state = optim_state
    return est


def _float_arrays(value: Any, name: str, ndim: int) -> list[np.ndarray]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{name} must be a non-empty list of arrays")
    for a in value:
        if not isinstance(a, np.ndarray) or a.ndim != ndim or a.dtype not in (np.float32, np.float64):
            raise ValueError(f"{name} must hold {ndim}-D float32/float64 arrays")
    return value


def _check_fitted_arrays(est: Any) -> None:
    """The fitted arrays fit each other, the parameters and the scalar attributes (shapes, dtypes, counts)."""
    check_is_fitted(est, "coefs_")
    coefs = _float_arrays(est.coefs_, "coefs_", 2)
    intercepts = _float_arrays(getattr(est, "intercepts_", None), "intercepts_", 1)
    dtype = coefs[0].dtype
    if len(intercepts) != len(coefs) or any(a.dtype != dtype for a in coefs + intercepts):
        raise ValueError("coefs_ and intercepts_ do not match in number or dtype")
    for i, (c, b) in enumerate(zip(coefs, intercepts)):
        if b.shape != (c.shape[1],) or (i and coefs[i - 1].shape[1] != c.shape[0]):
            raise ValueError(f"the shapes of coefs_[{i}] {c.shape} and intercepts_[{i}] {b.shape} do not fit")
    units = [c.shape[1] for c in coefs[:-1]]  # (hidden_layer_sizes may differ after set_params: refit checks it)
    expect = {"n_features_in_": coefs[0].shape[0], "n_outputs_": coefs[-1].shape[1], "n_layers_": len(coefs) + 1}
    for key, value in expect.items():
        got = getattr(est, key, None)
        if not isinstance(got, int) or isinstance(got, bool) or got != value:
            raise ValueError(f"{key} is {got!r} where the arrays give {value}")
    bn = getattr(est, "batch_norm_params_", None)
    if bn is not None:
        if not isinstance(bn, list) or len(bn) != len(units):
            raise ValueError("batch_norm_params_ must hold one record per hidden layer")
        for u, rec in zip(units, bn):
            keys = {"weight", "bias", "running_mean", "running_var"}
            if not isinstance(rec, dict) or set(rec) != keys or any(
                not isinstance(rec[k], np.ndarray) or rec[k].shape != (u,) or rec[k].dtype != dtype for k in keys
            ):
                raise ValueError("batch_norm_params_ do not fit the hidden layers")
    for name, ref in (("_best_coefs", coefs), ("_best_intercepts", intercepts)):
        best = getattr(est, name, None)
        if best is not None and (
            not isinstance(best, list) or len(best) != len(ref)
            or any(not isinstance(a, np.ndarray) or a.shape != r.shape for a, r in zip(best, ref))
        ):
            raise ValueError(f"{name} do not fit coefs_/intercepts_")
    classes = getattr(est, "classes_", None)
    if hasattr(est, "_label_binarizer") or classes is not None:
        lb = getattr(est, "_label_binarizer", None)
        if not isinstance(classes, np.ndarray) or classes.ndim != 1 or lb is None:
            raise ValueError("a classifier needs classes_ (a 1-D array) and its label binarizer")
        n_out = 1 if lb.y_type_ == "binary" and len(classes) == 2 else len(classes)
        if lb.y_type_ not in ("binary", "multiclass", "multilabel-indicator") or n_out != coefs[-1].shape[1]:
            raise ValueError(f"classes_ ({len(classes)}, {lb.y_type_!r}) do not fit {coefs[-1].shape[1]} outputs")


def _probe(est: Any) -> None:
    """One prediction on a row of zeros, on a copy (so nothing of ``est`` changes and no random state is used)."""
    probe = copy.copy(est)
    probe.__dict__.pop("_net", None)
    probe.__dict__.pop("_dropout_rng_state", None)
    probe.dropout = 0.0
    row = np.zeros((1, est.coefs_[0].shape[0]), dtype=est.coefs_[0].dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe._forward_pass_fast(row, check_input=False)
        probe.predict(row)
