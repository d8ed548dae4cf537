"""The playground's settings: names, defaults, limits, and the validation every incoming value goes through.

A setting arrives from the browser as JSON; :func:`validate_settings` checks a partial update against the table
:data:`SPECS` and returns the merged settings, or raises :class:`SettingsError` with a message meant for the page.

>>> s = validate_settings({"dataset": "xor", "layers": [8, 8]})
>>> s["dataset"], s["layers"], s["lr"]
('xor', [8, 8], 0.03)
>>> validate_settings({"lr": -1})
Traceback (most recent call last):
...
gradlab.playground.config.SettingsError: learning rate must be a number above 0 and at most 10; got -1
"""
from __future__ import annotations

import math
from typing import Any

__all__ = [
    "SettingsError", "describe", "DEFAULTS", "SPECS", "LIMITS", "FEATURES", "ACTIVATIONS", "OPTIMIZERS", "DATASETS",
    "validate_settings", "n_classes_for",
]


class SettingsError(ValueError):
    """A refused setting or message; ``str(err)`` is shown to the user as is.

    >>> try:
    ...     validate_settings({"layers": [0]})
    ... except SettingsError as e:
    ...     str(e)
    'hidden layer 1: between 1 and 64 neurons, got 0'
    >>> issubclass(SettingsError, ValueError)
    True
    """


MAX_LAYERS = 8
MAX_NEURONS = 64
MAX_CLASSES = 6
GRID = 100           # the boundary heatmap is GRID x GRID points
DOMAIN = 6.0         # ... over [-DOMAIN, DOMAIN]^2, as in the TensorFlow Playground
MAX_CSV_ROWS = 5000
MAX_CSV_BYTES = 1_000_000

FEATURES: dict[str, str] = {  # name -> label shown in the page
    "x1": "X\u2081", "x2": "X\u2082", "x1sq": "X\u2081\u00b2", "x2sq": "X\u2082\u00b2", "x1x2": "X\u2081X\u2082",
    "sinx1": "sin(X\u2081)", "sinx2": "sin(X\u2082)",
}
ACTIVATIONS: dict[str, str] = {  # name -> gradlab.nn module
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Identity", "leaky_relu": "LeakyReLU",
    "elu": "ELU", "gelu": "GELU", "swish": "SiLU",
}
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
DATASETS: dict[str, tuple[str, ...]] = {
    "classification": ("circle", "xor", "gauss", "spiral"),
    "regression": ("plane", "reg-gauss"),
}
MULTICLASS_DATASETS = ("gauss", "spiral")

DEFAULTS: dict[str, Any] = {
    "problem": "classification", "dataset": "circle", "classes": 2, "noise": 0, "train_ratio": 50,
    "batch_size": 10, "seed": 1, "n_points": 500, "features": ["x1", "x2"], "layers": [4, 2],
    "activation": "tanh", "init": "default", "lr": 0.03, "optimizer": "sgd", "regularization": "none",
    "reg_rate": 0.0, "dropout": 0.0,
}

# name -> (kind, label, *details): "int"/"float" (low, high, low_open), "choice" (options)
SPECS: dict[str, tuple] = {
    "problem": ("choice", "problem type", tuple(DATASETS)),
    "dataset": ("choice", "data set", DATASETS["classification"] + DATASETS["regression"] + ("csv",)),
    "classes": ("int", "number of classes", 2, MAX_CLASSES, False),
    "noise": ("int", "noise", 0, 50, False),
    "train_ratio": ("int", "ratio of training data (%)", 10, 90, False),
    "batch_size": ("int", "batch size", 1, 100, False),
    "seed": ("int", "seed", 0, 2**31 - 1, False),
    "n_points": ("int", "number of points", 50, 2000, False),
    "features": ("features", "input features"),
    "layers": ("layers", "hidden layers"),
    "activation": ("choice", "activation", tuple(ACTIVATIONS)),
    "init": ("choice", "weight initialisation", ("default", "xavier", "he")),
    "lr": ("float", "learning rate", 0.0, 10.0, True),
    "optimizer": ("choice", "optimizer", OPTIMIZERS),
    "regularization": ("choice", "regularization", ("none", "l1", "l2")),
    "reg_rate": ("float", "regularization rate", 0.0, 10.0, False),
    "dropout": ("float", "dropout", 0.0, 0.9, False),
}

# settings that keep the current weights when they change (everything else rebuilds data and/or network)
LIVE_SETTINGS = frozenset({"lr", "optimizer", "regularization", "reg_rate", "batch_size", "dropout"})
DATA_SETTINGS = frozenset({"problem", "dataset", "classes", "noise", "train_ratio", "seed", "n_points"})

LIMITS: dict[str, Any] = {
    "max_layers": MAX_LAYERS, "max_neurons": MAX_NEURONS, "max_classes": MAX_CLASSES, "grid": GRID,
    "domain": DOMAIN, "max_csv_rows": MAX_CSV_ROWS, "max_csv_bytes": MAX_CSV_BYTES,
    "ranges": {k: list(v[2:4]) for k, v in SPECS.items() if v[0] in ("int", "float")},
}


def describe(value: Any) -> str:
    """``value`` in words for a message: short values as they are, long or odd ones described, never echoed.

    >>> describe(None), describe(True), describe(10**300), describe(2.5), describe("x" * 99)
    ('nothing (null)', 'true', 'a number with 301 digits', '2.5', 'a text of 99 characters')
    """
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        digits = len(str(abs(value)))
        return f"{value:,}" if digits <= 15 else f"a number with {digits} digits"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else "an infinite number" if value == value else "NaN"
    if isinstance(value, str):
        return repr(value) if len(value) <= 30 else f"a text of {len(value)} characters"
    if isinstance(value, list):
        return "an empty list" if not value else f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _bound(v: float, kind: str) -> str:
    return f"{int(v):,}" if kind == "int" else f"{v:g}"


def _number(name: str, value: Any, kind: str, label: str, low: float, high: float, low_open: bool) -> Any:
    lo, hi = _bound(low, kind), _bound(high, kind)
    wanted = (f"a whole number from {lo} to {hi}" if kind == "int" else
              f"a number above {lo} and at most {hi}" if low_open else f"a number from {lo} to {hi}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or (kind == "int" and value != int(value)):
        raise SettingsError(f"{label} must be {wanted}; got {describe(value)}")
    value = int(value) if kind == "int" else float(value)
    if (value <= low if low_open else value < low) or value > high:
        raise SettingsError(f"{label} must be {wanted}; got {describe(value)}")
    return value


def _check_one(name: str, value: Any) -> Any:
    spec = SPECS[name]
    kind, label = spec[0], spec[1]
    if kind in ("int", "float"):
        return _number(name, value, kind, label, *spec[2:])
    if kind == "choice":
        if not isinstance(value, str) or value not in spec[2]:
            raise SettingsError(f"{label} must be one of {', '.join(spec[2])}; got {describe(value)}")
        return value
    if kind == "features":
        if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
            raise SettingsError(f"{label} must be a list of feature names ({', '.join(FEATURES)}); "
                                f"got {describe(value)}")
        unknown = [f for f in value if f not in FEATURES]
        if unknown:
            raise SettingsError(f"unknown input feature {describe(unknown[0])}; choose from {', '.join(FEATURES)}")
        if not value:
            raise SettingsError("choose at least one input feature")
        return [f for f in FEATURES if f in value]  # canonical order, no duplicates
    if kind == "layers":
        if not isinstance(value, list):
            raise SettingsError(f"{label} must be a list of neuron counts, e.g. [4, 2]; got {describe(value)}")
        if len(value) > MAX_LAYERS:
            raise SettingsError(f"at most {MAX_LAYERS} hidden layers, got {len(value)}")
        out = []
        for i, n in enumerate(value):
            if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or n != int(n):
                raise SettingsError(f"hidden layer {i + 1}: the number of neurons must be a whole number, "
                                    f"got {describe(n)}")
            if not 1 <= n <= MAX_NEURONS:
                raise SettingsError(f"hidden layer {i + 1}: between 1 and {MAX_NEURONS} neurons, got {int(n)}")
            out.append(int(n))
        return out
    raise AssertionError(kind)


def validate_settings(update: Any, current: dict[str, Any] | None = None, *, csv_problem: str | None = None
                      ) -> dict[str, Any]:
    """Check ``update`` (a dict of some settings) and return ``current`` (default :data:`DEFAULTS`) updated with it.

    ``csv_problem`` is the problem type of an uploaded CSV data set (``None``: none uploaded, so ``dataset='csv'``
    is refused). Raises :class:`SettingsError` on the first bad value; ``current`` is never modified.

    >>> current = validate_settings({"dataset": "xor"})
    >>> validate_settings({"lr": 0.1}, current)["dataset"], current["lr"]  # current is left as it was
    ('xor', 0.03)
    >>> validate_settings({"dataset": "csv"})
    Traceback (most recent call last):
        ...
    gradlab.playground.config.SettingsError: no CSV data set uploaded yet: upload a file first
    """
    if not isinstance(update, dict):
        raise SettingsError(f"settings must be an object of name: value pairs; got {describe(update)}")
    merged = dict(DEFAULTS if current is None else current)
    for name, value in update.items():
        if name not in SPECS:
            raise SettingsError(f"unknown setting {describe(name)}")
        merged[name] = _check_one(name, value)
    if "dataset" in update and "problem" not in update:  # a data set implies its problem type
        merged["problem"] = next((p for p, names in DATASETS.items() if merged["dataset"] in names), merged["problem"])
    problem, dataset = merged["problem"], merged["dataset"]
    if dataset == "csv" and "problem" in update and problem != csv_problem and "dataset" not in update:
        dataset = merged["dataset"] = DATASETS[problem][0]  # leaving the CSV's problem type leaves the CSV
    if dataset == "csv":
        if csv_problem is None:
            raise SettingsError("no CSV data set uploaded yet: upload a file first")
        if "problem" in update and problem != csv_problem:
            raise SettingsError(f"the uploaded CSV data set is a {csv_problem} problem, not {problem}")
        merged["problem"] = csv_problem
    elif dataset not in DATASETS[problem]:
        if "dataset" in update:
            raise SettingsError(f"data set {dataset!r} is not a {problem} data set; choose from "
                                f"{', '.join(DATASETS[problem])}")
        merged["dataset"] = DATASETS[problem][0]  # switching the problem type picks that type's first data set
    return merged


def n_classes_for(settings: dict[str, Any]) -> int:
    """Classes of the generated data set: ``classes`` for gauss and spiral, 2 for circle and xor, 0 for regression.

    >>> n_classes_for(dict(DEFAULTS, dataset="spiral", classes=3)), n_classes_for(dict(DEFAULTS, classes=3))
    (3, 2)
    """
    if settings["problem"] == "regression":
        return 0
    return settings["classes"] if settings["dataset"] in MULTICLASS_DATASETS else 2
