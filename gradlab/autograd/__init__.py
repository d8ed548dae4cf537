"""Reverse-mode automatic differentiation: ``Function``, the backward engine, grad mode and ``gradcheck``."""
from gradlab.autograd.function import Context, Function
from gradlab.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradlab.autograd.gradcheck import GradcheckError, gradcheck

__all__ = [
    "Function", "Context", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "gradcheck",
    "GradcheckError",
]
