"""one_hot against torch.nn.functional.one_hot: values, shapes, dtype, class-count inference, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.data import one_hot


@pytest.mark.parametrize(
    "labels,num_classes",
    [([0, 2, 1, 2], -1), ([3], 5), ([[0, 1], [1, 0]], -1), ([[0, 4, 2]], 6), ([], 3), (2, 4)],
)
def test_one_hot_matches_torch(labels, num_classes, torch):
    arr = np.array(labels, dtype=np.int64)
    ours = one_hot(gradlab.tensor(arr), num_classes=num_classes)
    theirs = torch.nn.functional.one_hot(torch.from_numpy(arr), num_classes=num_classes)
    assert isinstance(ours, gradlab.Tensor)
    assert ours.dtype == np.int64
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_one_hot_accepts_numpy_and_other_int_dtypes():
    out = one_hot(np.array([1, 0], dtype=np.uint8), 3)
    assert out.tolist() == [[0, 1, 0], [1, 0, 0]] and out.dtype == np.int64


def test_one_hot_errors():
    with pytest.raises(ValueError, match="non-negative"):
        one_hot(gradlab.tensor([0, -1]))
    with pytest.raises(ValueError, match="smaller than num_classes"):
        one_hot(gradlab.tensor([0, 3]), num_classes=3)
    with pytest.raises(ValueError, match="empty"):
        one_hot(gradlab.tensor(np.zeros(0, dtype=np.int64)))
    with pytest.raises(TypeError, match="index"):
        one_hot(gradlab.tensor([0.0, 1.0]))
