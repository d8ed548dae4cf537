"""A run's input preprocessing: ``--normalize`` (statistics from the training split, stored in the run's config so
evaluation applies the same) and ``--augment`` (random transforms of the training batches, seeded by the loader).

``normalize``: ``"dataset"`` (default: the dataset's published mean and std, as gradlab always did), ``"auto"``
(per-channel mean and std of the training split), ``"mean-image"`` (subtract the training split's mean image, as
AlexNet did), ``"none"`` (raw pixels in [0, 1]) or ``"MEAN,STD"``. ``augment``: names of
:data:`gradlab.data.transforms.AUGMENTATIONS` (``"crop,flip,affine"``), or ``None``.

>>> import numpy as np
>>> x = np.random.default_rng(0).random((20, 1, 4, 4)).astype(np.float32)
>>> stats = normalize_stats("auto", x)
>>> stats["kind"], round(float(apply_normalization(stats, x).mean()), 6) == 0.0
('channel', True)
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NORMALIZE_MODES", "normalize_stats", "apply_normalization", "augmentation", "check_preprocessing"]

NORMALIZE_MODES = ("dataset", "auto", "mean-image", "none")


def check_preprocessing(normalize: str | None, augment: str | None) -> None:
    """ValueError naming the option for a ``normalize`` mode or ``augment`` list gradlab does not know.

    >>> check_preprocessing("auto", "crop,flip")
    >>> check_preprocessing("zscore", None)
    Traceback (most recent call last):
    ValueError: normalize 'zscore': expected one of dataset, auto, mean-image, none, or MEAN,STD numbers
    """
    from gradlab.data.transforms import from_spec

    if normalize is not None and normalize not in NORMALIZE_MODES:
        parts = normalize.split(",")
        try:
            ok = len(parts) == 2 and float(parts[1]) > 0 and np.isfinite([float(p) for p in parts]).all()
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"normalize {normalize!r}: expected one of {', '.join(NORMALIZE_MODES)}, or MEAN,STD "
                             "numbers")
    if augment:
        from_spec(augment, image_size=(8, 8))  # raises naming an unknown augmentation or a bad value


def normalize_stats(mode: str | None, train_images: np.ndarray) -> dict[str, Any] | None:
    """The statistics of ``mode`` over raw training images ``(N, C, H, W)``, JSON-able (stored in ``config.json``);
    None for ``"none"``.

    >>> normalize_stats("0.5,0.25", np.zeros((2, 1, 2, 2)))
    {'kind': 'channel', 'mean': [0.5], 'std': [0.25]}
    """
    from gradlab.data.transforms import Normalize, normalizer

    norm: Any = normalizer(mode, train_images)
    if norm is None:
        return None
    if isinstance(norm, Normalize):
        return {"kind": "channel", "mean": [float(v) for v in norm.mean], "std": [float(v) for v in norm.std]}
    return {"kind": "image", "mean": np.asarray(norm.mean, dtype=np.float64).tolist(),
            "std": None if norm.std is None else np.asarray(norm.std, dtype=np.float64).tolist()}


def _transform(stats: dict[str, Any]) -> Any:
    from gradlab.data.transforms import Normalize, SubtractMean

    if stats.get("kind") == "channel":
        return Normalize(stats["mean"], stats["std"])
    if stats.get("kind") == "image":
        return SubtractMean(np.asarray(stats["mean"]), None if stats.get("std") is None else np.asarray(stats["std"]))
    raise ValueError(f"normalize_stats: unknown kind {stats.get('kind')!r} (expected 'channel' or 'image')")


def apply_normalization(stats: dict[str, Any] | None, images: np.ndarray) -> np.ndarray:
    """``images`` ``(N, C, H, W)`` normalised with stored ``stats`` (unchanged for None), as float32 numpy.

    >>> apply_normalization({"kind": "channel", "mean": [1.0], "std": [2.0]}, np.full((1, 1, 1, 2), 3.0)).tolist()
    [[[[1.0, 1.0]]]]
    """
    if stats is None:
        return np.asarray(images, dtype=np.float32)
    return np.asarray(_transform(stats).apply_batch(np.asarray(images, dtype=np.float32)), dtype=np.float32)


def augmentation(augment: str | None, image_shape: tuple, black: Any) -> Any:
    """The ``augment`` pipeline for images of ``image_shape`` ``(C, H, W)``; ``black`` is the value (one per channel)
    of a black pixel after normalisation, given to the pixels padding, warping and erasing bring in.

    >>> [type(t).__name__ for t in augmentation("crop,flip", (1, 28, 28), [0.0]).transforms]
    ['RandomCrop', 'RandomHorizontalFlip']
    """
    from gradlab.data.transforms import from_spec

    return from_spec(augment, image_size=image_shape, fill=[float(b) for b in np.ravel(black)])
