"""Search spaces for ``gradlab tune``: which run options a trial samples, and how (seed 004: random search on a log
scale for the learning rate and the weight decay).

A space maps an option of :func:`gradlab.train.experiment.make_config` to a distribution:

- ``{"type": "float", "low": 1e-4, "high": 1e-1, "log": true}`` (``"loguniform"`` is ``float`` with ``log``),
- ``{"type": "int", "low": 1, "high": 3}`` (``log`` allowed),
- ``{"type": "categorical", "choices": [64, 128, 256]}``; ``hidden`` takes choices like ``"256,128"``.

It is read from a TOML file (one table per option) or a YAML file (when PyYAML is installed), or built from
command-line flags; :func:`check_space` names the key of any mistake.

>>> space = check_space({"lr": {"type": "loguniform", "low": 1e-4, "high": 1e-1}})
>>> space["lr"]
{'type': 'float', 'low': 0.0001, 'high': 0.1, 'log': True}
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

__all__ = ["TUNABLE", "DEFAULT_SPACE", "check_space", "load_space", "suggest_config", "parse_range"]

#: the options a trial may sample, with the kind of value each takes
TUNABLE: dict[str, str] = {
    "lr": "float", "weight_decay": "float", "momentum": "float", "dropout": "float", "batch_size": "int",
    "hidden": "hidden", "activation": "str", "optimizer": "str", "scheduler": "str", "epochs": "int",
}

#: the space searched when neither a file nor flags say otherwise
DEFAULT_SPACE: dict[str, dict[str, Any]] = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "weight_decay": {"type": "float", "low": 1e-6, "high": 1e-2, "log": True},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5, "log": False},
    "batch_size": {"type": "categorical", "choices": [64, 128, 256]},
    "hidden": {"type": "categorical", "choices": ["128", "256", "512", "256,256", "512,512"]},
}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def _hidden(value: Any, where: str) -> str:
    text = ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    parts = [p for p in text.replace(" ", "").split(",") if p]
    if text.strip().lower() in ("", "none"):
        return ""
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"{where}: hidden sizes must be comma-separated positive integers like '256,128', "
                         f"got {value!r}")
    return ",".join(parts)


def check_space(space: Any, source: str = "search space") -> dict[str, dict[str, Any]]:
    """The space normalised (``loguniform`` -> ``float`` with ``log``; ints as ints), or a ValueError naming the
    offending key.

    >>> check_space({"dropout": {"type": "float", "low": 0.5, "high": 0.1}})
    Traceback (most recent call last):
    ValueError: search space: 'dropout': low (0.5) must be below high (0.1)
    """
    if not isinstance(space, dict) or not space:
        raise ValueError(f"{source}: expected a table of options to tune (e.g. [lr] with type, low, high)")
    out: dict[str, dict[str, Any]] = {}
    for key, spec in space.items():
        where = f"{source}: {key!r}"
        if key not in TUNABLE:
            raise ValueError(f"{where} is not a tunable option; choose from {', '.join(TUNABLE)}")
        if not isinstance(spec, dict):
            raise ValueError(f"{where} must be a table with a type (float, loguniform, int, categorical)")
        kind = spec.get("type")
        extra = set(spec) - {"type", "low", "high", "log", "choices"}
        if extra:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
        if kind in ("float", "loguniform", "int"):
            for f in ("low", "high"):
                if f not in spec:
                    raise ValueError(f"{where}: missing {f}")
            low, high = _number(spec["low"], f"{where}: low"), _number(spec["high"], f"{where}: high")
            log = bool(spec.get("log", kind == "loguniform"))
            if TUNABLE[key] not in ("float", "int") or (kind == "int" and TUNABLE[key] != "int"):
                raise ValueError(f"{where} takes a {TUNABLE[key]}, not a {kind} range; use categorical choices")
            if low >= high:
                raise ValueError(f"{where}: low ({spec['low']}) must be below high ({spec['high']})")
            if log and low <= 0:
                raise ValueError(f"{where}: a log scale needs low > 0, got {spec['low']}")
            if kind == "int":
                if low != int(low) or high != int(high):
                    raise ValueError(f"{where}: an int range needs integer bounds")
                out[key] = {"type": "int", "low": int(low), "high": int(high), "log": log}
            else:
                out[key] = {"type": "float", "low": low, "high": high, "log": log}
        elif kind == "categorical":
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices:
                raise ValueError(f"{where}: categorical needs a non-empty list of choices")
            if TUNABLE[key] == "hidden":
                choices = [_hidden(c, where) for c in choices]
            elif TUNABLE[key] in ("float", "int"):
                choices = [_number(c, f"{where}: choice") for c in choices]
                if TUNABLE[key] == "int":
                    if any(c != int(c) or c < 1 for c in choices):
                        raise ValueError(f"{where}: choices must be positive integers")
                    choices = [int(c) for c in choices]
            elif not all(isinstance(c, str) for c in choices):
                raise ValueError(f"{where}: choices must be names (strings)")
            out[key] = {"type": "categorical", "choices": choices}
        else:
            raise ValueError(f"{where}: type must be float, loguniform, int or categorical, got {kind!r}")
    return out


def load_space(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Read and check a search-space file: ``.toml`` (tomllib, or tomli before Python 3.11) or ``.yaml``/``.yml``
    (needs PyYAML).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "space.toml")
    >>> _ = open(p, "w").write('[lr]\\ntype = "loguniform"\\nlow = 1e-4\\nhigh = 0.1\\n')
    >>> load_space(p)["lr"]["log"]
    True
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no search-space file {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:
            raise ImportError(f"{path}: YAML search spaces need PyYAML (pip install pyyaml); or write TOML") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ValueError(f"{path} is not valid YAML: {str(e).splitlines()[0]}") from None
    elif path.suffix.lower() == ".toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{path} is not valid TOML: {e}") from None
    else:
        raise ValueError(f"{path}: a search space is a .toml or .yaml file")
    return check_space(data, source=str(path))


def parse_range(text: str, key: str, log: bool = False) -> dict[str, Any]:
    """A flag's value as a distribution: ``LOW:HIGH`` (a range, on a log scale with ``log``) or ``A,B,C``
    (choices; ``hidden`` takes ``|``-separated choices like ``128|256,256``).

    >>> parse_range("1e-4:1e-1", "lr", log=True)
    {'type': 'float', 'low': 0.0001, 'high': 0.1, 'log': True}
    >>> parse_range("64,128", "batch_size")
    {'type': 'categorical', 'choices': [64, 128]}
    """
    kind = TUNABLE[key]
    try:
        if kind == "hidden":
            spec: dict[str, Any] = {"type": "categorical", "choices": text.split("|")}
        elif ":" in text:
            low, high = (float(v) for v in text.split(":"))
            spec = {"type": "int" if kind == "int" else "float", "low": low, "high": high, "log": log}
        else:
            items = [v.strip() for v in text.split(",") if v.strip()]
            spec = {"type": "categorical",
                    "choices": [float(v) if kind in ("float", "int") else v for v in items]}
    except ValueError:
        raise ValueError(f"--{key.replace('_', '-')}: expected LOW:HIGH or A,B,C, got {text!r}") from None
    return check_space({key: spec}, source=f"--{key.replace('_', '-')}")[key]


def suggest_config(trial: Any, space: dict[str, dict[str, Any]], base: dict[str, Any]) -> dict[str, Any]:
    """A run config: ``base`` (a :func:`~gradlab.train.experiment.make_config` dict) with the trial's samples.

    ``trial`` is an Optuna trial, or anything with its ``suggest_float``/``suggest_int``/``suggest_categorical``:

    >>> class Lowest:  # a stand-in trial that always takes the low end
    ...     def suggest_float(self, name, low, high, log=False): return low
    ...     def suggest_categorical(self, name, choices): return choices[0]
    >>> from gradlab.train.experiment import make_config
    >>> space = check_space({"lr": {"type": "loguniform", "low": 1e-3, "high": 1e-1},
    ...                      "hidden": {"type": "categorical", "choices": ["16,8", "32"]}})
    >>> cfg = suggest_config(Lowest(), space, make_config(epochs=1))
    >>> cfg["lr"], cfg["model_kwargs"]["hidden"], cfg["epochs"]
    (0.001, [16, 8], 1)
    """
    from gradlab.train.experiment import make_config

    values: dict[str, Any] = {}
    for key, spec in space.items():
        if spec["type"] == "float":
            values[key] = trial.suggest_float(key, spec["low"], spec["high"], log=spec["log"])
        elif spec["type"] == "int":
            values[key] = trial.suggest_int(key, spec["low"], spec["high"], log=spec["log"])
        else:
            values[key] = trial.suggest_categorical(key, spec["choices"])
    mk = dict(base.get("model_kwargs", {}))
    if "hidden" in values:
        values["hidden"] = tuple(int(h) for h in values["hidden"].split(",") if h)
    keys = ("dataset", "model", "optimizer", "lr", "momentum", "weight_decay", "scheduler", "epochs", "batch_size",
            "seed", "val_split", "limit", "clip_grad_norm")
    args = {k: base[k] for k in keys if k in base}
    if base.get("model") == "mlp":
        args.update(hidden=mk.pop("hidden", (512, 512)), activation=mk.pop("activation", "relu"),
                    dropout=mk.pop("dropout", 0.0), batch_norm=mk.pop("batch_norm", False))
    args.update(values)
    if base.get("model") != "mlp":
        for k in ("hidden", "activation", "dropout"):
            if k in args:
                mk[k] = args.pop(k)
    return make_config(**args, **mk)
