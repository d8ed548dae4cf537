"""``TensorBoard``: a :func:`~gradlab.train.fit` callback writing TensorBoard event files through tensorboardX
(an optional extra: ``pip install tensorboardX``, or ``pip install 'gradlab[monitor]'``).

After every epoch it writes the logged numbers as scalars (``loss``, ``val_accuracy``, ``lr``...), every
``histogram_freq`` epochs a histogram of every parameter (and of its last gradient), and images of the first
convolution's filters. View with ``tensorboard --logdir DIR``.

>>> import pytest, tempfile
>>> _ = pytest.importorskip("tensorboardX")  # the 'monitor' extra
>>> from gradlab import nn, optim
>>> import gradlab
>>> from gradlab.train import fit
>>> model = nn.Sequential(nn.Linear(4, 3))
>>> data = [(gradlab.randn(8, 4), gradlab.randint(0, 3, (8,)))]
>>> tb = TensorBoard(tempfile.mkdtemp())
>>> _ = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), data, epochs=2, callbacks=[tb],
...         progress=False)
>>> any(p.name.startswith("events.out.tfevents") for p in tb.log_dir.iterdir())
True
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from gradlab.train.base import Callback

__all__ = ["TensorBoard", "filter_images"]


def _summary_writer() -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("the TensorBoard callback needs tensorboardX: pip install tensorboardX "
                          "(or pip install 'gradlab[monitor]')") from None
    return SummaryWriter


def filter_images(weight: np.ndarray) -> np.ndarray:
    """The filters of a conv weight ``(out, in, kh, kw)`` as ``(out, 1, kh, kw)`` images in [0, 1] (first input
    channel, each filter scaled to its own range).

    >>> filter_images(np.arange(8.0).reshape(2, 1, 2, 2))[1, 0].tolist()
    [[0.0, 0.3333333333333333], [0.6666666666666666, 1.0]]
    """
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 4:
        raise ValueError(f"expected a conv weight (out, in, kh, kw), got shape {w.shape}")
    f = w[:, :1]
    lo = f.min(axis=(1, 2, 3), keepdims=True)
    span = f.max(axis=(1, 2, 3), keepdims=True) - lo
    return (f - lo) / np.where(span > 0, span, 1.0)


class TensorBoard(Callback):
    """Write scalars, histograms and filter images to ``log_dir`` (see the module docstring).

    ``histogram_freq``: epochs between parameter histograms (0: none); ``images``: draw the first Conv2d's filters.

    >>> TensorBoard("runs/tb", histogram_freq=-1)  # checked before tensorboardX is imported
    Traceback (most recent call last):
        ...
    ValueError: histogram_freq must be >= 0, got -1
    """

    def __init__(self, log_dir: str | os.PathLike, histogram_freq: int = 1, images: bool = True) -> None:
        if histogram_freq < 0:
            raise ValueError(f"histogram_freq must be >= 0, got {histogram_freq}")
        self.log_dir = Path(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.images = images
        self.writer: Any = None
        self._writer_cls = _summary_writer()  # fail early, before training starts

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.writer = self._writer_cls(logdir=str(self.log_dir))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.writer is None:
            return
        step = epoch + 1
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                self.writer.add_scalar(key, float(value), step)
        model = self.model
        if model is not None and self.histogram_freq and step % self.histogram_freq == 0:
            for name, p in model.named_parameters():
                self.writer.add_histogram(f"weights/{name}", np.asarray(p._data), step)
                if p.grad is not None:
                    self.writer.add_histogram(f"grads/{name}", np.asarray(p.grad._data), step)
        if model is not None and self.images:
            conv = next((m for _, m in model.named_modules() if type(m).__name__ == "Conv2d"), None)
            if conv is not None:
                self.writer.add_images("filters/first_conv", filter_images(conv.weight._data), step,
                                       dataformats="NCHW")
        self.writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()

    def on_exception(self, exc: BaseException) -> None:
        self._close()

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
