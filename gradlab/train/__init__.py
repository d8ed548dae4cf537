"""Training: :func:`fit` / :func:`evaluate` / :func:`predict`, the :class:`History`, callbacks and checkpoints.

>>> from gradlab.train import fit, EarlyStopping, History
>>> callable(fit), EarlyStopping().monitor, len(History())
(True, 'val_loss', 0)
"""
from gradlab.train.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LRSchedulerCallback,
    ModelCheckpoint,
    ProgressBar,
)
from gradlab.train.checkpoint import (
    has_checkpoint,
    load_training_checkpoint,
    load_weights,
    save_training_checkpoint,
    save_weights,
)
from gradlab.train.history import History, plot_history
from gradlab.train.loop import FitState, NonFiniteLoss, evaluate, fit, predict, train_epoch
from gradlab.train.metrics import METRICS, accuracy, binary_accuracy, get_metric, top_k_accuracy

__all__ = [
    "fit", "evaluate", "predict", "train_epoch", "FitState", "NonFiniteLoss", "History", "plot_history",
    "Callback", "CallbackList", "LambdaCallback", "ProgressBar", "EarlyStopping", "ModelCheckpoint",
    "LRSchedulerCallback", "CSVLogger",
    "save_weights", "load_weights", "save_training_checkpoint", "load_training_checkpoint", "has_checkpoint",
    "METRICS", "accuracy", "binary_accuracy", "top_k_accuracy", "get_metric",
]
