"""Random transforms: reproducible from a generator (same seed, same images; the DataLoader's generator reaches
them), parameter distributions as documented, batched application equal to per-image application, and clear
errors for bad arguments and inputs."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.backend import Generator
from gradlab.data import DataLoader, TensorDataset
from gradlab.data import transforms as T
from gradlab.tensor import Tensor


def _batch(n=6, shape=(1, 12, 10), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


RANDOM = {
    "crop": lambda g=None: T.RandomCrop((12, 10), padding=3, generator=g),
    "crop-reflect": lambda g=None: T.RandomCrop(8, padding=(2, 1), padding_mode="reflect", generator=g),
    "hflip": lambda g=None: T.RandomHorizontalFlip(generator=g),
    "vflip": lambda g=None: T.RandomVerticalFlip(0.3, generator=g),
    "affine-nearest": lambda g=None: T.RandomAffine(20, (0.2, 0.1), (0.8, 1.2), shear=5, generator=g),
    "affine-bilinear": lambda g=None: T.RandomAffine(20, (0.2, 0.1), interpolation="bilinear", generator=g),
    "erase": lambda g=None: T.RandomErasing(p=0.7, generator=g),
    "erase-random": lambda g=None: T.RandomErasing(p=0.7, value="random", generator=g),
    "noise": lambda g=None: T.GaussianNoise(sigma=0.2, generator=g),
}


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_same_seed_same_images_and_other_seed_other_images(name):
    x = _batch()
    a = RANDOM[name](Generator(3)).apply_batch(x)
    b = RANDOM[name](Generator(3)).apply_batch(x)
    c = RANDOM[name](Generator(4)).apply_batch(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # the generator passed to apply_batch (the DataLoader's) is used when the transform has none
    np.testing.assert_array_equal(RANDOM[name]().apply_batch(x, Generator(3)), a)


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_batched_application_equals_per_image_application(name):
    x = _batch(n=5)
    t = RANDOM[name]()
    params = t.sample(5, x.shape[1:], np.random.default_rng(1))
    batched = t.apply_params(x, params)
    for i in range(5):
        one = {k: v[i : i + 1] for k, v in params.items()}
        np.testing.assert_array_equal(batched[i], t.apply_params(x[i : i + 1], one)[0])
    # a single image through __call__ draws one set of parameters for it: the same as a batch of one
    single = RANDOM[name](Generator(7))(x[0])
    np.testing.assert_array_equal(single, RANDOM[name](Generator(7)).apply_batch(x[:1])[0])


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_tensor_in_tensor_out(name):
    x = _batch()
    out = RANDOM[name](Generator(0)).apply_batch(Tensor(x))
    assert isinstance(out, Tensor) and out.shape == x.shape[:2] + (out.shape[2], out.shape[3])
    single = RANDOM[name](Generator(0))(Tensor(x[0]))
    assert isinstance(single, Tensor)


def test_uint8_images_keep_their_dtype():
    x = (_batch() * 255).astype(np.uint8)
    for name in ("crop", "hflip", "affine-nearest", "affine-bilinear"):
        assert RANDOM[name](Generator(0)).apply_batch(x).dtype == np.uint8


def _z_ok(count, n, p, z=5.0):
    return abs(count - n * p) <= z * np.sqrt(n * p * (1 - p))


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_flip_rate_is_p(p):
    n = 20000
    flips = T.RandomHorizontalFlip(p).sample(n, (1, 4, 4), np.random.default_rng(0))["flip"]
    assert _z_ok(int(flips.sum()), n, p)
    x = np.arange(2.0)[None, None, :].repeat(n, 0)[:, None]
    out = T.RandomHorizontalFlip(p, generator=Generator(0)).apply_batch(x)
    assert _z_ok(int((out[:, 0, 0, 0] == 1.0).sum()), n, p)


def test_crop_offsets_are_uniform():
    n, pad = 45000, 4
    params = T.RandomCrop(28, padding=pad).sample(n, (1, 28, 28), np.random.default_rng(0))
    for key in ("top", "left"):
        counts = np.bincount(params[key], minlength=2 * pad + 1)
        assert len(counts) == 2 * pad + 1  # offsets 0..2*pad, nothing outside
        assert all(_z_ok(c, n, 1 / (2 * pad + 1)) for c in counts)
    assert abs(np.corrcoef(params["top"], params["left"])[0, 1]) < 0.03


def test_crop_content_is_the_shifted_image():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    t = T.RandomCrop(4, padding=1, generator=Generator(0))
    params = t.sample(1, x.shape[1:], np.random.default_rng(5))
    out = t.apply_params(x, params)[0, 0]
    top, left = int(params["top"][0]), int(params["left"][0])
    padded = np.pad(x[0, 0], 1)
    np.testing.assert_array_equal(out, padded[top : top + 4, left : left + 4])


def test_affine_parameters_in_range():
    t = T.RandomAffine((-10, 30), translate=(0.25, 0.1), scale=(0.9, 1.2), shear=(-5, 5))
    p = t.sample(20000, (1, 20, 40), np.random.default_rng(0))
    assert p["angle"].min() >= -10 and p["angle"].max() <= 30 and abs(p["angle"].mean() - 10) < 0.5
    tx, ty = p["translate"][:, 0], p["translate"][:, 1]
    assert np.array_equal(tx, np.round(tx)) and np.abs(tx).max() <= 10 and np.abs(ty).max() <= 2
    assert set(np.unique(ty).tolist()) == {-2.0, -1.0, 0.0, 1.0, 2.0}
    assert p["scale"].min() >= 0.9 and p["scale"].max() <= 1.2
    assert np.abs(p["shear"][:, 0]).max() <= 5 and (p["shear"][:, 1] == 0).all()


def test_affine_rotation_by_90_turns_the_image():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    t = T.RandomAffine((90, 90))
    np.testing.assert_array_equal(t(x[0])[0], np.rot90(x[0, 0], k=-1))  # clockwise, as torchvision's affine


def test_erasing_rate_and_box_sizes():
    n = 20000
    t = T.RandomErasing(p=0.4, scale=(0.1, 0.2), ratio=(0.5, 2.0))
    p = t.sample(n, (1, 32, 32), np.random.default_rng(0))
    erased = p["height"] > 0
    assert _z_ok(int(erased.sum()), n, 0.4)
    area = (p["height"] * p["width"])[erased] / (32 * 32)
    assert area.min() > 0.07 and area.max() < 0.25 and 0.13 < area.mean() < 0.17
    assert (p["top"] + p["height"] <= 32).all() and (p["left"] + p["width"] <= 32).all()
    out = T.RandomErasing(p=1.0, value=5.0, generator=Generator(0)).apply_batch(np.zeros((50, 1, 32, 32)))
    sizes = (out == 5.0).sum(axis=(1, 2, 3))
    assert (sizes > 0).all()


def test_gaussian_noise_statistics():
    x = np.full((200, 1, 16, 16), 0.5, dtype=np.float32)
    out = T.GaussianNoise(mean=0.1, sigma=0.05, clip=False, generator=Generator(0)).apply_batch(x)
    assert out.dtype == np.float32
    assert abs(out.mean() - 0.6) < 2e-3 and abs(out.std() - 0.05) < 2e-3


def test_dataloader_generator_makes_augmented_epochs_reproducible():
    x = _batch(n=40)
    ds = TensorDataset(x, np.arange(40))
    aug = T.Compose([T.RandomCrop((12, 10), padding=2), T.RandomHorizontalFlip()])

    def epochs(seed):
        loader = DataLoader(T.TransformedDataset(ds, aug), batch_size=16, shuffle=True, generator=Generator(seed))
        return [[b[0].numpy().copy() for b in loader] for _ in range(2)]

    a, b, c = epochs(0), epochs(0), epochs(1)
    for ea, eb in zip(a, b):
        for ba, bb in zip(ea, eb):
            np.testing.assert_array_equal(ba, bb)
    assert not np.array_equal(a[0][0], a[1][0])  # a new draw every epoch
    assert not np.array_equal(a[0][0], c[0][0])


def test_transformed_dataset_fast_path_applies_the_batch_transform_once():
    calls = []

    class Spy(T.Transform):
        def apply(self, arr):
            calls.append(arr.shape)
            return arr + 1

    ds = T.TransformedDataset(TensorDataset(_batch(n=10), np.arange(10)), Spy())
    batches = list(DataLoader(ds, batch_size=4))
    assert calls == [(4, 1, 12, 10), (4, 1, 12, 10), (2, 1, 12, 10)]
    np.testing.assert_allclose(batches[0][0].numpy(), _batch(n=10)[:4] + 1)
    x0, y0 = ds[0]  # per-sample access transforms one sample
    np.testing.assert_allclose(x0.numpy(), _batch(n=10)[0] + 1)
    assert int(y0.item()) == 0


def test_transformed_dataset_on_a_dataset_without_fetcher_uses_per_sample_path():
    samples = [(np.full((1, 2, 2), i, dtype=np.float32), i) for i in range(5)]
    ds = T.TransformedDataset(samples, T.RandomHorizontalFlip(1.0), target_transform=lambda y: y * 10)
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert tuple(xb.shape) == (5, 1, 2, 2) and yb.tolist() == [0, 10, 20, 30, 40]


def test_lambda_batched_and_per_sample():
    x = _batch(n=3)
    per = T.Lambda(lambda a: a[..., :2, :2])
    assert per.apply_batch(x).shape == (3, 1, 2, 2)
    assert T.Lambda(lambda a: a * 2, batched=True).apply_batch(x).shape == x.shape


def test_mnist_style_pipeline_on_raw_uint8_images():
    raw = (np.random.default_rng(0).random((8, 28, 28)) * 255).astype(np.uint8)
    t = T.Compose([T.ToTensor(), T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(), T.Normalize([0.286], [0.353])])
    out = t.apply_batch(raw, Generator(0))
    assert isinstance(out, Tensor) and out.shape == (8, 1, 28, 28) and out.dtype == np.float32
    assert tuple(t(raw[0]).shape) == (1, 28, 28)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("make", [
    lambda: T.Pad(-1), lambda: T.Pad((1, -2)), lambda: T.RandomCrop(5, padding=-1), lambda: T.Pad((1, 2, 3)),
    lambda: T.Pad(1, padding_mode="wrap"), lambda: T.RandomCrop(0), lambda: T.CenterCrop((2, 2, 2)),
    lambda: T.Resize(-3), lambda: T.Resize((4, 4), interpolation="bicubic"),
    lambda: T.Normalize([0.5, 0.5], [0.2, 0.2, 0.2]), lambda: T.Normalize([0.5], [0.0]), lambda: T.Normalize([], []),
    lambda: T.RandomHorizontalFlip(1.5), lambda: T.RandomHorizontalFlip(-0.1), lambda: T.RandomVerticalFlip(2),
    lambda: T.RandomErasing(p=1.1), lambda: T.RandomErasing(scale=(0.5, 0.1)), lambda: T.RandomErasing(value="x"),
    lambda: T.RandomAffine(-5), lambda: T.RandomAffine(5, translate=(1.5, 0)), lambda: T.RandomAffine(5, scale=(0, 1)),
    lambda: T.GaussianNoise(sigma=-1.0),
])
def test_bad_arguments_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_bad_argument_messages_name_the_problem():
    with pytest.raises(ValueError, match="non-negative"):
        T.Pad(-1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        T.RandomHorizontalFlip(p=2)
    with pytest.raises(ValueError, match="mean has 2 values but the image has 3 channels"):
        T.Normalize([0.5, 0.5], [0.2])(np.zeros((3, 4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="larger than the"):
        T.RandomCrop(40)(np.zeros((1, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="unknown augmentation 'rotate'"):
        T.from_spec("crop,rotate", image_size=(28, 28))
    with pytest.raises(ValueError, match="should be smaller than|must be smaller"):
        T.Pad(5, padding_mode="reflect")(np.zeros((1, 4, 4), dtype=np.float32))


@pytest.mark.parametrize("bad,err", [
    (np.zeros(5, dtype=np.float32), ValueError),  # not an image
    (np.zeros((2, 2), dtype=object), TypeError),
    (np.zeros((2, 2), dtype=bool), TypeError),
    ([[0.0, 1.0]], TypeError),  # a list, not an array
])
def test_wrong_image_shape_or_dtype(bad, err):
    with pytest.raises(err):
        T.RandomHorizontalFlip()(bad)
    with pytest.raises(err):
        T.Pad(1)(bad)


def test_float_only_transforms_reject_uint8_and_to_tensor_rejects_tensors():
    u8 = np.zeros((1, 4, 4), dtype=np.uint8)
    with pytest.raises(TypeError, match="floating-point"):
        T.Normalize([0.5], [0.5])(u8)
    with pytest.raises(TypeError, match="floating-point"):
        T.GaussianNoise()(u8)
    with pytest.raises(TypeError, match="numpy array"):
        T.ToTensor()(Tensor(np.zeros((4, 4), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        T.RandomHorizontalFlip().apply_batch(np.zeros((4, 4), dtype=np.float32))


def test_bad_generator_and_compose_arguments():
    with pytest.raises(TypeError, match="generator"):
        T.RandomCrop(4, generator=42)
    with pytest.raises(TypeError, match="not callable"):
        T.Compose([T.ToTensor(), 3])
    with pytest.raises(TypeError, match="list of transforms"):
        T.Compose(T.ToTensor())


def test_resumed_training_with_augmentation_is_bit_identical(tmp_path):
    """The augmentation draws from the loader's generator, which training checkpoints save: resuming reproduces."""
    import gradlab
    from gradlab import nn, optim
    from gradlab.train.loop import fit

    x, y = _batch(n=48), np.arange(48) % 3

    def run(epochs, resume_from=None):
        gradlab.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(120, 3))
        ds = T.TransformedDataset(TensorDataset(x, y), T.Compose([T.RandomCrop((12, 10), padding=2),
                                                                  T.RandomHorizontalFlip()]))
        loader = DataLoader(ds, batch_size=16, shuffle=True, generator=Generator(5))
        opt = optim.SGD(model.parameters(), lr=0.1)
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=epochs, progress=False,
            checkpoint_dir=tmp_path / f"ckpt{epochs}", resume_from=resume_from)
        return [p._data.copy() for p in model.parameters()]

    full = run(3)
    run(1)
    resumed = run(3, resume_from=tmp_path / "ckpt1")
    for a, b in zip(full, resumed):
        np.testing.assert_array_equal(a, b)
