"""Dataset statistics for normalisation: ``compute_mean_std`` (per channel, as VGGNet's preprocessing, or per pixel:
the "mean image" of AlexNet), streamed over batches in float64."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._utils import is_tensor

__all__ = ["compute_mean_std"]


def _batches(data: Any, batch_size: int) -> Any:
    """Numpy batches ``(n, ...)`` of the inputs of ``data`` (an array, a Tensor or a dataset of samples)."""
    if is_tensor(data) or isinstance(data, np.ndarray):
        arr = np.asarray(getattr(data, "data", data))
        for start in range(0, len(arr), batch_size):
            yield arr[start : start + batch_size]
        return
    if not hasattr(data, "__len__") or not hasattr(data, "__getitem__"):
        raise TypeError(f"compute_mean_std expects a dataset, a numpy array or a Tensor, got {type(data).__name__}")
    from .loader import DataLoader  # the fast path (one gather per batch) where the dataset offers it

    for batch in DataLoader(data, batch_size=batch_size):
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        yield np.asarray(getattr(x, "data", x))


def compute_mean_std(data: Any, per: str = "channel", batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The mean and (population) standard deviation of a dataset's images, in float64.

    ``data``: a dataset whose samples are ``(image, ...)`` or images (e.g. ``FashionMNIST()``, a
    ``TensorDataset``), or an array/Tensor of images stacked along axis 0. Images are ``(C, H, W)`` (``(H, W)`` is
    one channel). ``per="channel"``: arrays of shape ``(C,)`` over all images and pixels (for ``Normalize``);
    ``per="pixel"``: the mean image and the per-pixel std, shaped like one image (for ``SubtractMean``).

    >>> import numpy as np
    >>> x = np.stack([np.zeros((2, 2, 2)), np.ones((2, 2, 2))])  # 2 images, 2 channels
    >>> mean, std = compute_mean_std(x)
    >>> mean.tolist(), std.tolist()
    ([0.5, 0.5], [0.5, 0.5])
    >>> compute_mean_std(x, per="pixel")[0].shape
    (2, 2, 2)
    """
    if per not in ("channel", "pixel"):
        raise ValueError(f"compute_mean_std: per should be 'channel' or 'pixel' (the mean image), got {per!r}")
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"compute_mean_std: batch_size should be a positive int, got {batch_size!r}")
    count = 0
    mean: Any = None
    m2: Any = None
    shape = None
    for b in _batches(data, batch_size):
        if b.ndim < 3:
            raise ValueError(f"compute_mean_std expects images (H, W) or (C, H, W), got samples of shape {b.shape[1:]}")
        if b.ndim == 3:
            b = b[:, None]
        if shape is not None and b.shape[1:] != shape:
            raise ValueError(f"compute_mean_std: images of different shapes {shape} and {b.shape[1:]}")
        shape = b.shape[1:]
        b = b.astype(np.float64, copy=False)
        axes = (0, *range(2, b.ndim)) if per == "channel" else (0,)
        n = b.size // int(np.prod([b.shape[a] for a in range(b.ndim) if a not in axes]))
        b_mean = b.mean(axis=axes)
        b_m2 = ((b - np.expand_dims(b_mean, axes)) ** 2).sum(axis=axes)
        if mean is None:
            mean, m2, count = b_mean, b_m2, n
        else:  # Chan et al.'s merge of two (count, mean, M2) summaries: stable in one pass
            delta = b_mean - mean
            total = count + n
            mean = mean + delta * (n / total)
            m2 = m2 + b_m2 + delta**2 * (count * n / total)
            count = total
    if mean is None:
        raise ValueError("compute_mean_std: the dataset is empty")
    return np.asarray(mean), np.sqrt(np.asarray(m2) / count)
