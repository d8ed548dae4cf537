"""``Tensor`` rounding and integer division as torch's: ``floor``/``ceil``/``round``/``trunc``/``frac`` (and their
in-place forms), ``div(rounding_mode=)``, ``floor_divide`` and ``//``, ``remainder`` and ``%``, ``fmod``.

Operands promote as for ``/`` except that two integer operands stay integer.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gradlab.ops import rounding as Q

__all__ = ["TensorRounding"]


def _pair(a: Any, b: Any) -> tuple:
    from gradlab.tensor_math import promote

    return promote(a, b)


class TensorRounding:
    """Rounding methods and the ``//`` and ``%`` operators.

    >>> import gradlab
    >>> x = gradlab.tensor([-7.5, 7.5])
    >>> (x // 2).tolist(), (x % 2).tolist(), x.div(2, rounding_mode="trunc").tolist()
    ([-4.0, 3.0], [0.5, 1.5], [-3.0, 3.0])
    >>> x.floor().tolist(), x.ceil().tolist(), x.round().tolist(), x.trunc().tolist(), x.frac().tolist()
    ([-8.0, 7.0], [-7.0, 8.0], [-8.0, 8.0], [-7.0, 7.0], [-0.5, 0.5])
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the attributes come from Tensor

        def __getattr__(self, name: str) -> Any: ...

    def floor(self) -> Any:
        return Q.Round.apply(self, "floor")

    def ceil(self) -> Any:
        return Q.Round.apply(self, "ceil")

    def round(self, decimals: int = 0) -> Any:
        return Q.Round.apply(self, "round", decimals)

    def trunc(self) -> Any:
        return Q.Round.apply(self, "trunc")

    def fix(self) -> Any:
        return self.trunc()

    def frac(self) -> Any:
        return Q.Frac.apply(self)

    def floor_(self) -> Any:
        return self._set_inplace(self.floor())

    def ceil_(self) -> Any:
        return self._set_inplace(self.ceil())

    def round_(self, decimals: int = 0) -> Any:
        return self._set_inplace(self.round(decimals))

    def trunc_(self) -> Any:
        return self._set_inplace(self.trunc())

    def _div_rounded(self, other: Any, rounding_mode: str) -> Any:
        a, b = _pair(self, other)
        return Q.DivRounded.apply(a, b, rounding_mode)

    def floor_divide(self, other: Any) -> Any:
        return self._div_rounded(other, "floor")

    def __floordiv__(self, other: Any) -> Any:
        return self._div_rounded(other, "floor")

    def __rfloordiv__(self, other: Any) -> Any:
        a, b = _pair(self, other)
        return Q.DivRounded.apply(b, a, "floor")

    def __ifloordiv__(self, other: Any) -> Any:
        return self._set_inplace(self // other)

    def remainder(self, other: Any) -> Any:
        a, b = _pair(self, other)
        return Q.Remainder.apply(a, b)

    def fmod(self, other: Any) -> Any:
        a, b = _pair(self, other)
        return Q.Fmod.apply(a, b)

    def __mod__(self, other: Any) -> Any:
        return self.remainder(other)

    def __rmod__(self, other: Any) -> Any:
        a, b = _pair(self, other)
        return Q.Remainder.apply(b, a)

    def __imod__(self, other: Any) -> Any:
        return self._set_inplace(self % other)


for _name in ("floor", "ceil", "round", "trunc", "fix", "frac", "floor_", "ceil_", "round_", "trunc_",
              "floor_divide", "remainder", "fmod"):
    getattr(TensorRounding, _name).__doc__ = f"``torch.Tensor.{_name}`` (see the class example)."
del _name
