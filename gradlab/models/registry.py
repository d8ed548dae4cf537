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
    """Register ``builder`` (a class or function taking keyword arguments) under ``name``; usable as a decorator."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        key = _key(name)
        if key in _REGISTRY and _REGISTRY[key] is not fn:
            raise ValueError(f"a model named {name!r} is already registered")
        _REGISTRY[key] = fn
        return fn

    return deco(builder) if builder is not None else deco


def unregister_model(name: str) -> Callable[..., Any]:
    return _REGISTRY.pop(_key(name))


def list_models() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_REGISTRY)


def get_model_builder(name: str) -> Callable[..., Any]:
    key = _key(name)
    if key not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _REGISTRY[key]


def build_model(name: str, **kwargs: Any) -> Any:
    """Build the model registered as ``name`` with ``kwargs`` (names are case-insensitive, ``_`` == ``-``)."""
    return get_model_builder(name)(**kwargs)
