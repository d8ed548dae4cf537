"""Pipelines from short text, for command lines: ``from_spec("crop,flip,affine")`` builds the augmentation and
``normalizer("auto", data)`` the normalisation (statistics of the training data)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import Compose, Transform
from .affine import RandomAffine
from .conversion import Normalize, SubtractMean
from .geometry import RandomCrop, RandomHorizontalFlip, RandomVerticalFlip
from .noise import GaussianNoise, RandomErasing

__all__ = ["AUGMENTATIONS", "NORMALIZE_MODES", "from_spec", "normalizer", "from_flags"]

# name -> (what its one optional argument means, its default)
AUGMENTATIONS: dict[str, tuple[str, float]] = {
    "crop": ("padding in pixels (random crop back to the image size)", 4),
    "flip": ("probability of a horizontal flip", 0.5),
    "vflip": ("probability of a vertical flip", 0.5),
    "affine": ("maximum rotation in degrees (also shifts up to 10%, scale 0.9-1.1)", 10),
    "erase": ("probability of erasing a random box", 0.5),
    "noise": ("standard deviation of the added Gaussian noise", 0.05),
}

NORMALIZE_MODES = ("none", "auto", "mean-image")


def _build(name: str, arg: float, size: tuple[int, int], fill: Any, generator: Any) -> Transform:
    if name == "crop":
        if arg != int(arg) or arg < 0:
            raise ValueError(f"from_spec: crop's padding should be a non-negative int, got {arg:g}")
        return RandomCrop(size, padding=int(arg), fill=fill, generator=generator)
    if name == "flip":
        return RandomHorizontalFlip(arg, generator=generator)
    if name == "vflip":
        return RandomVerticalFlip(arg, generator=generator)
    if name == "affine":
        return RandomAffine(arg, translate=(0.1, 0.1), scale=(0.9, 1.1), fill=fill, generator=generator)
    if name == "erase":
        return RandomErasing(arg, value=fill, generator=generator)
    return GaussianNoise(sigma=arg, clip=False, generator=generator)


def from_spec(spec: str | Sequence[str] | None, image_size: Sequence[int], fill: Any = 0.0,
              generator: Any = None) -> Compose | None:
    """The augmentation named by ``spec``: comma-separated names of :data:`AUGMENTATIONS`, each with an optional
    ``:value`` (``"crop:2,flip,affine:15"``), applied in that order; ``None``, ``""`` or ``"none"`` give ``None``.

    ``image_size`` is the images' ``(H, W)`` (or ``(C, H, W)``); ``fill`` (a number or one per channel) is the
    value of pixels brought in by padding, warping or erasing: 0 for raw images, ``-mean / std`` for images already
    normalised (black stays black).

    >>> t = from_spec("crop,flip:0.3", image_size=(28, 28))
    >>> [type(s).__name__ for s in t.transforms], t.transforms[1].p
    (['RandomCrop', 'RandomHorizontalFlip'], 0.3)
    """
    if spec is None:
        return None
    parts = [p.strip() for p in (spec.split(",") if isinstance(spec, str) else spec)]
    parts = [p for p in parts if p and p != "none"]
    if not parts:
        return None
    size = tuple(int(s) for s in image_size)[-2:]
    if len(size) != 2:
        raise ValueError(f"from_spec: image_size should be (H, W) or (C, H, W), got {image_size!r}")
    out: list[Transform] = []
    for part in parts:
        name, _, text = part.partition(":")
        if name not in AUGMENTATIONS:
            raise ValueError(f"from_spec: unknown augmentation {name!r}; available: {', '.join(AUGMENTATIONS)}")
        try:
            arg = float(text) if text else float(AUGMENTATIONS[name][1])
        except ValueError:
            raise ValueError(f"from_spec: {name}'s value should be a number ({AUGMENTATIONS[name][0]}), "
                             f"got {text!r}") from None
        out.append(_build(name, arg, (size[0], size[1]), fill, generator))
    return Compose(out)


def normalizer(mode: str | None, data: Any = None) -> Transform | None:
    """The normalisation ``mode`` asks for, its statistics from ``data`` (the training images, see
    ``gradlab.data.compute_mean_std``): ``"auto"`` per-channel ``Normalize``, ``"mean-image"`` ``SubtractMean`` of
    the mean image, ``"none"``/``None`` nothing, or explicit ``"MEAN,STD"`` numbers.

    >>> import numpy as np
    >>> t = normalizer("auto", np.stack([np.zeros((1, 2, 2)), np.ones((1, 2, 2))]))
    >>> t.mean.tolist(), t.std.tolist()
    ([0.5], [0.5])
    >>> normalizer("0.5,0.25").std.tolist()
    [0.25]
    """
    from ..stats import compute_mean_std

    if mode is None or mode == "none":
        return None
    if mode in ("auto", "mean-image"):
        if data is None:
            raise ValueError(f"normalizer: mode {mode!r} needs the training data to compute statistics")
        if mode == "auto":
            mean, std = compute_mean_std(data)
            return Normalize(mean, np.where(std > 0, std, 1.0))
        return SubtractMean(compute_mean_std(data, per="pixel")[0])
    pieces = str(mode).split(",")
    try:
        mean_s, std_s = (float(v) for v in pieces)
    except ValueError:
        raise ValueError(f"normalizer: mode should be one of {NORMALIZE_MODES} or 'MEAN,STD', got {mode!r}") from None
    return Normalize([mean_s], [std_s])


def from_flags(augment: str | Sequence[str] | None, normalize: str | None, train_images: Any,
               generator: Any = None) -> tuple[Transform | None, Compose | None]:
    """``(normalize, augment)`` for command-line flags such as ``--augment crop,flip --normalize auto``.

    ``train_images``: the training split's images ``(N, C, H, W)`` (or ``(N, H, W)``), raw (e.g. in [0, 1]); the
    statistics come from them alone. Apply ``normalize`` once to every split (``normalize.apply_batch(X)``), and
    wrap the training dataset in ``TransformedDataset(train_ds, augment)``: the augmentation runs on normalised
    images, with the pixels it brings in (padding, warps, erasing) set to a normalised black pixel.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((10, 1, 28, 28)).astype(np.float32)
    >>> norm, aug = from_flags("crop,flip", "auto", x)
    >>> type(norm).__name__, [type(t).__name__ for t in aug.transforms]
    ('Normalize', ['RandomCrop', 'RandomHorizontalFlip'])
    >>> round(float(aug.transforms[0].fill[0]), 3) == round(float(-norm.mean[0] / norm.std[0]), 3)
    True
    """
    arr = np.asarray(getattr(train_images, "data", train_images))
    if arr.ndim not in (3, 4):
        raise ValueError(f"from_flags: train_images should be (N, C, H, W) or (N, H, W), got shape {arr.shape}")
    if arr.ndim == 3:
        arr = arr[:, None]
    norm = normalizer(normalize, arr)
    fill: Any = 0.0
    if norm is not None:
        black = np.zeros((1, *arr.shape[1:]), dtype=np.float32)
        fill = norm.apply_batch(black).reshape(arr.shape[1], -1).mean(axis=1)
        fill = [float(v) for v in fill]
    return norm, from_spec(augment, image_size=arr.shape[1:], fill=fill, generator=generator)
