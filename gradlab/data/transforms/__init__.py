"""``gradlab.data.transforms``: torchvision's image transforms on numpy images and gradlab Tensors, batched.

Each transform is called on one sample as in torchvision (``t(img)``), or on a whole batch with
``t.apply_batch(batch, generator)``: one vectorised numpy pass in which every image gets its own random
parameters. ``TransformedDataset`` plugs a transform into the ``DataLoader``'s fast path, seeded by the loader's
generator::

    from gradlab.data import DataLoader, TensorDataset
    from gradlab.data.transforms import Compose, RandomCrop, RandomHorizontalFlip, TransformedDataset

    augment = Compose([RandomCrop(28, padding=4), RandomHorizontalFlip()])
    loader = DataLoader(TransformedDataset(TensorDataset(X, y), augment), batch_size=128, shuffle=True,
                        generator=gradlab.Generator(0))

Modules: ``_core`` (protocol, ``Compose``, ``Lambda``), ``conversion`` (``ToTensor``, ``Normalize``,
``SubtractMean``), ``geometry`` (``Pad``, ``CenterCrop``, ``Resize``, crops and flips), ``affine``
(``RandomAffine``), ``noise`` (``RandomErasing``, ``GaussianNoise``), ``functional`` (the batched kernels),
``spec`` (``from_spec``, ``normalizer``, ``from_flags``), ``dataset`` (``TransformedDataset``).
"""

from ._core import Compose, Lambda, RandomTransform, Transform
from .affine import RandomAffine
from .conversion import Normalize, SubtractMean, ToTensor
from .dataset import TransformedDataset
from .geometry import CenterCrop, Pad, RandomCrop, RandomHorizontalFlip, RandomVerticalFlip, Resize
from .noise import GaussianNoise, RandomErasing
from .spec import AUGMENTATIONS, NORMALIZE_MODES, from_flags, from_spec, normalizer

__all__ = [
    "Transform",
    "RandomTransform",
    "Compose",
    "Lambda",
    "ToTensor",
    "Normalize",
    "SubtractMean",
    "Pad",
    "CenterCrop",
    "Resize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "RandomAffine",
    "RandomErasing",
    "GaussianNoise",
    "TransformedDataset",
    "from_spec",
    "normalizer",
    "from_flags",
    "AUGMENTATIONS",
    "NORMALIZE_MODES",
]
