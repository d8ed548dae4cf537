"""DataLoader: batching, shuffling with a seed, drop_last, len, the vectorised fast path, collation, torch parity."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import gradlab
from gradlab.backend import Generator
from gradlab.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
)


class ListDataset(Dataset):
    """A generic map-style dataset (no fast path): per-item __getitem__ of numpy rows."""

    def __init__(self, x, y):
        self.x, self.y = x, y
        self.calls = 0

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        self.calls += 1
        return self.x[i], int(self.y[i])


def _data(n=10, d=3):
    x = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return x, y


def _labels(loader):
    return [b[1].tolist() for b in loader]


def test_sequential_batches_values_and_types():
    x, y = _data(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(batches) == 3 == len(loader)
    xb, yb = batches[0]
    assert isinstance(xb, gradlab.Tensor) and isinstance(yb, gradlab.Tensor)
    assert xb.shape == (4, 3) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(xb._data, x[:4])
    assert _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


@pytest.mark.parametrize(
    "n,bs,drop_last",
    [(10, 3, False), (10, 3, True), (9, 3, True), (9, 3, False), (2, 5, False), (2, 5, True), (0, 4, False)],
)
def test_len_and_batch_sizes_match_torch(n, bs, drop_last, torch):
    x, y = _data(n)
    ours = DataLoader(TensorDataset(x, y), batch_size=bs, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=bs, drop_last=drop_last
    )
    assert len(ours) == len(theirs)
    assert [len(b[1]) for b in ours] == [len(b[1]) for b in theirs]
    assert _labels(ours) == [b[1].tolist() for b in theirs]


def test_drop_last_drops_only_the_short_batch():
    x, y = _data(10)
    assert _labels(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(TensorDataset(x, y), batch_size=5, drop_last=True)) == 2


def test_shuffle_reproducible_with_generator():
    x, y = _data(50)
    ds = TensorDataset(x, y)
    a = _labels(DataLoader(ds, batch_size=8, shuffle=True, generator=Generator(123)))
    b = _labels(DataLoader(ds, batch_size=8, shuffle=True, generator=Generator(123)))
    c = _labels(DataLoader(ds, batch_size=8, shuffle=True, generator=Generator(124)))
    assert a == b
    assert a != c
    flat = sum(a, [])
    assert sorted(flat) == list(range(50)) and flat != list(range(50))


def test_shuffle_new_order_each_epoch_and_reproducible_sequence():
    x, y = _data(40)
    loader = DataLoader(TensorDataset(x, y), batch_size=40, shuffle=True, generator=Generator(0))
    e1, e2 = _labels(loader), _labels(loader)
    assert e1 != e2
    again = DataLoader(TensorDataset(x, y), batch_size=40, shuffle=True, generator=Generator(0))
    assert [_labels(again), _labels(again)] == [e1, e2]


def test_shuffle_uses_default_generator_when_none_given():
    x, y = _data(30)
    ds = TensorDataset(x, y)
    gradlab.manual_seed(11)
    a = _labels(DataLoader(ds, batch_size=7, shuffle=True))
    gradlab.manual_seed(11)
    b = _labels(DataLoader(ds, batch_size=7, shuffle=True))
    assert a == b


def test_x_and_y_stay_aligned_after_shuffle():
    x, y = _data(25)
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=6, shuffle=True, generator=Generator(2)):
        np.testing.assert_array_equal(xb._data, x[yb._data])


def test_fast_path_equals_generic_path():
    x, y = _data(23)
    fast = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, generator=Generator(9))
    generic_ds = ListDataset(x, y)
    slow = DataLoader(generic_ds, batch_size=5, shuffle=True, generator=Generator(9))
    fb, sb = list(fast), list(slow)
    assert generic_ds.calls == 23
    assert len(fb) == len(sb) == 5
    for (fx, fy), (sx, sy) in zip(fb, sb):
        np.testing.assert_array_equal(fx._data, sx._data)
        np.testing.assert_array_equal(fy._data, sy._data)
        assert fx.dtype == sx.dtype and fy.dtype == sy.dtype


def test_fast_path_does_not_call_getitem():
    class CountingTD(TensorDataset):
        calls = 0

        def __getitem__(self, i):
            CountingTD.calls += 1
            return super().__getitem__(i)

    x, y = _data(100)
    for _ in DataLoader(CountingTD(x, y), batch_size=10, shuffle=True):
        pass
    assert CountingTD.calls == 0


def test_subset_of_tensor_dataset_uses_fast_path_and_right_rows():
    x, y = _data(20)
    sub = Subset(TensorDataset(x, y), [19, 3, 7, 0, 12])
    assert _labels(DataLoader(sub, batch_size=2)) == [[19, 3], [7, 0], [12]]
    nested = Subset(sub, [4, 1])
    assert _labels(DataLoader(nested, batch_size=8)) == [[12, 3]]
    shuffled = sum(_labels(DataLoader(sub, batch_size=2, shuffle=True, generator=Generator(0))), [])
    assert sorted(shuffled) == [0, 3, 7, 12, 19]


def test_batches_do_not_alias_the_dataset():
    x, y = _data(8)
    ds = TensorDataset(x.copy(), y.copy())
    for shuffle in (False, True):
        for xb, _ in DataLoader(ds, batch_size=4, shuffle=shuffle):
            xb._data[...] = -1
    np.testing.assert_array_equal(ds.tensors[0]._data, x)


def test_requires_grad_dataset_tensor_keeps_graph():
    w = gradlab.tensor(np.ones((6, 2), dtype=np.float32), requires_grad=True)
    loader = DataLoader(TensorDataset(w, np.arange(6)), batch_size=4)
    xb, yb = next(iter(loader))
    xb.sum().backward()
    np.testing.assert_array_equal(w.grad._data, np.array([[1, 1]] * 4 + [[0, 0]] * 2, dtype=np.float32))
    w.grad = None
    for xb, yb in DataLoader(TensorDataset(w, np.arange(6)), batch_size=4, shuffle=True, generator=Generator(0)):
        (xb * gradlab.tensor(yb._data.astype(np.float32)).reshape(-1, 1)).sum().backward()
    np.testing.assert_array_equal(w.grad._data, np.repeat(np.arange(6, dtype=np.float32)[:, None], 2, axis=1))


def test_generic_dataset_collates_ints_to_int64():
    x, y = _data(7)
    xb, yb = next(iter(DataLoader(ListDataset(x, y), batch_size=3)))
    assert xb.shape == (3, 3) and xb.dtype == np.float32
    assert yb.dtype == np.int64 and yb.tolist() == [0, 1, 2]


def test_collate_fn_is_used():
    x, y = _data(6)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, collate_fn=lambda batch: len(batch))
    assert list(loader) == [4, 2]


def test_batch_size_none_yields_samples():
    loader = DataLoader(ListDataset(*_data(3)), batch_size=None)
    items = list(loader)
    assert len(loader) == 3 and len(items) == 3
    x0, y0 = items[0]
    assert isinstance(x0, gradlab.Tensor) and x0.shape == (3,)
    assert y0 == 0  # plain ints are left alone by default_convert
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ListDataset(*_data(3)), batch_size=None, drop_last=True)


def test_iterable_dataset_batching():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)
    with pytest.raises(TypeError):
        len(DataLoader(Stream(), batch_size=2))


def test_option_conflicts_raise():
    ds = TensorDataset(*_data(5))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)


def test_num_workers_warns_and_still_loads():
    with pytest.warns(UserWarning, match="num_workers"):
        loader = DataLoader(TensorDataset(*_data(4)), batch_size=2, num_workers=2)
    assert _labels(loader) == [[0, 1], [2, 3]]


def test_custom_sampler_and_batch_sampler():
    ds = TensorDataset(*_data(6))
    assert _labels(DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])) == [[5, 4], [3, 2], [1, 0]]
    assert _labels(DataLoader(ds, batch_sampler=[[0, 5], [2]])) == [[0, 5], [2]]
    generic = ListDataset(*_data(6))
    assert _labels(DataLoader(generic, batch_sampler=[[0, 5], [2]])) == [[0, 5], [2]]
    sub = sum(_labels(DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler([1, 3, 5], generator=Generator(0)))), [])
    assert sorted(sub) == [1, 3, 5]


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    r = RandomSampler(range(10), generator=Generator(0))
    assert sorted(r) == list(range(10)) and len(r) == 10
    rr = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=Generator(0)))
    assert len(rr) == 50 and set(rr) <= {0, 1, 2}
    long = list(RandomSampler(range(4), num_samples=10, generator=Generator(0)))
    assert sorted(long[:4]) == [0, 1, 2, 3] and sorted(long[4:8]) == [0, 1, 2, 3] and len(long) == 10
    w = list(WeightedRandomSampler([0.0, 0.0, 5.0], 6, generator=Generator(0)))
    assert w == [2] * 6
    assert len(BatchSampler(range(10), 4, drop_last=False)) == 3
    assert len(BatchSampler(range(10), 4, drop_last=True)) == 2
    with pytest.raises(ValueError):
        RandomSampler(range(3), num_samples=0)


def test_default_collate_rules():
    Point = collections.namedtuple("Point", "x y")
    out = default_collate([Point(1, 2.5), Point(3, 4.5)])
    assert isinstance(out, Point)
    assert out.x.dtype == np.int64 and out.y.dtype == np.float64  # as torch: Python floats collate to float64
    d = default_collate([{"a": np.float32(1), "s": "u"}, {"a": np.float32(2), "s": "v"}])
    assert d["a"].dtype == np.float32 and d["s"] == ["u", "v"]
    b = default_collate([True, False])
    assert b.dtype == np.bool_ and b.tolist() == [True, False]
    t = default_collate([gradlab.tensor([1.0, 2.0]), gradlab.tensor([3.0, 4.0])])
    assert t.shape == (2, 2)
    nested = default_collate([(np.zeros(2), [1, 2]), (np.ones(2), [3, 4])])
    assert isinstance(nested, list) and nested[1][0].tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_default_collate_matches_torch(torch):
    samples = [(np.full((2, 2), i, dtype=np.float32), i, float(i) / 2) for i in range(3)]
    ours = default_collate(samples)
    theirs = torch.utils.data.default_collate(samples)
    assert type(ours) is type(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a._data, b.numpy())
        assert str(a.dtype) == str(b.dtype).replace("torch.", "")


def test_default_convert():
    out = default_convert((np.arange(2), "s", 3))
    assert isinstance(out, list) and out[0].tolist() == [0, 1] and out[1] == "s" and out[2] == 3


def test_loader_over_list_of_tuples():
    data = [(np.array([i, i], dtype=np.float32), i % 2) for i in range(5)]
    xb, yb = list(DataLoader(data, batch_size=5))[0]
    assert xb.shape == (5, 2) and yb.tolist() == [0, 1, 0, 1, 0]


def test_loader_fast_path_never_indexes_items(monkeypatch):
    # 60k x 784 float32, batch 128: one fancy index per batch, never a per-sample __getitem__ (speed is
    # measured in benchmarks, not asserted here).
    x = np.zeros((60000, 784), dtype=np.float32)
    y = np.zeros(60000, dtype=np.int64)
    ds = TensorDataset(x, y)

    def boom(self, i):
        raise AssertionError("per-item __getitem__ on the fast path")

    monkeypatch.setattr(TensorDataset, "__getitem__", boom)
    loader = DataLoader(ds, batch_size=128, shuffle=True, generator=Generator(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        n = sum(len(yb) for _, yb in loader)
    assert n == 60000


def test_random_sampler_with_replacement_draws_lazily() -> None:
    """torch draws ``num_samples`` lazily: 10**12 samples would need 8 TB as one index array."""
    from gradlab.data import BatchSampler, RandomSampler
    from gradlab.data.sampler import CHUNK

    s = RandomSampler(range(10), replacement=True, num_samples=10**12)
    assert len(s) == 10**12
    it = iter(s)
    first = [next(it) for _ in range(CHUNK + 5)]  # crosses a chunk boundary
    assert all(0 <= i < 10 for i in first)
    batches = iter(BatchSampler(s, batch_size=1000, drop_last=False))
    assert all(len(next(batches)) == 1000 for _ in range(100))


def test_batch_sampler_over_chunks_keeps_every_index_once() -> None:
    from gradlab.data import BatchSampler, RandomSampler

    s = RandomSampler(range(7), num_samples=40)  # several permutations chained
    batches = list(BatchSampler(s, batch_size=6, drop_last=False))
    assert [len(b) for b in batches] == [6] * 6 + [4]
    flat = np.concatenate(batches)
    assert all(sorted(flat[k:k + 7].tolist()) == list(range(7)) for k in range(0, 35, 7))
    assert len(list(BatchSampler(s, batch_size=6, drop_last=True))) == 6
