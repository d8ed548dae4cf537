"""The callback protocol of :func:`gradlab.train.fit`: ``Callback``, ``CallbackList``, ``LambdaCallback``.

See :mod:`gradlab.train.callbacks` for the hook order and the ready callbacks.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Callback", "CallbackList", "LambdaCallback"]


class Callback:
    """Base class: override the hooks you need (all are no-ops here).

    >>> class Count(Callback):
    ...     def __init__(self):
    ...         self.epochs = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.epochs += 1
    >>> c = Count()
    >>> CallbackList([c]).on_epoch_end(0, {"loss": 1.0})
    >>> c.epochs, Callback().state_dict()
    (1, {})
    """

    state: Any = None

    @property
    def model(self) -> Any:
        return getattr(self.state, "model", None)

    def set_state(self, state: Any) -> None:
        self.state = state

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_exception(self, exc: BaseException) -> None:
        """Training stopped with ``exc`` (release resources; the exception propagates afterwards)."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def _overrides(cb: Callback, name: str) -> bool:
    fn = getattr(cb, name, None)
    return getattr(fn, "__func__", fn) is not getattr(Callback, name)


class CallbackList(Callback):
    """Dispatches every hook to a list of callbacks, in order (``on_batch_end`` only to those that define it).

    >>> seen = []
    >>> class Log(Callback):
    ...     def __init__(self, name):
    ...         self.name = name
    ...     def on_train_begin(self, logs=None):
    ...         seen.append(self.name)
    >>> cbs = CallbackList([Log("a"), Log("b")])
    >>> cbs.on_train_begin()
    >>> seen, len(cbs.callbacks)
    (['a', 'b'], 2)
    """

    def __init__(self, callbacks: Iterable[Callback] | None = None) -> None:
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be gradlab.train.Callback instances, got {type(cb).__name__}")
        self._batch_end = [cb for cb in self.callbacks if _overrides(cb, "on_batch_end")]

    @property
    def wants_batch_end(self) -> bool:
        return bool(self._batch_end)

    def __iter__(self):
        return iter(self.callbacks)

    def set_state(self, state: Any) -> None:
        self.state = state
        for cb in self.callbacks:
            cb.set_state(state)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for cb in self._batch_end:
            cb.on_batch_end(batch, logs)

    def on_exception(self, exc: BaseException) -> None:
        for cb in self.callbacks:
            cb.on_exception(exc)

    def state_dict(self) -> dict[str, Any]:
        return {f"{i}:{type(cb).__name__}": cb.state_dict() for i, cb in enumerate(self.callbacks) if cb.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for i, cb in enumerate(self.callbacks):
            key = f"{i}:{type(cb).__name__}"
            if key in state:
                cb.load_state_dict(state[key])


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch))``.

    >>> seen = []
    >>> LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e)).on_epoch_end(3, {})
    >>> seen
    [3]
    """

    def __init__(self, **hooks: Callable[..., None]) -> None:
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"unknown callback hook {name!r}")
            setattr(self, name, fn)
