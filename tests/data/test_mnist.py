"""MNIST / Fashion-MNIST from the shared IDX files: shapes, labels, class counts, fast paths, lookup order."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

import gradlab
from gradlab.data import DataLoader, Subset
from gradlab.data.datasets import MNIST, FashionMNIST
from gradlab.data.datasets import mnist as mnist_mod

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
if not (SHARED / "mnist" / "train-images-idx3-ubyte.gz").is_file():
    SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
pytestmark = pytest.mark.skipif(
    not (SHARED / "mnist" / "train-images-idx3-ubyte.gz").is_file(), reason="shared/datasets is not present"
)

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch, tmp_path):
    monkeypatch.delenv("GRADLAB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # an empty download cache: nothing may be downloaded


@pytest.fixture(scope="module")
def mnist_test():
    return MNIST(train=False, download=False)


def test_mnist_train_full_load():
    ds = MNIST(train=True, download=False)
    assert ds.data.shape == (60000, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.shape == (60000,) and ds.targets.dtype == np.int64
    assert len(ds) == 60000
    assert ds.targets[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(ds.targets, minlength=10).tolist() == TRAIN_COUNTS
    assert ds.folder_path.resolve() == (SHARED / "mnist").resolve()
    img, label = ds[0]
    assert isinstance(img, gradlab.Tensor) and img.shape == (1, 28, 28) and img.dtype == np.float32
    assert label == 5 and isinstance(label, int)
    np.testing.assert_array_equal(img.data[0], ds.data[0].astype(np.float32) / np.float32(255))
    assert 0.0 <= img._data.min() and img._data.max() == 1.0
    assert not ds.data.flags.writeable  # shared between instances
    X, y = ds.as_tensors(flatten=True)
    assert X.shape == (60000, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X.data[1], ds.data[1].reshape(-1) / np.float32(255))
    hist = np.bincount(ds.data.ravel(), minlength=256)  # exact pixel statistics, cheaply
    values = np.arange(256) / 255.0
    mean = (hist * values).sum() / hist.sum()
    std = np.sqrt((hist * (values - mean) ** 2).sum() / hist.sum())
    assert abs(mean - MNIST.mean) < 1e-4 and abs(std - MNIST.std) < 1e-4


def test_mnist_test_split(mnist_test):
    assert mnist_test.data.shape == (10000, 28, 28)
    assert np.bincount(mnist_test.targets, minlength=10).tolist() == TEST_COUNTS
    assert mnist_test.classes[7] == "7 - seven" and mnist_test.class_to_idx["3 - three"] == 3
    assert "Split: Test" in repr(mnist_test)


def test_fashion_mnist_test_split():
    ds = FashionMNIST(train=False, download=False)
    assert ds.data.shape == (10000, 28, 28)
    assert np.bincount(ds.targets, minlength=10).tolist() == [1000] * 10
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    assert ds.folder_path.name == "fashion-mnist"


def test_as_tensors_variants(mnist_test):
    X, y = mnist_test.as_tensors()
    assert X.shape == (10000, 1, 28, 28) and X.dtype == np.float32
    raw, _ = mnist_test.as_tensors(normalize=False)
    assert raw.dtype == np.uint8 and raw.shape == (10000, 1, 28, 28) and raw._data.flags.writeable
    np.testing.assert_array_equal(raw.data[:, 0], mnist_test.data)
    s, _ = mnist_test.as_tensors(standardize=True, flatten=True)
    np.testing.assert_allclose(s._data, (X._data.reshape(10000, -1) - MNIST.mean) / MNIST.std, rtol=1e-5, atol=1e-5)
    y._data[0] = 99  # a copy: the dataset is unchanged
    assert mnist_test.targets[0] == 7


def test_loader_over_mnist_matches_items(mnist_test):
    idx = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
    sub = Subset(mnist_test, idx)
    batches = list(DataLoader(sub, batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 3]
    xb = np.concatenate([b[0]._data for b in batches])
    yb = np.concatenate([b[1]._data for b in batches])
    assert xb.shape == (11, 1, 28, 28) and yb.dtype == np.int64
    for k, i in enumerate(idx):
        img, label = mnist_test[i]
        np.testing.assert_array_equal(xb[k], img._data)
        assert yb[k] == label
    # the whole test split through the fast path, shuffled
    n = sum(len(b[1]) for b in DataLoader(mnist_test, batch_size=1000, shuffle=True))
    assert n == 10000


def test_transforms_receive_raw_uint8(mnist_test):
    ds = MNIST(train=False, download=False, transform=lambda a: (a.dtype, a.shape), target_transform=lambda t: -t)
    (dtype, shape), target = ds[0]
    assert dtype == np.uint8 and shape == (28, 28) and target == -7
    summed = MNIST(train=False, download=False, transform=lambda a: a.astype(np.float32).sum())
    xb, yb = next(iter(DataLoader(summed, batch_size=3)))  # no fast path with a transform: per-item + collate
    np.testing.assert_allclose(xb.data, mnist_test.data[:3].reshape(3, -1).sum(1).astype(np.float32))


def test_md5_verified_once_per_process(monkeypatch, mnist_test):
    calls = []
    real = hashlib.md5

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(mnist_mod.hashlib, "md5", counting)
    MNIST(train=False, download=False)
    assert calls == []  # the module-scoped load already verified these files


def test_gradlab_data_env_and_root_take_precedence(monkeypatch, tmp_path):
    direct = tmp_path / "env"
    direct.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        os.symlink(SHARED / "mnist" / name, direct / name)  # files directly in the folder are accepted
    monkeypatch.setenv("GRADLAB_DATA", str(direct))
    assert MNIST(train=False, download=False).folder_path == direct
    root = tmp_path / "root"
    (root / "mnist").mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        os.symlink(SHARED / "mnist" / name, root / "mnist" / name)
    assert MNIST(root=root, train=False, download=False).folder_path == root / "mnist"


def test_corrupt_copy_in_root_is_an_error_not_replaced_by_another_copy(tmp_path):
    root = tmp_path / "root"
    (root / "mnist").mkdir(parents=True)
    (root / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"not the file")
    (root / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not the file")
    with pytest.raises(ValueError, match=r"(?s)corrupt or wrong dataset files in root.*t10k-images.*MD5 mismatch"):
        MNIST(root=root, train=False, download=False)
    ds = MNIST(train=False, download=False)  # without root the other places are searched
    assert ds.folder_path.resolve() == (SHARED / "mnist").resolve()


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
@pytest.mark.parametrize("download", [True, False])
def test_nonexistent_root_fails_naming_it(tmp_path, cls, download):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(FileNotFoundError, match=f"root {missing} does not exist"):
        cls(root=missing, train=False, download=download)
    assert not missing.exists()
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        cls(root=afile, train=False, download=download)


def test_empty_root_does_not_fall_back(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        MNIST(root=tmp_path, train=False, download=False)
    assert str(tmp_path / "mnist") in str(err.value) and str(SHARED) not in str(err.value)


def test_data_dir_of_the_training_commands_fails_naming_the_folder(tmp_path):
    from gradlab.train.experiment import load_dataset

    with pytest.raises(FileNotFoundError, match=str(tmp_path / "typo")):
        load_dataset("mnist", train=False, root=str(tmp_path / "typo"))


def test_search_dirs_order(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADLAB_DATA", str(tmp_path / "env"))
    dirs = [str(d) for d in FashionMNIST.search_dirs(tmp_path / "r")]
    assert dirs == [str(tmp_path / "r" / "fashion-mnist"), str(tmp_path / "r")]  # root: nowhere else
    dirs = [str(d) for d in FashionMNIST.search_dirs()]
    assert dirs[0] == str(tmp_path / "env" / "fashion-mnist") and dirs[1] == str(tmp_path / "env")
    assert str(SHARED.resolve() / "fashion-mnist") in [str(Path(d).resolve()) for d in dirs[2:-1]]
    assert dirs[-1] == str(tmp_path / "home" / ".cache" / "gradlab" / "fashion-mnist")
