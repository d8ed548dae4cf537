"""Reverse-mode automatic differentiation: ``Function``, the backward engine, grad mode, anomaly mode, ``gradcheck``."""
from gradlab.autograd.anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from gradlab.autograd.function import Context, Function
from gradlab.autograd.grad_api import backward, grad
from gradlab.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from gradlab.autograd.gradcheck import GradcheckError, gradcheck
from gradlab.autograd.variable import Variable

__all__ = [
    "Function", "Context", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "gradcheck",
    "GradcheckError", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
    "inference_mode", "is_inference_mode_enabled", "Variable", "grad", "backward",
]
