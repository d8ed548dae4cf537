r"""Learning-rate schedulers, as ``torch.optim.lr_scheduler``.

Each scheduler follows torch's formulas, including the chainable (recursive) form that ``step()`` uses and the
closed form used when an epoch is passed explicitly. ``state_dict()`` holds every attribute but the optimizer, and
is made of plain numbers, strings, lists and dicts (so :func:`gradlab.io.save_checkpoint` can store it as JSON).

Call ``scheduler.step()`` after ``optimizer.step()``.

Besides torch's schedulers there is :class:`InverseScalingLR`, scikit-learn's ``'invscaling'`` schedule.
"""

from .base import EPOCH_DEPRECATION_WARNING, LRScheduler, _format_param, _group_values
from .cyclic import CosineAnnealingLR, OneCycleLR
from .plateau import ReduceLROnPlateau
from .step import ExponentialLR, InverseScalingLR, LambdaLR, MultiStepLR, PolynomialLR, StepLR

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "OneCycleLR",
    "InverseScalingLR",
]

from .restarts import CosineAnnealingWarmRestarts, CyclicLR  # noqa: E402
from .sequential import ChainedScheduler, SequentialLR  # noqa: E402
from .warmup import ConstantLR, LinearLR, MultiplicativeLR  # noqa: E402

__all__ += ["ConstantLR", "LinearLR", "MultiplicativeLR", "SequentialLR", "CyclicLR", "CosineAnnealingWarmRestarts"]
__all__ += ["ChainedScheduler"]
