"""Fixtures for the command-line tests: a tiny registered dataset (``--dataset toy``), quick to train on."""

from __future__ import annotations

import numpy as np
import pytest


def toy_arrays(train: bool, n: int = 240, nan_in_test: bool = False):
    """Gaussian blobs, 8 features, 3 classes (train and test drawn from the same centres)."""
    rng = np.random.default_rng(0 if train else 1)
    centres = np.random.default_rng(42).normal(0, 2.5, size=(3, 8))
    y = rng.integers(0, 3, size=n if train else 90)
    x = (centres[y] + rng.normal(size=(len(y), 8))).astype(np.float32)
    if nan_in_test and not train:
        x[7] = np.nan
    return x, y.astype(np.int64), {"input_shape": [8], "num_classes": 3}


@pytest.fixture
def toy_dataset():
    """Registers ``toy`` (and ``toy-nan``: its test split holds a NaN sample) for ``gradlab train --dataset``."""
    from gradlab.train import experiment

    experiment.register_dataset("toy", lambda train=True, root=None: toy_arrays(train))
    experiment.register_dataset("toy-nan", lambda train=True, root=None: toy_arrays(train, nan_in_test=True))
    try:
        yield "toy"
    finally:
        del experiment.DATASETS["toy"], experiment.DATASETS["toy-nan"]


TOY_TRAIN = ["train", "--dataset", "toy", "--hidden", "16", "--epochs", "2", "--batch-size", "32", "--no-progress"]
