"""``gradlab.data``: datasets, samplers and the ``DataLoader`` (the ``torch.utils.data`` interface), plus ready
datasets in :mod:`gradlab.data.datasets` (MNIST, Fashion-MNIST, the TF-playground toy sets) and ``one_hot``.

Whole-dataset training in a few lines::

    from gradlab.data import DataLoader, TensorDataset
    from gradlab.data.datasets import MNIST

    X, y = MNIST(train=True).as_tensors(flatten=True)      # float32 (60000, 784) in [0, 1], int64 (60000,)
    loader = DataLoader(TensorDataset(X, y), batch_size=128, shuffle=True)
    for xb, yb in loader:
        ...
"""

from . import datasets, transforms
from .collate import default_collate, default_convert
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .datasets import MNIST, FashionMNIST
from .distributed import DistributedSampler
from .functional import one_hot
from .loader import DataLoader
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .stats import compute_mean_std

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "DataLoader",
    "default_collate",
    "default_convert",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DistributedSampler",
    "one_hot",
    "compute_mean_std",
    "transforms",
    "datasets",
    "MNIST",
    "FashionMNIST",
]
