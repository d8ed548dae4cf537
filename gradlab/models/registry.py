"""A name -> constructor registry for ready models, so the CLI and config files can name a model.

>>> @register_model("tiny-demo")
... def _tiny(n=2):
...     return ("tiny", n)
>>> build_model("tiny-demo", n=3)
('tiny', 3)
>>> "tiny-demo" in list_models()
True
>>> _ = unregister_model("tiny-demo")
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register_model", "unregister_model", "build_model", "list_models", "get_model_builder"]

_REGISTRY: dict[str, Callable[..., Any]] = {}


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def register_model(name: str, builder: Callable[..., Any] | None = None) -> Any:
    """Register ``builder`` (a class or function taking keyword arguments) under ``name``; usable as a decorator.

    >>> @register_model("demo-pair")
    ... def pair(n=1):
    ...     return ("pair", n)
    >>> build_model("demo-pair", n=2)
    ('pair', 2)
    >>> _ = unregister_model("demo-pair")
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        key = _key(name)
        old = _REGISTRY.get(key)
        same = old is fn or (old is not None and (getattr(old, "__module__", None), getattr(old, "__qualname__", None))
                             == (getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)))
        if old is not None and not same:  # the same builder imported again (e.g. a module reloaded) may re-register
            raise ValueError(f"a model named {name!r} is already registered")
        _REGISTRY[key] = fn
        return fn

    return deco(builder) if builder is not None else deco


def unregister_model(name: str) -> Callable[..., Any]:
    """Remove the model registered as ``name`` and return its builder (KeyError if there is none).

    >>> _ = register_model("demo-gone", lambda: None)
    >>> callable(unregister_model("demo-gone")), "demo-gone" in list_models()
    (True, False)
    """
    return _REGISTRY.pop(_key(name))


def list_models() -> list[str]:
    """The registered model names, sorted.

    >>> {"mlp", "lenet5", "lstm"} <= set(list_models())
    True
    """
    return sorted(_REGISTRY)


def get_model_builder(name: str) -> Callable[..., Any]:
    """The builder registered as ``name`` (ValueError naming the available ones when unknown).

    >>> get_model_builder("MLP").__name__
    'MLP'
    """
    key = _key(name)
    if key not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _REGISTRY[key]


def build_model(name: str, **kwargs: Any) -> Any:
    """Build the model registered as ``name`` with ``kwargs`` (names are case-insensitive, ``_`` == ``-``).

    >>> type(build_model("lenet5", num_classes=3)).__name__
    'LeNet5'
    """
    return get_model_builder(name)(**kwargs)
