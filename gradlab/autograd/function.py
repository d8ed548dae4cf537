"""``Function`` (an op's forward and backward side by side) and ``Context`` (a node of the graph)."""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from gradlab import backend
from gradlab.autograd.grad_mode import _enabled

__all__ = ["Function", "Context", "AccumulateGrad", "NodeName"]

# The Tensor class, filled in by gradlab.tensor once it is defined (the two modules need each other).
Tensor: Any = None


def _check_devices(args: tuple) -> None:
    """Raise torch's error when tensor arguments live on different devices (only checked once CuPy is in use)."""
    first = None
    for a in args:
        if isinstance(a, Tensor):
            if first is None:
                first = a
            elif a.device != first.device:
                raise RuntimeError(
                    f"Expected all tensors to be on the same device, but found at least two devices, "
                    f"{first.device} and {a.device}!"
                )


#: torch's names for the ops whose gradlab class name differs (the rest are ``<ClassName>Backward0``).
_TORCH_NAMES = {
    "ReLU": "Relu", "LeakyReLU": "LeakyRelu", "GELU": "Gelu", "ELU": "Elu", "SiLU": "Silu", "MaxAll": "Max",
    "MaxDim": "Max", "Reshape": "View", "GetItem": "Index", "IndexPut": "IndexPut", "Cast": "ToCopy", "MatMul": "Mm",
    "Linear": "Addmm", "CrossEntropy": "NllLoss", "NLLLoss": "NllLoss", "BCEWithLogits": "BinaryCrossEntropyWithLogits",
    "BCELoss": "BinaryCrossEntropy", "Conv2d": "Convolution", "ConvTranspose2d": "Convolution", "Pad": "ConstantPadNd",
}


class NodeName(str):
    """A graph node's torch-style name (``"AddBackward0"``) that can also be called, as torch's ``name()``.

    >>> NodeName("AddBackward0")(), NodeName("AddBackward0") == "AddBackward0"
    ('AddBackward0', True)
    """

    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


class AccumulateGrad:
    """The node that ``next_functions`` shows for a leaf tensor requiring grad (its ``variable``), as torch's.

    >>> import gradlab
    >>> w = gradlab.ones(2, requires_grad=True)
    >>> node = (w * 2).grad_fn.next_functions[0][0]
    >>> node.name(), node.variable is w
    ('AccumulateGrad', True)
    """

    __slots__ = ("_ref", "__weakref__")

    def __init__(self, variable: Any) -> None:
        self._ref = weakref.ref(variable)

    @property
    def variable(self) -> Any:
        """The leaf tensor whose ``.grad`` this node accumulates into."""
        return self._ref()

    @classmethod
    def of(cls, variable: Any) -> AccumulateGrad:
        """The one node of a leaf tensor (the same object every time, as torch)."""
        node = _ACCUMULATE.get(id(variable))
        if node is None or node.variable is not variable:
            node = _ACCUMULATE[id(variable)] = cls(variable)
            weakref.finalize(variable, _ACCUMULATE.pop, id(variable), None)
        return node

    @property
    def name(self) -> NodeName:
        return NodeName("AccumulateGrad")

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


_ACCUMULATE: dict[int, AccumulateGrad] = {}  # by id of the leaf; an entry leaves with its tensor


class Context:
    """What one op call remembers for backward; also the graph node of the op's output.

    ``next`` holds, per forward argument, the node to send its gradient to: a ``Context`` for a
    computed tensor, the ``Tensor`` itself for a leaf that requires grad, or None.

    >>> import gradlab
    >>> y = gradlab.tensor([1.0, 2.0], requires_grad=True).exp()
    >>> ctx = y.grad_fn
    >>> ctx, ctx.name, ctx.needs_input_grad
    (<ExpBackward0>, 'ExpBackward0', (True,))
    """

    __slots__ = ("fn", "next", "needs_input_grad", "_saved", "_checks", "hooks", "freed", "__dict__")

    if TYPE_CHECKING:  # ops keep arbitrary attributes on their ctx (ctx.meta, ctx.shapes, ...)

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    def __init__(self) -> None:
        self._saved: tuple[Any, ...] = ()
        self._checks: tuple[Any, ...] = ()
        self.next: tuple[Any, ...] = ()
        self.hooks: list | None = None
        self.freed = False

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; an in-place change of an input or output saved here is detected."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        if self.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or to use saved values after they were "
                "freed). Saved intermediate values are freed after .backward(); pass retain_graph=True the first "
                "time if you need to backward through the graph again."
            )
        for vc, version, shape in self._checks:
            if vc[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: a tensor of shape {shape} saved by {self.fn.__name__} is at version "
                    f"{vc[0]}; expected version {version} instead."
                )
        return self._saved

    @property
    def name(self) -> NodeName:
        """torch's name for this node (``"MulBackward0"``); callable too: ``grad_fn.name()``."""
        n = self.fn.__name__
        return NodeName(_TORCH_NAMES.get(n, n) + "Backward0")

    @property
    def next_functions(self) -> tuple:
        """One ``(node, 0)`` pair per forward argument, as torch: the argument's ``grad_fn``, an ``AccumulateGrad``
        for a leaf that requires grad, or ``None``.

        >>> import gradlab
        >>> x = gradlab.ones(2, requires_grad=True)
        >>> y = (x * 2 + 1).sum()
        >>> y.grad_fn.name(), y.grad_fn.next_functions[0][0].name
        ('SumBackward0', 'AddBackward0')
        """
        out: list[tuple[Any, int]] = []
        for n in self.next:
            if n is None or isinstance(n, Context):
                out.append((n, 0))
            else:
                out.append((AccumulateGrad.of(n), 0))
        return tuple(out)

    def __repr__(self) -> str:
        return f"<{self.name}>"

    def free(self) -> None:
        self._saved = ()
        self._checks = ()
        self.next = ()
        self.freed = True
        self.__dict__.clear()


class Function:
    """Base of every differentiable op: subclass it with static ``forward`` and ``backward``.

    Tensor arguments reach ``forward`` as arrays; ``backward(ctx, grad)`` returns one gradient (array
    or None) per forward argument.

    >>> import numpy as np, gradlab
    >>> class Square(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * grad
    >>> t = gradlab.tensor([3.0], requires_grad=True)
    >>> Square.apply(t).sum().backward()
    >>> t.grad.tolist()
    [6.0]
    """

    #: True for ops whose output may be a view of their first input: the two then share a version counter,
    #: so an in-place change through either is seen by saved-tensor checks on the other.
    is_view = False

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        raw = []
        needs = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                raw.append(a._data)
                r = a.requires_grad
                needs.append(r)
                record = record or r
            else:
                raw.append(a)
                needs.append(False)
        record = record and _enabled[0]
        if backend._cp is not None:  # a GPU is in use: every tensor argument must be on one device
            _check_devices(args)
        ctx = Context()
        ctx.needs_input_grad = tuple(needs)
        out = cls.forward(ctx, *raw, **kwargs)
        t = Tensor._make(out, record)
        if cls.is_view and isinstance(args[0], Tensor) and out.base is not None:
            t._vc = args[0]._vc
        if record:
            ctx.fn = cls
            ctx.next = tuple(
                ((a.grad_fn or a) if n else None) for a, n in zip(args, needs)
            )
            t.grad_fn = ctx
            if ctx._saved:
                checks = []
                for s in ctx._saved:
                    if s is out:
                        checks.append((t._vc, t._vc[0], out.shape))
                        continue
                    for a in args:
                        if isinstance(a, Tensor) and a._data is s:
                            checks.append((a._vc, a._vc[0], s.shape))
                            break
                ctx._checks = tuple(checks)
        return t
