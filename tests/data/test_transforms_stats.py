"""Normalisation statistics (``compute_mean_std``, per channel and the mean image) and the command-line helpers
``from_spec`` / ``normalizer``."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.backend import Generator
from gradlab.data import TensorDataset, compute_mean_std
from gradlab.data import transforms as T
from gradlab.tensor import Tensor


def test_per_channel_equals_numpy_on_arrays_tensors_and_datasets():
    x = np.random.default_rng(0).random((103, 3, 5, 4)) * [[[2.0]], [[1.0]], [[0.5]]]
    mean, std = x.mean(axis=(0, 2, 3)), x.std(axis=(0, 2, 3))
    for data in (x, Tensor(x), TensorDataset(x, np.zeros(103))):
        m, s = compute_mean_std(data, batch_size=10)  # several batches: the merged statistics are exact
        np.testing.assert_allclose(m, mean, rtol=1e-12)
        np.testing.assert_allclose(s, std, rtol=1e-10)


def test_mean_image_and_grayscale():
    x = np.random.default_rng(1).random((50, 6, 7)).astype(np.float32)  # (N, H, W): one channel
    m, s = compute_mean_std(x, per="pixel", batch_size=7)
    assert m.shape == (1, 6, 7)
    np.testing.assert_allclose(m[0], x.mean(axis=0, dtype=np.float64), rtol=1e-6)
    np.testing.assert_allclose(s[0], x.std(axis=0, dtype=np.float64), rtol=1e-5)
    m1, _ = compute_mean_std(x)
    assert m1.shape == (1,)


def test_fashion_mnist_statistics_match_the_published_constants():
    from gradlab.data.datasets import FashionMNIST

    try:
        ds = FashionMNIST(train=True, download=False)
    except FileNotFoundError:
        pytest.skip("Fashion-MNIST files not found")
    mean, std = compute_mean_std(ds)
    assert abs(mean[0] - FashionMNIST.mean) < 5e-4 and abs(std[0] - FashionMNIST.std) < 5e-4


def test_compute_mean_std_errors():
    with pytest.raises(ValueError, match="per"):
        compute_mean_std(np.zeros((2, 3, 3)), per="image")
    with pytest.raises(ValueError, match="images"):
        compute_mean_std(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="empty"):
        compute_mean_std(np.zeros((0, 3, 3)))
    with pytest.raises(TypeError):
        compute_mean_std(42)


def test_from_spec_builds_the_named_pipeline():
    t = T.from_spec("crop:2,flip,affine:15,erase:0.25,noise:0.1,vflip", image_size=(1, 28, 28), fill=-0.8)
    kinds = [type(s).__name__ for s in t.transforms]
    assert kinds == ["RandomCrop", "RandomHorizontalFlip", "RandomAffine", "RandomErasing", "GaussianNoise",
                     "RandomVerticalFlip"]
    crop, flip, affine, erase, noise, _ = t.transforms
    assert crop.size == (28, 28) and crop.padding == (2, 2, 2, 2) and crop.fill == -0.8
    assert flip.p == 0.5 and affine.degrees == (-15.0, 15.0) and affine.fill == -0.8
    assert erase.p == 0.25 and noise.sigma == 0.1
    out = t.apply_batch(np.zeros((4, 1, 28, 28), dtype=np.float32), Generator(0))
    assert out.shape == (4, 1, 28, 28)
    for empty in (None, "", "none", []):
        assert T.from_spec(empty, image_size=(28, 28)) is None


@pytest.mark.parametrize("spec", ["crop:-1", "crop:1.5", "flip:x", "flip:2", "blur"])
def test_from_spec_errors(spec):
    with pytest.raises(ValueError):
        T.from_spec(spec, image_size=(28, 28))


def test_normalizer_modes():
    x = np.random.default_rng(0).random((20, 2, 3, 3)).astype(np.float32)
    auto = T.normalizer("auto", x)
    out = auto.apply_batch(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-4)
    mi = T.normalizer("mean-image", x)
    np.testing.assert_allclose(mi.apply_batch(x).mean(axis=0), 0, atol=1e-6)
    assert T.normalizer("none", x) is None and T.normalizer(None) is None
    assert T.normalizer("0.5,0.2").mean.tolist() == [0.5]
    with pytest.raises(ValueError, match="needs the training data"):
        T.normalizer("auto")
    with pytest.raises(ValueError, match="MEAN,STD"):
        T.normalizer("zscore", x)


def test_from_flags_gives_normalize_and_augment_with_a_black_fill():
    raw = np.random.default_rng(0).random((30, 3, 8, 8)).astype(np.float32)
    norm, aug = T.from_flags("crop:2,affine,erase", "auto", raw)
    mean, std = compute_mean_std(raw)
    np.testing.assert_allclose(norm.mean, mean) and np.testing.assert_allclose(norm.std, std)
    black = (-mean / std).tolist()
    crop, affine, erase = aug.transforms
    np.testing.assert_allclose(crop.fill, black, rtol=1e-6)
    np.testing.assert_allclose(affine.fill, black, rtol=1e-6)
    np.testing.assert_allclose(erase.value, black, rtol=1e-6)
    # a crop of the normalised image equals the normalised crop of the raw image (black padding stays black)
    params = crop.sample(30, raw.shape[1:], np.random.default_rng(1))
    raw_crop = T.RandomCrop(8, padding=2).apply_params(raw, params)
    np.testing.assert_allclose(crop.apply_params(norm.apply_batch(raw), params), norm.apply_batch(raw_crop),
                               rtol=1e-5, atol=1e-5)
    assert T.from_flags(None, "none", raw) == (None, None)
    norm_mi, aug_none = T.from_flags("none", "mean-image", raw[:, 0])
    assert type(norm_mi).__name__ == "SubtractMean" and aug_none is None
    with pytest.raises(ValueError, match="train_images"):
        T.from_flags("crop", "auto", raw[0, 0])
