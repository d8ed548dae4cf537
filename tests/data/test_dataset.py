"""TensorDataset, Subset, ConcatDataset, random_split: sizes, disjointness, reproducibility, torch's rules."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.backend import Generator
from gradlab.data import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split


def test_tensor_dataset_items_and_len():
    x = gradlab.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    y = gradlab.tensor([3, 1, 4, 1])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    xi, yi = ds[2]
    assert isinstance(xi, gradlab.Tensor) and isinstance(yi, gradlab.Tensor)
    assert xi.tolist() == [6.0, 7.0, 8.0]
    assert yi.item() == 4
    assert ds.tensors[0] is x and ds.tensors[1] is y


def test_tensor_dataset_wraps_numpy_without_copy():
    arr = np.arange(6, dtype=np.float32).reshape(3, 2)
    ds = TensorDataset(arr)
    assert isinstance(ds.tensors[0], gradlab.Tensor)
    assert np.shares_memory(ds.tensors[0].data, arr)


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"Size mismatch.*\[5, 4\]"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))


def test_tensor_dataset_rejects_bad_inputs():
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-dimensional"):
        TensorDataset(gradlab.tensor(1.0))
    with pytest.raises(TypeError, match="list"):
        TensorDataset([1, 2, 3])


def test_subset_indexing_and_nesting():
    base = TensorDataset(np.arange(10))
    sub = Subset(base, [9, 2, 5])
    assert len(sub) == 3
    assert sub[0][0].item() == 9
    assert sub[-1][0].item() == 5
    nested = Subset(sub, [2, 0])
    assert [nested[i][0].item() for i in range(2)] == [5, 9]
    # list indices are forwarded in one go (TensorDataset handles a list index through Tensor indexing)
    assert Subset(list("abcd"), [3, 1])[[0, 1]] == ["d", "b"]


def test_concat_dataset():
    ds = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))])
    assert len(ds) == 5
    assert [ds[i][0].item() for i in range(5)] == [0, 1, 2, 10, 11]
    assert ds[-1][0].item() == 11
    with pytest.raises(IndexError):
        ds[5]
    with pytest.raises(IndexError):
        ds[-6]
    both = TensorDataset(np.arange(2)) + TensorDataset(np.arange(3))
    assert isinstance(both, ConcatDataset) and len(both) == 5


def test_dataset_base_is_abstract():
    class NoItems(Dataset):
        pass

    with pytest.raises(NotImplementedError):
        NoItems()[0]
    with pytest.raises(TypeError):
        len(NoItems())

    class Stream(IterableDataset):
        def __iter__(self):
            return iter([1, 2])

    assert list(Stream()) == [1, 2]
    with pytest.raises(TypeError):
        Stream()[0]


@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (10, [0, 10]), (7, [1, 2, 4])])
def test_random_split_int_lengths_disjoint_and_complete(n, lengths):
    parts = random_split(range(n), lengths, generator=Generator(3))
    assert [len(p) for p in parts] == lengths
    all_items = [x for p in parts for x in p]
    assert sorted(all_items) == list(range(n))  # disjoint and covering


@pytest.mark.parametrize(
    "n,fracs", [(10, [0.7, 0.3]), (11, [0.5, 0.5]), (30, [0.3, 0.3, 0.4]), (7, [0.2, 0.2, 0.2, 0.2, 0.2])]
)
def test_random_split_fraction_sizes_match_torch(n, fracs, torch):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = [len(p) for p in random_split(range(n), fracs, generator=Generator(0))]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fracs)]
    assert ours == theirs
    assert sum(ours) == n


def test_random_split_fraction_remainder_round_robin():
    # floor(11 * 0.5) = 5 each, one left over goes to the first split
    assert [len(p) for p in random_split(range(11), [0.5, 0.5], generator=Generator(0))] == [6, 5]


def test_random_split_reproducible_with_generator_and_default_seed():
    a = [list(p) for p in random_split(range(50), [20, 30], generator=Generator(7))]
    b = [list(p) for p in random_split(range(50), [20, 30], generator=Generator(7))]
    c = [list(p) for p in random_split(range(50), [20, 30], generator=Generator(8))]
    assert a == b
    assert a != c
    gradlab.manual_seed(5)
    d = [list(p) for p in random_split(range(50), [20, 30])]
    gradlab.manual_seed(5)
    e = [list(p) for p in random_split(range(50), [20, 30])]
    assert d == e
    assert a[0] != list(range(20))  # actually shuffled


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match=r"fractions summing to 1.*sum 0\.9"):
        random_split(range(10), [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(range(10), [-2, 12])


def test_random_split_zero_length_fraction_warns():
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        parts = random_split(range(2), [0.99, 0.01])
    assert [len(p) for p in parts] == [2, 0]


def test_random_split_of_tensor_dataset_items():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    train, val = random_split(TensorDataset(x, np.arange(10)), [0.8, 0.2], generator=Generator(1))
    ids = sorted(
        [int(train[i][1].item()) for i in range(len(train))] + [int(val[i][1].item()) for i in range(len(val))]
    )
    assert ids == list(range(10))
    xi, yi = val[0]
    np.testing.assert_array_equal(xi.data, x[int(yi.item())])
