"""The ``Optimizer`` base class: parameter groups, per-parameter state, ``state_dict`` / ``load_state_dict``.

Everything follows ``torch.optim.Optimizer``: ``params`` is an iterable of Tensors or of dicts (parameter groups),
``state`` maps each parameter to a dict of its state, ``state_dict()`` has the torch layout (``'state'`` keyed by
integer index, ``'param_groups'`` with ``'params'`` as index lists).

Updates are done in place on ``p._data`` (a numpy array); the subclasses keep their temporaries in per-dtype scratch
buffers (:meth:`Optimizer._workspace`) so that a step allocates nothing once it has run once.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from ..backend import get_array_module
from ..kernels.optim import WORKSPACE_SLOTS
from ..tensor import Tensor
from ._optimizer_utils import _cast_state as _cast_state
from ._optimizer_utils import _copy_state as _copy_state
from ._optimizer_utils import _normalize_index as _normalize_index
from ._optimizer_utils import _ParamState as _ParamState
from ._optimizer_utils import _RemovableHandle as _RemovableHandle
from ._optimizer_utils import _to_numpy as _to_numpy
from ._optimizer_utils import _typename as _typename

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton marking a hyper-parameter that every parameter group must give."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class Optimizer:
    r"""Base class for all optimizers (as ``torch.optim.Optimizer``).

    Args:
        params: an iterable of Tensors, or of dicts (parameter groups) each with a ``'params'`` entry and optional
            per-group hyper-parameters.
        defaults: the default hyper-parameters, used by groups that do not set them.

    A subclass implements :meth:`step`. ``p.grad`` is ``None`` for a parameter that got no gradient; such a
    parameter is skipped.

    >>> import gradlab
    >>> from gradlab.optim import SGD
    >>> w = gradlab.tensor([1.0, 2.0], requires_grad=True)
    >>> b = gradlab.tensor([0.0], requires_grad=True)
    >>> opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [g["lr"] for g in opt.param_groups]
    [0.1, 0.5]
    >>> sd = opt.state_dict()
    >>> [g["params"] for g in sd["param_groups"]]
    [[0], [1]]
    """

    #: per-parameter state keys whose arrays have the parameter's shape (checked by :meth:`load_state_dict`)
    _param_shaped_state: frozenset = frozenset()

    # ------------------------------------------------------------------ construction
    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._in_step = False
        self._opt_called = False
        self._ws: dict[tuple, Any] = {}

        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + _typename(params)
            )
        if isinstance(params, dict):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got a single dict; wrap it in a list"
            )

        if isinstance(params, (set, frozenset)):  # torch lets this through; the order would vary between runs
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. Please use a list instead."
            )

        self.state: _ParamState = _ParamState()
        self.param_groups: list[dict[str, Any]] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Wrap each subclass's own ``step`` so that hooks run and schedulers can tell the optimizer has stepped
        # (torch patches the bound method per instance; wrapping at class level does the same once).
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is None or getattr(step, "_gradlab_step_wrapper", False):
            return

        @functools.wraps(step)
        def wrapper(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
            if self._in_step:  # a subclass's step calling super().step(): hooks already ran
                return step(self, *args, **kwargs)
            for pre_hook in list(self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"{pre_hook} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                        )
                    args, kwargs = result
            self._in_step = True
            try:
                out = step(self, *args, **kwargs)
            finally:
                self._in_step = False
            self._opt_called = True
            for post_hook in list(self._optimizer_step_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out

        wrapper._gradlab_step_wrapper = True  # type: ignore[attr-defined]
        cls.step = wrapper  # type: ignore[method-assign]

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (a dict with ``'params'`` and optional hyper-parameters) to :attr:`param_groups`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        tensors: list[Any] = []
        names: list[str] = []
        for param in param_group["params"]:
            if isinstance(param, tuple) and len(param) == 2 and isinstance(param[0], str):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not getattr(param, "is_leaf", True) and not getattr(param, "retains_grad", False):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "in future, this will cause an error; "
                "see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )

        existing: set[int] = set()
        for group in self.param_groups:
            existing.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook: Callable) -> _RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` to run before each :meth:`step`."""
        handle = _RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> _RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None`` to run after each :meth:`step`."""
        handle = _RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters: to ``None`` (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if getattr(g, "grad_fn", None) is not None:
                    g = g.detach()
                    p.grad = g
                elif getattr(g, "requires_grad", False):
                    g.requires_grad = False
                arr = g._data
                if isinstance(arr, np.ndarray) and arr.flags.writeable:
                    arr.fill(0)
                else:  # read-only (broadcast) arrays, and GPU arrays (fresh zeros from CuPy's pool)
                    g._data = get_array_module(arr).zeros_like(arr)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    @staticmethod
    def _run_closure(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        try:
            from ..autograd import enable_grad  # type: ignore[attr-defined]
        except ImportError:  # pragma: no cover - grad mode lives elsewhere
            from .. import enable_grad  # type: ignore[attr-defined]
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ scratch space
    def _workspace(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A scratch array shaped and typed like ``like``, reused across steps (one buffer per dtype and slot)."""
        xp = get_array_module(like)
        key = (like.dtype, slot) if xp is np else (like.dtype, slot, str(like.device))
        buf = self._ws.get(key)
        n = like.size
        if buf is None or buf.size < n:
            buf = xp.empty(n, dtype=like.dtype)
            self._ws[key] = buf
        return buf[:n].reshape(like.shape)

    def _flat_workspace(self, like: np.ndarray) -> np.ndarray:
        """A flat scratch array of ``like``'s dtype with room for the kernels' NumPy twins (``WORKSPACE_SLOTS *
        like.size`` elements, in ``like``'s array module), reused across steps and parameters."""
        xp = get_array_module(like)
        key = (like.dtype, "flat") if xp is np else (like.dtype, "flat", str(like.device))
        buf = self._ws.get(key)
        n = WORKSPACE_SLOTS * like.size
        if buf is None or buf.size < n:
            buf = xp.empty(n, dtype=like.dtype)
            self._ws[key] = buf
        return buf

    @staticmethod
    def _on_kernels(param: Any) -> bool:
        """Whether ``param`` takes the fused steps of :mod:`gradlab.kernels.optim`: a float32/float64 host array
        (GPU arrays keep their own path, other dtypes the optimizer's general code)."""
        return get_array_module(param) is np and param.dtype in _KERNEL_DTYPES

    def _params_with_grad(self, group: dict[str, Any]) -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
        """Yield ``(p, p._data, p.grad._data)`` for the group's parameters that have a gradient."""
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            grad = g._data if isinstance(g, Tensor) else np.asarray(g)
            yield p, p._data, grad

    def _decayed_grad(self, param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool) -> np.ndarray:
        """``(-grad if maximize else grad) + weight_decay * param`` without touching ``grad``.

        Returns ``grad`` itself when there is nothing to do, else workspace slot 0.
        """
        if weight_decay != 0:
            d = self._workspace(param, 0)
            np.multiply(param, weight_decay, out=d)
            if maximize:
                np.subtract(d, grad, out=d)
            else:
                np.add(grad, d, out=d)
            return d
        if maximize:
            d = self._workspace(param, 0)
            np.negative(grad, out=d)
            return d
        return grad

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer state as a dict with ``'state'`` and ``'param_groups'`` (torch's layout).

        Parameters are replaced by their index in the order they appear across the groups. State arrays are
        copies (numpy arrays), so later steps do not change a state dict already taken.
        """
        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start_index
            packed = {k: (list(v) if k == "param_names" else v) for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start_index):
                param_mappings.setdefault(id(p), i)
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state: dict[Any, Any] = {}
        for k, v in self.state.items():
            key = param_mappings[id(k)] if isinstance(k, Tensor) else k
            packed_state[key] = _copy_state(v)
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state produced by :meth:`state_dict` (of an optimizer over parameters of the same shapes).

        Hyper-parameters come from the loaded groups; floating state arrays are cast to their parameter's dtype
        and copied. Tuples that came back as lists (e.g. ``betas`` through JSON) are turned back into tuples.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, but got {_typename(state_dict)}")
        missing = [k for k in ("state", "param_groups") if k not in state_dict]
        if missing:
            raise ValueError(f"loaded state dict is missing the key(s) {missing}; expected 'state' and 'param_groups'")

        groups = self.param_groups
        saved_groups = deepcopy(list(state_dict["param_groups"]))

        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)} saved, {len(groups)} in this optimizer)"
            )
        for i, (g, sg) in enumerate(zip(groups, saved_groups)):
            if "params" not in sg:
                raise ValueError(f"loaded state dict's parameter group {i} has no 'params' entry")
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's group "
                    f"(group {i}: {len(sg['params'])} saved parameters, {len(g['params'])} in this optimizer)"
                )

        id_map: dict[Any, Any] = {}
        for saved_id, param in zip(
            chain.from_iterable(g["params"] for g in saved_groups), chain.from_iterable(g["params"] for g in groups)
        ):
            id_map[_normalize_index(saved_id)] = param

        state = _ParamState()
        for k, v in state_dict["state"].items():
            k = _normalize_index(k)
            if k in id_map:
                param = id_map[k]
                state[param] = _cast_state(param, v, k, shaped=self._param_shaped_state)
            else:
                state[k] = v

        new_groups = []
        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            for key, value in list(new_group.items()):
                if isinstance(group.get(key), tuple) and isinstance(value, list):
                    new_group[key] = tuple(value)
            for key, default in self.defaults.items():  # groups saved by an older version
                if default is not required:
                    new_group.setdefault(key, default)
            new_groups.append(new_group)

        self.state = state
        self.param_groups = new_groups
        self._after_load_state_dict()

    def _after_load_state_dict(self) -> None:
        """Subclass hook run at the end of :meth:`load_state_dict` (as torch's ``__setstate__``)."""
