"""Weight initialisation, in place and without recording the graph (``torch.nn.init`` names and formulas).

Every function draws from ``gradlab.backend.rng(generator)``: the default generator unless ``generator=`` is
given, so ``gradlab.manual_seed`` makes initialisation reproducible.

>>> import gradlab
>>> from gradlab.nn import init
>>> w = gradlab.empty(256, 128)
>>> _ = init.kaiming_uniform_(w, nonlinearity="relu")
>>> bound = (6 / 128) ** 0.5  # gain sqrt(2) * sqrt(3 / fan_in)
>>> bool(abs(w.data).max() <= bound)
True
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from gradlab.backend import rng

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
]

_LINEAR_FNS = (
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
)


def calculate_gain(nonlinearity: str, param: Any = None) -> float:
    """The recommended gain for an activation: 1 (linear, conv, sigmoid), 5/3 (tanh), sqrt(2) (relu),
    sqrt(2 / (1 + slope^2)) (leaky_relu, slope = ``param`` or 0.01), 3/4 (selu).

    >>> round(calculate_gain("leaky_relu", 0.2), 4)
    1.3868
    """
    if nonlinearity in _LINEAR_FNS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel): in * receptive field and out * receptive field."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _write(tensor: Any, values: Any) -> Any:
    """Store ``values`` into the tensor's memory (cast to its dtype) as an in-place, unrecorded update."""
    tensor._data[...] = values
    tensor._vc[0] += 1
    return tensor


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Any:
    """Fill with U(a, b).

    >>> import gradlab
    >>> w = uniform_(gradlab.empty(1000), -0.1, 0.1, generator=gradlab.Generator(0))
    >>> -0.1 <= w.min().item() and w.max().item() <= 0.1
    True
    """
    return _write(tensor, rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Any:
    """Fill with N(mean, std^2).

    >>> import gradlab
    >>> w = normal_(gradlab.empty(10000), 0.0, 0.5, generator=gradlab.Generator(0))
    >>> round(w.std().item(), 1)
    0.5
    """
    return _write(tensor, rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(
    tensor: Any, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator: Any = None
) -> Any:
    """Fill with N(mean, std^2) truncated to [a, b] (inverse-CDF sampling, as torch).

    >>> import gradlab
    >>> w = trunc_normal_(gradlab.empty(1000), std=1.0, a=-1.0, b=1.0)
    >>> -1.0 <= w.min().item() and w.max().item() <= 1.0
    True
    """
    from scipy.special import erfinv

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may "
                      "be incorrect.")
    lo, hi = norm_cdf((a - mean) / std), norm_cdf((b - mean) / std)
    u = rng(generator).uniform(2 * lo - 1, 2 * hi - 1, tensor.shape)
    return _write(tensor, np.clip(erfinv(u) * (std * math.sqrt(2.0)) + mean, a, b))


def constant_(tensor: Any, val: float) -> Any:
    """Fill with ``val``.

    >>> import gradlab
    >>> constant_(gradlab.empty(3), 0.5).tolist()
    [0.5, 0.5, 0.5]
    """
    return _write(tensor, val)


def ones_(tensor: Any) -> Any:
    """Fill with ones.

    >>> import gradlab
    >>> ones_(gradlab.empty(2)).tolist()
    [1.0, 1.0]
    """
    return _write(tensor, 1)


def zeros_(tensor: Any) -> Any:
    """Fill with zeros.

    >>> import gradlab
    >>> zeros_(gradlab.empty(2)).tolist()
    [0.0, 0.0]
    """
    return _write(tensor, 0)


def eye_(tensor: Any) -> Any:
    """Fill a 2-D tensor with the identity matrix.

    >>> import gradlab
    >>> eye_(gradlab.empty(2, 3)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def _empty(tensor: Any) -> bool:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op")
        return True
    return False


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    >>> import gradlab
    >>> w = xavier_uniform_(gradlab.empty(30, 20))          # a = sqrt(6 / 50) ~ 0.346
    >>> w.abs().max().item() <= (6 / 50) ** 0.5
    True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    >>> import gradlab
    >>> w = xavier_normal_(gradlab.empty(300, 200), generator=gradlab.Generator(0))   # std = sqrt(2 / 500)
    >>> round(w.std().item(), 2)
    0.06
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Any, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator: Any = None
) -> Any:
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan) (``a``: the leaky-relu slope for the gain).

    >>> import gradlab
    >>> w = kaiming_uniform_(gradlab.empty(64, 27), nonlinearity="relu")   # bound = sqrt(2) * sqrt(3 / 27)
    >>> w.abs().max().item() <= (6 / 27) ** 0.5
    True
    """
    if _empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Any, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator: Any = None
) -> Any:
    """He normal: N(0, std^2) with std = gain / sqrt(fan).

    >>> import gradlab
    >>> w = kaiming_normal_(gradlab.empty(200, 800), nonlinearity="relu", generator=gradlab.Generator(0))
    >>> round(w.std().item(), 2)                            # sqrt(2 / 800)
    0.05
    """
    if _empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """Fill with a (semi-)orthogonal matrix times ``gain``, as torch's: the Q of a QR decomposition of a normal
    matrix (signs fixed by R's diagonal), the dimensions after the first flattened.

    >>> import gradlab
    >>> w = orthogonal_(gradlab.empty(3, 5), generator=gradlab.Generator(0))
    >>> bool(abs(w.numpy() @ w.numpy().T - np.eye(3)).max() < 1e-5)
    True
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tensor.shape))
