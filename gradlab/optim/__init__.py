"""Optimizers and learning-rate schedulers, as ``torch.optim``.

>>> import gradlab
>>> from gradlab import optim
>>> w = gradlab.tensor([1.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1)
>>> sched = optim.lr_scheduler.StepLR(opt, step_size=10)
>>> type(sched).__name__
'StepLR'
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "lr_scheduler"]

from .adadelta import Adadelta  # noqa: E402
from .adamax import Adamax  # noqa: E402
from .lbfgs import LBFGS  # noqa: E402
from .nadam import NAdam  # noqa: E402
from .radam import RAdam  # noqa: E402

__all__ += ["Adadelta", "Adamax", "LBFGS", "NAdam", "RAdam"]
