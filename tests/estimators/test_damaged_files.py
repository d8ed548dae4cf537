"""estimators.load on damaged files (issue 13, defect 7): ValueError naming the file at load time, never a
KeyError/TypeError, nor an error only at predict. And hidden_layer_sizes is checked at fit as sklearn does."""

from __future__ import annotations

import json

import numpy as np
import pytest
import safetensors.numpy as st
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from gradlab.estimators import MLPClassifier, MLPRegressor, load


@pytest.fixture
def saved(tmp_path, binary):
    X, y = binary
    m = MLPClassifier(hidden_layer_sizes=(6, 4), batch_norm=True, max_iter=5, random_state=0).fit(X, y)
    path = tmp_path / "damaged.safetensors"
    m.save(path)
    return path


def _rewrite(path, change_content=None, change_arrays=None, raw=None):
    """Rewrite a saved estimator: its JSON content, its arrays, or the raw metadata text."""
    arrays = st.load_file(str(path))
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        meta = json.loads(f.read(n))["__metadata__"]
    head = json.loads(meta["gradlab.estimator"])
    if change_content is not None:
        change_content(head["content"])
    if change_arrays is not None:
        change_arrays(arrays)
        meta.pop("gradlab.key_order")
    meta["gradlab.estimator"] = raw if raw is not None else json.dumps(head)
    st.save_file(arrays, str(path), metadata=meta)


def _attr(name):
    return lambda c: c["attributes"]


CASES = {
    "no class": dict(change_content=lambda c: c.pop("class")),
    "class is a number": dict(change_content=lambda c: c.update({"class": 5})),
    "unknown class": dict(change_content=lambda c: c.update({"class": "Pipeline"})),
    "params not a map": dict(change_content=lambda c: c.update(params=5)),
    "unknown parameter": dict(change_content=lambda c: c["params"].update(bogus=1)),
    "bad activation": dict(change_content=lambda c: c["params"].update(activation="nope")),
    "float hidden size": dict(change_content=lambda c: c["params"].update(hidden_layer_sizes={"__tuple__": [2.5]})),
    "no coefs_": dict(change_content=lambda c: c["attributes"].pop("coefs_")),
    "coefs_ not a list": dict(change_content=lambda c: c["attributes"].update(coefs_=3)),
    "bad out_activation_": dict(change_content=lambda c: c["attributes"].update(out_activation_="zz")),
    "wrong n_features_in_": dict(change_content=lambda c: c["attributes"].update(n_features_in_=3)),
    "n_outputs_ a string": dict(change_content=lambda c: c["attributes"].update(n_outputs_="1")),
    "labels not a list": dict(change_content=lambda c: c["attributes"].update(
        classes_={"__dict__": [["__labels__", 5], ["dtype", "<i8"]]})),
    "labels with a bad dtype": dict(change_content=lambda c: c["attributes"].update(
        classes_={"__dict__": [["__labels__", [0, 1]], ["dtype", "qq"]]})),
    "three classes for one output": dict(change_content=lambda c: c["attributes"].update(
        classes_={"__dict__": [["__labels__", [0, 1, 2]], ["dtype", "<i8"]]})),
    "unexpected private entry": dict(change_content=lambda c: c["private"].update(_net=1)),
    "label binarizer missing fields": dict(change_content=lambda c: c["private"].update(_label_binarizer={})),
    "metadata not JSON": dict(raw="{not json"),
    "metadata deeply nested": dict(raw="[" * 100_000 + "]" * 100_000),
    "array removed": dict(change_arrays=lambda a: a.pop(sorted(a)[0])),
    "array reshaped": dict(change_arrays=lambda a: a.update(
        {k: v.reshape(-1) for k, v in a.items() if v.ndim == 2})),
    "array transposed": dict(change_arrays=lambda a: a.update(
        {k: np.ascontiguousarray(v.T) for k, v in a.items() if v.ndim == 2})),
    "array of ints": dict(change_arrays=lambda a: a.update(
        {k: v.astype(np.int64) for k, v in a.items() if v.ndim == 2})),
    "batch-norm array shortened": dict(change_arrays=lambda a: a.update(
        {k: v[:-1] for k, v in a.items() if "batch_norm_params_" in k})),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_file_is_a_value_error_naming_it_at_load(saved, case):
    _rewrite(saved, **CASES[case])
    with pytest.raises(ValueError, match="damaged.safetensors"):
        load(saved)
    with pytest.raises(ValueError, match="damaged.safetensors"):
        MLPClassifier.load(saved)


def test_undamaged_file_still_loads_and_predicts(saved, binary):
    _rewrite(saved, change_content=lambda c: None)
    X, _ = binary
    assert load(saved).predict(X).shape == (len(X),)


@pytest.mark.parametrize("sizes", [(2.5,), (3, 2.0), (True,), ("3",), ((2,),), np.array([2.5]), (0,), (-1,), (4, 0)])
def test_hidden_layer_sizes_are_checked_at_fit_like_sklearn(binary, sizes):
    X, y = binary
    with pytest.raises(Exception) as sk:
        SkMLPClassifier(hidden_layer_sizes=sizes, max_iter=2).fit(X, y)
    expected = ValueError if isinstance(sk.value, ValueError) else TypeError
    assert isinstance(sk.value, (TypeError, ValueError))
    for cls in (MLPClassifier, MLPRegressor):
        with pytest.raises(expected, match="hidden_layer_sizes"):
            cls(hidden_layer_sizes=sizes, max_iter=2).fit(X, y.astype(float) if cls is MLPRegressor else y)


def test_integer_like_hidden_sizes_are_accepted(binary):
    X, y = binary
    m = MLPClassifier(hidden_layer_sizes=(np.int64(3), 2), max_iter=2).fit(X, y)
    assert [c.shape[1] for c in m.coefs_] == [3, 2, 1]
